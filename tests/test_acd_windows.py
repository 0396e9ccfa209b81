"""Opening hours and seat-group time windows on the wall clock."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from call_routing.acd.windows import Schedule, Window, inside
from sip_config.acd_settings import TimeWindow

# 2026-11-30 is a Monday
MON = datetime(2026, 11, 30)


WORKDAY = Window("day", time(8), time(18), ("mon", "tue", "wed", "thu", "fri"))
SAT = Window("sat", time(9), time(12), ("sat",))
PEAK = Window("peak", time(9), time(11), seat_groups=("高峰",))
EVENING = Window("evening", time(18), time(21), ("mon", "wed"), ("延时", "高峰"))


def test_no_opening_hours_means_always_open() -> None:
    schedule = Schedule()
    assert schedule.is_open(datetime(2026, 12, 6, 3, 0))
    assert schedule.group_on("综合", datetime(2026, 12, 6, 3, 0))
    assert schedule.next_change(MON) is None


def test_opening_hours_are_half_open_on_their_days() -> None:
    schedule = Schedule([WORKDAY, SAT])
    assert not schedule.is_open(MON.replace(hour=7, minute=59))
    assert schedule.is_open(MON.replace(hour=8))
    assert schedule.is_open(MON.replace(hour=17, minute=59, second=59))
    assert not schedule.is_open(MON.replace(hour=18))
    assert schedule.is_open(datetime(2026, 12, 5, 10))  # Saturday
    assert not schedule.is_open(datetime(2026, 12, 6, 10))  # Sunday
    assert not schedule.group_on("综合", MON.replace(hour=20))  # closed: no group on


def test_windowed_groups_are_on_only_inside_their_windows() -> None:
    schedule = Schedule([], [PEAK, EVENING])
    groups = ["综合", "高峰", "延时"]
    morning = schedule.state_at(MON.replace(hour=10), groups)
    assert morning.open and morning.groups_on == {"综合", "高峰"}
    evening = schedule.state_at(MON.replace(hour=19), groups)
    assert evening.groups_on == {"综合", "高峰", "延时"}
    tuesday_evening = schedule.state_at(datetime(2026, 12, 1, 19), groups)
    assert tuesday_evening.groups_on == {"综合"}


def test_next_change_is_the_next_boundary_of_any_window() -> None:
    schedule = Schedule([WORKDAY], [PEAK, EVENING])
    assert schedule.next_change(MON.replace(hour=7)) == MON.replace(hour=8)
    assert schedule.next_change(MON.replace(hour=8)) == MON.replace(hour=9)
    assert schedule.next_change(MON.replace(hour=10, minute=30)) == MON.replace(hour=11)
    assert schedule.next_change(MON.replace(hour=18)) == MON.replace(hour=21)
    friday_night = datetime(2026, 12, 4, 22)
    assert schedule.next_change(friday_night) == datetime(2026, 12, 5, 9)  # PEAK, daily
    only_weekdays = Schedule([WORKDAY])
    assert only_weekdays.next_change(friday_night) == datetime(2026, 12, 7, 8)


def test_time_zone_aware_wall_clock_and_settings_windows() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    window = TimeWindow(name="day", start=time(8), end=time(18), days=["mon"])
    schedule = Schedule([window])
    assert schedule.is_open(datetime(2026, 11, 30, 9, tzinfo=shanghai))
    # 09:00 in Shanghai is 01:00 UTC: the UTC wall clock is read as it is
    assert not schedule.is_open(datetime(2026, 11, 30, 1, tzinfo=ZoneInfo("UTC")))
    change = schedule.next_change(datetime(2026, 11, 30, 9, tzinfo=shanghai))
    assert change == datetime(2026, 11, 30, 18, tzinfo=shanghai)
    assert change is not None and change.tzinfo is shanghai
    assert inside(window, datetime(2026, 11, 30, 8, 0))


def test_window_is_checked() -> None:
    with pytest.raises(ValueError, match="unknown day"):
        Window("x", time(1), time(2), ("monday",))
    with pytest.raises(ValueError, match="must be after"):
        Window("x", time(2), time(1))


def test_an_end_of_midnight_closes_the_window_at_the_end_of_the_day() -> None:
    night = Window("延时服务", time(21), time(0), ("fri",), ("延时",))
    schedule = Schedule([], [night])
    friday = datetime(2026, 12, 4)
    assert not schedule.group_on("延时", friday.replace(hour=20, minute=59, second=59))
    assert schedule.group_on("延时", friday.replace(hour=21))
    assert schedule.group_on("延时", friday.replace(hour=23, minute=59, second=59, microsecond=9))
    assert not schedule.group_on("延时", datetime(2026, 12, 5, 0, 0))  # Saturday
    assert schedule.next_change(friday.replace(hour=22)) == datetime(2026, 12, 5, 0, 0)
    whole_day = Window("全天", time(0), time(0), ("sun",))
    assert inside(whole_day, datetime(2026, 12, 6, 0, 0))
    assert inside(whole_day, datetime(2026, 12, 6, 23, 59, 59))
    assert not inside(whole_day, datetime(2026, 12, 7, 0, 0))
    # The same in the settings: TOML's 00:00:00 as the end.
    evening = TimeWindow(name="晚间", start=time(18), end=time(0), days=["mon"])
    assert Schedule([evening]).is_open(MON.replace(hour=23, minute=30))
    with pytest.raises(ValueError, match="00:00 as the end means midnight"):
        TimeWindow(name="bad", start=time(18), end=time(6))
