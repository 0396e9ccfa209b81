"""Opening hours and time windows on the wall clock, as pure functions.

``open_hours`` are the weekly windows the node takes calls in (none: 7×24).
``windows`` switch seat groups on: a group named in any window is on only inside
one of them (peak hours, 延时服务 evenings); a group named in none is on whenever
the node is open. A window is ``[start, end)`` on each of its days, read on the
datetime's own wall clock (naive local time, or its time zone when aware); an
``end`` of 00:00 is midnight at the end of the day (a window to 24:00).

The hub asks :meth:`Schedule.state_at` at start-up, applies it with
:meth:`Acd.set_group_open`, and wakes again at :meth:`Schedule.next_change`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_S = 86_400


class WindowLike(Protocol):
    """What a window needs (``sip_config.acd_settings.TimeWindow`` fits)."""

    @property
    def name(self) -> str: ...
    @property
    def days(self) -> Sequence[str]: ...
    @property
    def start(self) -> time: ...
    @property
    def end(self) -> time: ...
    @property
    def seat_groups(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class Window:
    """A plain weekly window: ``days`` as mon…sun, ``[start, end)``."""

    name: str
    start: time
    end: time
    days: tuple[str, ...] = WEEKDAYS
    seat_groups: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [day for day in self.days if day not in WEEKDAYS]
        if unknown:
            raise ValueError(f"window {self.name}: unknown day(s) {', '.join(unknown)}")
        check_span(self.name, self.start, self.end)


def seconds(moment: time) -> int:
    """Whole seconds since midnight."""
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def span(window: WindowLike) -> tuple[int, int]:
    """The window as ``[start, end)`` in seconds since midnight; an end of 00:00 is
    the end of the day (86,400)."""
    return seconds(window.start), seconds(window.end) or DAY_S


def check_span(name: str, start: time, end: time) -> None:
    """``ValueError`` unless ``end`` comes after ``start`` on the same day."""
    if (seconds(end) or DAY_S) <= seconds(start):
        raise ValueError(
            f"window {name}: end {end:%H:%M} must be after start {start:%H:%M}"
            " (00:00 as the end means midnight; split a window across midnight into two)"
        )


def clock_text(second: int) -> str:
    """``HH:MM`` for seconds since midnight (24:00 for the end of the day)."""
    return f"{second // 3600:02d}:{second % 3600 // 60:02d}"


def inside(window: WindowLike, at: datetime) -> bool:
    """Whether ``at`` falls in the window (its wall-clock weekday and time)."""
    start, end = span(window)
    return WEEKDAYS[at.weekday()] in window.days and start <= seconds(at.time()) < end


@dataclass(frozen=True)
class ScheduleState:
    """The node is open or not; ``groups_on`` are the groups switched on."""

    open: bool
    groups_on: frozenset[str]


class Schedule:
    """The node's opening hours and the groups' windows."""

    def __init__(
        self, open_hours: Iterable[WindowLike] = (), windows: Iterable[WindowLike] = ()
    ) -> None:
        self.open_hours = tuple(open_hours)
        self.windows = tuple(windows)
        self.windowed = frozenset(g for window in self.windows for g in window.seat_groups)

    def is_open(self, at: datetime) -> bool:
        """Whether the node takes calls at ``at`` (always, with no opening hours)."""
        return not self.open_hours or any(inside(window, at) for window in self.open_hours)

    def group_on(self, group_id: str, at: datetime) -> bool:
        """Whether ``group_id`` is switched on at ``at`` (never while closed)."""
        if not self.is_open(at):
            return False
        if group_id not in self.windowed:
            return True
        return any(group_id in w.seat_groups and inside(w, at) for w in self.windows)

    def state_at(self, at: datetime, groups: Iterable[str]) -> ScheduleState:
        on = frozenset(group for group in groups if self.group_on(group, at))
        return ScheduleState(self.is_open(at), on)

    def next_change(self, at: datetime) -> datetime | None:
        """The first moment after ``at`` when a window opens or closes (a week
        ahead at most); ``None`` when nothing ever changes."""
        boundaries: list[datetime] = []
        for window in (*self.open_hours, *self.windows):
            for offset in range(8):
                day: date = at.date() + timedelta(days=offset)
                if WEEKDAYS[day.weekday()] not in window.days:
                    continue
                start = datetime.combine(day, window.start, tzinfo=at.tzinfo)
                end = datetime.combine(day, window.end, tzinfo=at.tzinfo)
                if span(window)[1] == DAY_S:
                    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=at.tzinfo)
                boundaries.extend(when for when in (start, end) if when > at)
        return min(boundaries, default=None)
