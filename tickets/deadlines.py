"""Working-day deadlines: by request type (or category, or same day when urgent), over
a holiday calendar with make-up days; and working-hour limits (签收 within 2 working
hours) over a department's office hours."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from tickets.model import RequestType

# Guangdong's 12345 working-day limits (办理时限) by request type.  Praise has no
# official limit; five working days to pass it on to the department is our default.
GUANGDONG_WORKING_DAYS: Mapping[RequestType, int] = MappingProxyType(
    {
        RequestType.CONSULTATION: 2,
        RequestType.HELP: 10,
        RequestType.SUGGESTION: 10,
        RequestType.COMPLAINT: 15,
        RequestType.REPORT: 15,
        RequestType.PRAISE: 5,
    }
)


def _span(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# China's public holidays for 2026 as announced by the State Council's General
# Office (国务院办公厅关于2026年部分节假日安排的通知, November 2025): every day off,
# weekends inside a holiday included.  Operators add later years in settings
# (tickets.holidays / tickets.working_days) until the package ships them.
CN_2026_HOLIDAYS: frozenset[date] = frozenset(
    _span("2026-01-01", "2026-01-03")  # New Year
    + _span("2026-02-15", "2026-02-23")  # Spring Festival
    + _span("2026-04-04", "2026-04-06")  # Qingming
    + _span("2026-05-01", "2026-05-05")  # Labour Day
    + _span("2026-06-19", "2026-06-21")  # Dragon Boat
    + _span("2026-09-25", "2026-09-27")  # Mid-Autumn
    + _span("2026-10-01", "2026-10-07")  # National Day
)
# Weekend days worked to make up for the bridges (调休上班).
CN_2026_WORKING_WEEKENDS: frozenset[date] = frozenset(
    date.fromisoformat(day)
    for day in (
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    )
)


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """Which days are working days: Monday to Friday, less ``holidays``, plus the
    weekend days in ``working_weekends``."""

    holidays: frozenset[date] = frozenset()
    working_weekends: frozenset[date] = frozenset()

    @classmethod
    def china_2026(
        cls, extra_holidays: Iterable[date] = (), extra_working_days: Iterable[date] = ()
    ) -> WorkCalendar:
        """The shipped 2026 calendar, with the operator's own days added."""
        return cls(
            CN_2026_HOLIDAYS | frozenset(extra_holidays),
            CN_2026_WORKING_WEEKENDS | frozenset(extra_working_days),
        )

    def is_working_day(self, day: date) -> bool:
        if day in self.working_weekends:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (the count starts the next day)."""
        if days < 0:
            raise ValueError(f"working days must not be negative, not {days}")
        day = start
        while days > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if end ≤ start)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count


# Office hours of a department when its directory entry names none.
OFFICE_HOURS: tuple[tuple[time, time], ...] = (
    (time(8, 30), time(12, 0)),
    (time(14, 0), time(17, 30)),
)


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    """Working days allowed per request type, the calendar they count on, and the
    time zone that says which calendar day ``now`` falls on."""

    working_days: Mapping[RequestType, int] = field(default_factory=lambda: GUANGDONG_WORKING_DAYS)
    calendar: WorkCalendar = field(default_factory=WorkCalendar.china_2026)
    timezone: str = "Asia/Shanghai"
    # Working days by category code (or its prefix, e.g. "CX01" or "CX"), over the type's.
    category_days: Mapping[str, int] = field(default_factory=dict)
    due_soon_days: int = 1  # 即将超期 when this many working days or fewer are left
    escalate_after_days: int = 3  # still overdue this many working days later: escalate again

    def __post_init__(self) -> None:
        missing = [t.value for t in RequestType if t not in self.working_days]
        if missing:
            raise ValueError(f"no working-day deadline for {', '.join(missing)}")

    def local_day(self, now: datetime) -> date:
        """The calendar day of ``now`` where the hotline is (naive times are local)."""
        if now.tzinfo is None:
            return now.date()
        return now.astimezone(ZoneInfo(self.timezone)).date()

    def days_for(self, request_type: RequestType, category_code: str = "") -> int:
        """Working days to answer: the longest category prefix configured, else the type's."""
        for end in range(len(category_code), 0, -1):
            days = self.category_days.get(category_code[:end])
            if days is not None:
                return days
        return self.working_days[request_type]

    def due_date(
        self,
        request_type: RequestType,
        now: datetime,
        category_code: str = "",
        urgent: bool = False,
    ) -> date:
        """The last day to answer; an urgent request (an emergency) is due the same day."""
        today = self.local_day(now)
        if urgent:
            return today
        return self.calendar.add_working_days(today, self.days_for(request_type, category_code))

    def working_days_left(self, due: date, now: datetime) -> int:
        """Working days from today to ``due`` (0 on the due day, negative once past)."""
        today = self.local_day(now)
        if today <= due:
            return self.calendar.working_days_between(today, due)
        return -self.calendar.working_days_between(due, today)

    def after_working_hours(
        self,
        start: datetime,
        hours: float,
        office: tuple[tuple[time, time], ...] = OFFICE_HOURS,
    ) -> datetime:
        """The moment ``hours`` of office time after ``start`` (a call at 17:00 with two
        hours to sign is due at 10:00 the next working day), in ``start``'s zone."""
        zone = ZoneInfo(self.timezone)
        local = start.astimezone(zone) if start.tzinfo else start.replace(tzinfo=zone)
        left = timedelta(hours=max(hours, 0.0))
        day = local.date()
        for _ in range(3660):  # ten years of days: an office with no hours never ends
            if self.calendar.is_working_day(day):
                for opens, closes in office:
                    begin = max(datetime.combine(day, opens, zone), local)
                    end = datetime.combine(day, closes, zone)
                    if begin >= end:
                        continue
                    if begin + left <= end:
                        return (begin + left).astimezone(start.tzinfo or zone)
                    left -= end - begin
            day += timedelta(days=1)
        raise ValueError("no office hours to count the time on")

    def extend(self, due: date, working_days: int) -> date:
        return self.calendar.add_working_days(due, working_days)
