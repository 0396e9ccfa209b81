"""tickets.deadlines: working days across weekends, holidays and make-up days."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from sip_config import ConfigError, load_settings
from tickets.deadlines import (
    CN_2026_HOLIDAYS,
    CN_2026_WORKING_WEEKENDS,
    GUANGDONG_WORKING_DAYS,
    DeadlinePolicy,
    WorkCalendar,
)
from tickets.model import RequestType
from tickets.policy import TicketPolicy

PLAIN = WorkCalendar()
CN = WorkCalendar.china_2026()


def test_guangdong_defaults() -> None:
    assert {t.value: d for t, d in GUANGDONG_WORKING_DAYS.items()} == {
        "咨询": 2,
        "求助": 10,
        "建议": 10,
        "投诉": 15,
        "举报": 15,
        "表扬": 5,
    }


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        ("2026-03-02", 2, "2026-03-04"),  # Monday → Wednesday
        ("2026-03-05", 2, "2026-03-09"),  # Thursday → over the weekend to Monday
        ("2026-03-06", 2, "2026-03-10"),  # Friday → Tuesday
        ("2026-03-07", 1, "2026-03-09"),  # a Saturday's request counts from Monday
        ("2026-03-02", 10, "2026-03-16"),  # two weeks
        ("2026-03-02", 0, "2026-03-02"),
    ],
)
def test_weekends(start: str, days: int, due: str) -> None:
    assert PLAIN.add_working_days(date.fromisoformat(start), days) == date.fromisoformat(due)


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # National Day: 1–7 October off, Saturday 10 October worked.
        ("2026-09-30", 1, "2026-10-08"),
        ("2026-09-30", 3, "2026-10-10"),  # Thu 8, Fri 9, Sat 10 (调休)
        ("2026-09-30", 4, "2026-10-12"),
        # Sunday 20 September is a working day before it.
        ("2026-09-18", 1, "2026-09-20"),
        # Spring Festival: 15–23 February off, Saturday 14 and 28 February worked.
        ("2026-02-13", 1, "2026-02-14"),
        ("2026-02-14", 1, "2026-02-24"),
        ("2026-02-13", 15, "2026-03-12"),
        # New Year: 1–3 January off, Sunday 4 January worked.
        ("2025-12-31", 1, "2026-01-04"),
        # Labour Day 1–5 May, Saturday 9 May worked; Mid-Autumn 25–27 September.
        ("2026-04-30", 3, "2026-05-08"),
        ("2026-04-30", 4, "2026-05-09"),
        ("2026-09-24", 1, "2026-09-28"),
    ],
)
def test_holidays_and_make_up_days_2026(start: str, days: int, due: str) -> None:
    assert CN.add_working_days(date.fromisoformat(start), days) == date.fromisoformat(due)


def test_the_2026_calendar() -> None:
    assert len(CN_2026_HOLIDAYS) == 33
    assert all(day.weekday() >= 5 for day in CN_2026_WORKING_WEEKENDS)
    assert not CN_2026_HOLIDAYS & CN_2026_WORKING_WEEKENDS
    assert CN.is_working_day(date(2026, 2, 28)) and not CN.is_working_day(date(2026, 2, 16))
    assert CN.working_days_between(date(2026, 9, 30), date(2026, 10, 12)) == 4
    assert CN.working_days_between(date(2026, 10, 12), date(2026, 9, 30)) == 0


def test_operator_days() -> None:
    calendar = WorkCalendar.china_2026([date(2027, 1, 1)], [date(2027, 1, 2)])
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.is_working_day(date(2027, 1, 2))
    with pytest.raises(ValueError, match="negative"):
        calendar.add_working_days(date(2027, 1, 1), -1)


def test_policy_counts_in_the_hotline_time_zone() -> None:
    policy = DeadlinePolicy()
    # 16:30 UTC on Thursday 26 November is 00:30 on Friday 27 November in Guangzhou.
    late = datetime(2026, 11, 26, 16, 30, tzinfo=ZoneInfo("UTC"))
    assert policy.local_day(late) == date(2026, 11, 27)
    assert policy.due_date(RequestType.CONSULTATION, late) == date(2026, 12, 1)
    assert policy.due_date(RequestType.COMPLAINT, late) == date(2026, 12, 18)
    assert policy.local_day(datetime(2026, 11, 26, 23, 0)) == date(2026, 11, 26)  # naive: local
    assert policy.extend(date(2026, 12, 18), 2) == date(2026, 12, 22)
    with pytest.raises(ValueError, match="no working-day deadline for 表扬"):
        DeadlinePolicy({t: 1 for t in RequestType if t is not RequestType.PRAISE})


def test_policy_from_settings() -> None:
    settings = load_settings(
        None,
        {
            "tickets.deadlines": {"投诉": 10},
            "tickets.holidays": ["2027-01-01"],
            "tickets.working_days": ["2027-01-02"],
            "tickets.number_prefix": "SZ12345",
            "tickets.duplicate_window_days": 3,
        },
    )
    policy = TicketPolicy.from_settings(settings.tickets)
    assert policy.number_prefix == "SZ12345"
    assert policy.deadlines.working_days[RequestType.COMPLAINT] == 10
    assert policy.deadlines.working_days[RequestType.CONSULTATION] == 2
    assert policy.deadlines.calendar.is_working_day(date(2027, 1, 2))
    assert not policy.deadlines.calendar.is_working_day(date(2026, 10, 1))  # shipped days kept
    assert policy.duplicates.window.days == 3
    bare = load_settings(None, {"tickets.builtin_calendar": False})
    calendar = TicketPolicy.from_settings(bare.tickets).deadlines.calendar
    assert calendar.is_working_day(date(2026, 10, 1))


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"tickets.deadlines": {"投拆": 3}}, "tickets.deadlines"),
        ({"tickets.deadlines": {"咨询": 0}}, "give 1 to 365 working days"),
        ({"tickets.working_days": ["2026-03-02"]}, "is a weekday already"),
        ({"tickets.number_prefix": "gd-1"}, "tickets.number_prefix"),
        ({"tickets.timezone": "Mars/Olympus"}, "Asia/Shanghai"),
        ({"tickets.database_url": "mysql://db/x"}, "postgresql+psycopg://"),
        ({"tickets.duplicate_similarity": 0}, "tickets.duplicate_similarity"),
    ],
)
def test_bad_settings_name_the_key_and_the_fix(overrides: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(None, overrides)
    assert fragment in str(refused.value)
