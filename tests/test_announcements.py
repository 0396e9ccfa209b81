"""Queue announcements: position exact, wait in whole minutes, never promised longer
without a cause, at intervals."""

from __future__ import annotations

import math

import pytest

from call_routing.acd.announcements import Announcement, Announcer, wait_minutes


def test_wait_is_rounded_up_to_whole_minutes() -> None:
    assert wait_minutes(0) == 0 and wait_minutes(59.9) == 0  # 不到1分钟
    assert wait_minutes(60) == 1 and wait_minutes(61) == 2 and wait_minutes(179) == 3
    assert wait_minutes(math.inf) is None


def test_first_at_once_then_every_interval() -> None:
    announcer = Announcer(every_s=30)
    assert announcer.due_at() is None
    assert announcer.consider(5, 250, 10.0) == Announcement(5, 5)
    assert announcer.due_at() == 40.0
    assert announcer.consider(4, 200, 39.9) is None
    assert announcer.consider(4, 200, 40.0) == Announcement(4, 4)
    assert announcer.last == Announcement(4, 4)


def test_a_longer_wait_is_not_announced_unless_the_position_got_worse() -> None:
    announcer = Announcer(every_s=20)
    assert announcer.consider(3, 100, 0.0) == Announcement(3, 2)
    # same position, the estimate grew (e.g. an agent logged out): say the same
    assert announcer.consider(3, 400, 20.0) == Announcement(3, 2)
    assert announcer.consider(2, 30, 40.0) == Announcement(2, 0)
    assert announcer.consider(2, 90, 60.0) == Announcement(2, 0)  # still 不到1分钟
    # a priority caller came in ahead: position worse, the longer wait may be said
    assert announcer.consider(3, 150, 80.0) == Announcement(3, 3)
    # then lower again is always fine
    assert announcer.consider(1, 20, 100.0) == Announcement(1, 0)


def test_unknown_wait_says_position_only_and_zero_interval_never_announces() -> None:
    announcer = Announcer(every_s=10)
    assert announcer.consider(2, math.inf, 0.0) == Announcement(2, None)
    assert announcer.consider(2, 130, 10.0) == Announcement(2, 3)  # first promise
    assert announcer.consider(2, math.inf, 20.0) == Announcement(2, 3)  # keeps it
    silent = Announcer(every_s=0)
    assert silent.consider(1, 10, 0.0) is None and silent.due_at() is None
    with pytest.raises(ValueError, match="every_s"):
        Announcer(every_s=-1)
    with pytest.raises(ValueError, match="position"):
        announcer.consider(0, 10, 100.0)
