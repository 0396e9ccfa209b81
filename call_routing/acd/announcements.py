"""What to tell a waiting caller about their place and wait (排队播报), as data.

An :class:`Announcer` follows one waiting call. Given its position, its
estimated wait (:meth:`Acd.estimated_wait_s`) and the time, it says whether to
announce now and what: the position exactly, the wait rounded up to whole
minutes (0 meaning "不到1分钟", under a minute; ``None`` when no agent can take
the call, so no wait is promised). It never announces a longer wait than last
time unless the caller's position got worse (a higher-priority caller came in
ahead): a wait that merely grew is said as the same as before. The hub turns an
:class:`Announcement` into Chinese speech.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Announcement:
    """ "您前面还有{position}位，预计等待{minutes}分钟" — ``minutes`` 0: 不到1分钟;
    ``None``: say only the position."""

    position: int
    minutes: int | None


def wait_minutes(wait_s: float) -> int | None:
    """A wait rounded up to whole minutes; 0 under a minute, ``None`` when unknown."""
    if math.isinf(wait_s) or math.isnan(wait_s):
        return None
    if wait_s < 60:
        return 0
    return math.ceil(wait_s / 60)


class Announcer:
    """Announcements for one waiting call, every ``every_s`` seconds (0: never).
    The first comes at the first :meth:`consider`."""

    def __init__(self, every_s: float) -> None:
        if every_s < 0:
            raise ValueError(f"announcements: every_s must not be negative, not {every_s}")
        self.every_s = every_s
        self._last_at: float | None = None
        self._last: Announcement | None = None

    @property
    def last(self) -> Announcement | None:
        return self._last

    def due_at(self) -> float | None:
        """When the next announcement is due (``None``: at once, or never when off)."""
        if self.every_s == 0 or self._last_at is None:
            return None
        return self._last_at + self.every_s

    def consider(self, position: int, wait_s: float, now: float) -> Announcement | None:
        """The announcement to play now, or ``None`` when it is not time yet."""
        if position < 1:
            raise ValueError(f"announcements: position starts at 1, not {position}")
        if self.every_s == 0:
            return None
        if self._last_at is not None and now < self._last_at + self.every_s:
            return None
        minutes = wait_minutes(wait_s)
        last = self._last
        if (
            last is not None
            and position <= last.position
            and last.minutes is not None
            and (minutes is None or minutes > last.minutes)
        ):
            minutes = last.minutes  # no longer wait than promised without a cause
        announcement = Announcement(position, minutes)
        self._last, self._last_at = announcement, now
        return announcement
