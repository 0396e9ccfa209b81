"""When a citizen may be called back: the calling windows of a day (default
09:00–12:00 and 14:00–20:30 local time), every day but public holidays.

Weekends are calling days (citizens are at home; 12345 centres call then), the
days off of the holiday calendar are not; make-up working days (调休) are
ordinary calling days.  All times are aware; naive ones are taken as local.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tickets.deadlines import WorkCalendar

DEFAULT_WINDOWS: tuple[tuple[time, time], ...] = (
    (time(9, 0), time(12, 0)),
    (time(14, 0), time(20, 30)),
)
_LOOK_AHEAD_DAYS = 400  # a year of holidays and then some: past this nothing ever opens


class CallingHoursError(ValueError):
    """Calling windows that cannot be used (reversed, overlapping, none at all)."""


def _clock(text: str) -> time:
    """``09:00`` → 09:00; ``24:00`` is the end of the day."""
    return time.max if text == "24:00" else time.fromisoformat(text)


def parse_window(text: str) -> tuple[time, time]:
    """``"09:00-12:00"`` → the window; :class:`CallingHoursError` naming the form."""
    start, sep, end = text.replace("–", "-").partition("-")
    try:
        if not sep:
            raise ValueError
        # 9:00 as well as 09:00, as verification.calling_hours takes it
        opens, closes = (_clock(part.strip().zfill(5)) for part in (start, end))
        window = (opens, closes)
    except ValueError:
        raise CallingHoursError(
            f"{text!r} is not a calling window; write it as HH:MM-HH:MM, e.g. 09:00-12:00"
        ) from None
    if window[0] >= window[1]:
        raise CallingHoursError(f"the calling window {text!r} ends before it starts")
    return window


@dataclass(frozen=True, slots=True)
class CallingHours:
    """The windows of a calling day, the calendar whose holidays are never called
    on, and the time zone the windows are read in."""

    windows: tuple[tuple[time, time], ...] = DEFAULT_WINDOWS
    calendar: WorkCalendar = field(default_factory=WorkCalendar.china_2026)
    timezone: str = "Asia/Shanghai"
    weekends: bool = True  # Saturdays and Sundays that are not holidays are calling days

    def __post_init__(self) -> None:
        if not self.windows:
            raise CallingHoursError("no calling window: the node would never call anyone back")
        ordered = sorted(self.windows)
        for start, end in ordered:
            if start >= end:
                raise CallingHoursError(f"the calling window {start}-{end} ends before it starts")
        for (_, end), (start, _) in zip(ordered, ordered[1:], strict=False):
            if start < end:
                raise CallingHoursError(f"calling windows overlap at {start}")
        object.__setattr__(self, "windows", tuple(ordered))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        zone = self.zone
        return moment.astimezone(zone) if moment.tzinfo else moment.replace(tzinfo=zone)

    def is_calling_day(self, day: date) -> bool:
        if day in self.calendar.holidays and day not in self.calendar.working_weekends:
            return False
        return self.weekends or day.weekday() < 5 or day in self.calendar.working_weekends

    def is_open(self, moment: datetime) -> bool:
        """Whether a citizen may be called at ``moment``."""
        local = self.local(moment)
        if not self.is_calling_day(local.date()):
            return False
        now = local.time()
        return any(start <= now < end for start, end in self.windows)

    def next_open(self, moment: datetime) -> datetime:
        """``moment`` itself when calling is allowed then, else the start of the next
        window (in ``moment``'s zone, or the hotline's for a naive one)."""
        local = self.local(moment)
        first = day = local.date()
        for _ in range(_LOOK_AHEAD_DAYS):
            if self.is_calling_day(day):
                for start, end in self.windows:
                    opens = datetime.combine(day, start, self.zone)
                    closes = datetime.combine(day, end, self.zone)
                    if local < closes:
                        found = max(opens, local)
                        return found.astimezone(moment.tzinfo or self.zone)
            day += timedelta(days=1)
        raise CallingHoursError(
            f"no calling day in the {_LOOK_AHEAD_DAYS} days from {first:%Y-%m-%d}: "
            "check verification.calling_hours and the holiday calendar"
        )

    def last_close(self, day: date) -> datetime:
        """The end of the last window on ``day`` (a deadline falls there)."""
        return datetime.combine(day, self.windows[-1][1], self.zone)
