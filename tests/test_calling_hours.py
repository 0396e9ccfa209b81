"""verification.calling_hours: when a citizen may be called back — the windows of a
day, weekends, the holidays of the tickets' calendar (never called on) and its
make-up working days (called on like any other day)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickets.deadlines import WorkCalendar
from verification.calling_hours import (
    DEFAULT_WINDOWS,
    CallingHours,
    CallingHoursError,
    parse_window,
)

TZ = ZoneInfo("Asia/Shanghai")
HOURS = CallingHours(calendar=WorkCalendar.china_2026())
WEEKDAYS_ONLY = CallingHours(calendar=WorkCalendar.china_2026(), weekends=False)


def at(day: str, clock: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), TZ)


# -- parse_window ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("09:00-12:00", (time(9), time(12))),
        ("14:00–20:30", (time(14), time(20, 30))),  # an en dash, as people write it
        ("  08:30 - 11:45 ", (time(8, 30), time(11, 45))),
        ("9:00-12:00", (time(9), time(12))),  # one-digit hour, as the settings take it
    ],
)
def test_a_window_is_read_from_its_text(text: str, window: tuple[time, time]) -> None:
    assert parse_window(text) == window


def test_24_00_ends_a_window_at_midnight() -> None:
    assert parse_window("20:00-24:00") == (time(20), time.max)
    late = CallingHours((parse_window("20:00-24:00"),), WorkCalendar())
    assert late.is_open(at("2026-12-07", "23:59:59"))
    assert not late.is_open(at("2026-12-08", "00:00"))
    assert late.next_open(at("2026-12-08", "00:00")) == at("2026-12-08", "20:00")
    with pytest.raises(CallingHoursError, match="ends before it starts"):
        parse_window("24:00-09:00")


@pytest.mark.parametrize("text", ["09:00", "09:00-", "-12:00", "noon-13:00", "25:00-26:00", ""])
def test_a_window_that_is_no_window_names_the_form(text: str) -> None:
    with pytest.raises(CallingHoursError, match="write it as HH:MM-HH:MM, e.g. 09:00-12:00"):
        parse_window(text)


@pytest.mark.parametrize("text", ["12:00-09:00", "09:00-09:00"])
def test_a_window_ending_before_it_starts_is_refused(text: str) -> None:
    with pytest.raises(CallingHoursError, match=f"{text!r} ends before it starts"):
        parse_window(text)


def test_a_bad_window_is_also_a_value_error() -> None:
    # Settings and CLIs catch ValueError: the calling hours' error is one.
    with pytest.raises(ValueError):
        parse_window("later")


# -- the windows ---------------------------------------------------------------------


def test_the_default_windows_are_morning_and_afternoon_to_half_past_eight() -> None:
    assert (
        CallingHours().windows == DEFAULT_WINDOWS == ((time(9), time(12)), (time(14), time(20, 30)))
    )
    assert CallingHours().timezone == "Asia/Shanghai" and CallingHours().weekends


def test_windows_are_kept_in_order_and_may_touch() -> None:
    hours = CallingHours(((time(14), time(18)), (time(9), time(12)), (time(12), time(13))))
    assert hours.windows == ((time(9), time(12)), (time(12), time(13)), (time(14), time(18)))


@pytest.mark.parametrize(
    ("windows", "why"),
    [
        ((), "no calling window: the node would never call anyone back"),
        (((time(12), time(9)),), "the calling window 12:00:00-09:00:00 ends before it starts"),
        (((time(9), time(9)),), "ends before it starts"),
        (((time(14), time(18)), (time(9), time(15))), "calling windows overlap at 14:00:00"),
        (((time(9), time(12)), (time(9), time(12))), "calling windows overlap at 09:00:00"),
    ],
)
def test_unusable_windows_are_refused(windows: tuple[tuple[time, time], ...], why: str) -> None:
    with pytest.raises(CallingHoursError, match=why):
        CallingHours(windows)


# -- calling days ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "with_weekends", "weekdays_only"),
    [
        ("2026-12-07", True, True),  # a Monday
        ("2026-12-12", True, False),  # a Saturday: citizens are at home
        ("2026-12-13", True, False),  # a Sunday
        ("2026-10-01", False, False),  # National Day, a Thursday
        ("2026-10-03", False, False),  # a Saturday inside National Day week
        ("2026-10-07", False, False),  # the week's last day off, a Wednesday
        ("2026-10-08", True, True),  # back at work
        ("2026-10-10", True, True),  # a Saturday worked to make up for it (调休)
        ("2026-09-20", True, True),  # a Sunday worked before Mid-Autumn
        ("2026-02-17", False, False),  # Spring Festival
    ],
)
def test_holidays_are_never_calling_days_and_make_up_days_always_are(
    day: str, with_weekends: bool, weekdays_only: bool
) -> None:
    assert HOURS.is_calling_day(date.fromisoformat(day)) is with_weekends
    assert WEEKDAYS_ONLY.is_calling_day(date.fromisoformat(day)) is weekdays_only


def test_the_operators_own_holidays_are_not_called_on() -> None:
    tuesday = date(2026, 12, 8)
    own = CallingHours(calendar=WorkCalendar(holidays=frozenset({tuesday})))
    assert not own.is_calling_day(tuesday)
    assert not own.is_open(at("2026-12-08", "10:00"))
    assert own.is_calling_day(date(2026, 10, 1))  # without the shipped calendar: a Thursday


def test_a_day_both_off_and_made_up_is_called_on_as_the_calendar_works_it() -> None:
    saturday = date(2026, 12, 12)
    both = WorkCalendar(holidays=frozenset({saturday}), working_weekends=frozenset({saturday}))
    assert both.is_working_day(saturday)
    assert CallingHours(calendar=both, weekends=False).is_calling_day(saturday)


# -- is_open ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clock", "open_"),
    [
        ("08:59:59", False),
        ("09:00", True),
        ("11:59:59", True),
        ("12:00", False),  # a window's end is not inside it
        ("13:30", False),  # lunch
        ("14:00", True),
        ("20:29:59", True),
        ("20:30", False),
        ("23:00", False),
        ("00:00", False),
    ],
)
def test_open_inside_the_windows_only(clock: str, open_: bool) -> None:
    assert HOURS.is_open(at("2026-12-07", clock)) is open_


def test_not_open_on_a_holiday_nor_on_a_weekend_when_weekends_are_off() -> None:
    assert not HOURS.is_open(at("2026-10-02", "10:00"))
    assert HOURS.is_open(at("2026-12-12", "10:00"))
    assert not WEEKDAYS_ONLY.is_open(at("2026-12-12", "10:00"))
    assert WEEKDAYS_ONLY.is_open(at("2026-10-10", "10:00"))  # the make-up Saturday


def test_times_in_another_zone_are_read_in_the_hotlines() -> None:
    assert HOURS.is_open(datetime(2026, 12, 7, 1, 0, tzinfo=UTC))  # 09:00 in Guangzhou
    assert not HOURS.is_open(datetime(2026, 12, 7, 0, 59, tzinfo=UTC))
    assert HOURS.is_open(datetime(2026, 9, 30, 2, 0, tzinfo=UTC))  # 10:00 on 30 September
    assert not HOURS.is_open(datetime(2026, 10, 1, 2, 0, tzinfo=UTC))  # 10:00 on National Day
    assert HOURS.is_open(datetime(2026, 12, 7, 10, 0))  # a naive time is local


def test_the_windows_are_read_in_the_configured_zone() -> None:
    urumqi = CallingHours(calendar=WorkCalendar(), timezone="Asia/Urumqi")  # UTC+6
    nine_in_urumqi = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    assert urumqi.is_open(nine_in_urumqi)
    assert not HOURS.is_open(datetime(2026, 12, 7, 12, 45, tzinfo=UTC))  # 20:45 in Beijing
    assert urumqi.is_open(datetime(2026, 12, 7, 12, 45, tzinfo=UTC))  # 18:45 in Urumqi


# -- next_open and last_close ---------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "opens"),
    [
        (("2026-12-07", "10:15"), ("2026-12-07", "10:15")),  # open now: now
        (("2026-12-07", "07:00"), ("2026-12-07", "09:00")),
        (("2026-12-07", "12:00"), ("2026-12-07", "14:00")),  # lunch
        (("2026-12-07", "20:30"), ("2026-12-08", "09:00")),  # the evening's end
        (("2026-12-11", "21:00"), ("2026-12-12", "09:00")),  # Friday night: Saturday
        (("2026-09-30", "21:00"), ("2026-10-08", "09:00")),  # National Day week skipped
        (("2026-10-03", "10:00"), ("2026-10-08", "09:00")),
        (("2026-02-14", "20:45"), ("2026-02-24", "09:00")),  # Spring Festival skipped
    ],
)
def test_next_open_is_now_or_the_next_windows_start(
    moment: tuple[str, str], opens: tuple[str, str]
) -> None:
    assert HOURS.next_open(at(*moment)) == at(*opens)
    assert HOURS.is_open(HOURS.next_open(at(*moment)))


def test_without_weekends_friday_nights_next_call_is_on_monday_or_a_make_up_day() -> None:
    assert WEEKDAYS_ONLY.next_open(at("2026-12-11", "21:00")) == at("2026-12-14", "09:00")
    assert WEEKDAYS_ONLY.next_open(at("2026-10-09", "21:00")) == at("2026-10-10", "09:00")


def test_next_open_keeps_the_moments_zone() -> None:
    evening = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)  # 21:00 in Guangzhou
    opens = HOURS.next_open(evening)
    assert opens.tzinfo is UTC and opens == datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    naive = HOURS.next_open(datetime(2026, 12, 7, 21, 0))
    assert naive == at("2026-12-08", "09:00") and naive.utcoffset() == timedelta(hours=8)


def test_a_calendar_with_no_calling_day_left_says_where_to_look() -> None:
    start = date(2026, 12, 7)
    off = frozenset(start + timedelta(days=i) for i in range(500))
    never = CallingHours(calendar=WorkCalendar(holidays=off))
    with pytest.raises(CallingHoursError, match="verification.calling_hours") as caught:
        never.next_open(at("2026-12-07", "10:00"))
    assert "from 2026-12-07" in str(caught.value)  # the day it looked from


def test_last_close_is_the_end_of_the_days_last_window() -> None:
    assert HOURS.last_close(date(2026, 12, 9)) == at("2026-12-09", "20:30")
    mornings = CallingHours(((time(9), time(11, 30)),), WorkCalendar())
    assert mornings.last_close(date(2026, 12, 9)) == at("2026-12-09", "11:30")
    assert not mornings.is_open(mornings.last_close(date(2026, 12, 9)))
