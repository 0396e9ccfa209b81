"""The figures a 12345 centre is judged by (考核指标), per day, ISO week or month
of the hotline's time zone, per seat group and per department.  Pure: the facts
and the period come in, figures come out; nothing is read, no clock is asked.

The facts are at the grain the centre's other reports count them, so that the
same period gives the same numbers everywhere:

- :class:`QueuedCall`: a call leaving a seat group's queue (the wallboard's
  outcomes, ``ivr.hub.queue_log``);
- :class:`TicketFacts`: one 工单 as it was created;
- :class:`DepartmentWork`: one department's dispatches on one day and what came of
  them, as ``tickets.figures`` (``hotline report departments``) counts them;
- :class:`CallbackFacts`: one 回访 task, as ``verification.figures``
  (``hotline report verification``) counts it.

Definitions (a rate with nothing to divide by is ``None``, never 0):

- 接通率 ``answer_rate``: answered ÷ offered (GB/T 33358 asks ≥ 95 %); offered
  is every call that left a queue: answered, abandoned, called back, message;
- 15 秒接通率 ``service_level``: answered within 15 s (``waited_s <= 15``) ÷
  offered — the wallboard's service level;
- ``abandon_rate``: abandoned ÷ offered;
- ``average_wait_s``: the mean wait of answered calls (the wallboard's ASA);
  ``p90_wait_s`` their 90th percentile by nearest rank: the smallest wait that
  at least 90 % of answered calls waited no longer than;
- ``average_handling_s``: the mean talk time of answered calls whose end is known;
- 一次办结率 ``first_contact_rate``: 即时办结 ÷ 受理 (tickets accepted);
- 重复来电率 ``repeat_rate``: tickets linked as a repeat of an earlier one ÷ tickets;
- 按时签收率: dispatches signed in time ÷ dispatches; 按时办结率: answers approved
  by the due date ÷ answers (``tickets.figures``);
- 回访率: 回访 tasks answered ÷ tasks due; 满意率: satisfied ÷ rated
  (``verification.figures``).

Counting a rate from its parts over a longer period (a week from its days) is
exact: every count is additive, and rates are worked out from the sums.
"""

from __future__ import annotations

import enum
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

SERVICE_TARGET_S = 15.0  # 15 秒接通率: the wallboard's target
TOP = 10  # categories and places listed


class CallOutcome(enum.StrEnum):
    """How a call left its seat group's queue (the wallboard's outcomes)."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"
    CALLBACK = "callback"  # pressed 1 for a callback that keeps the place
    MESSAGE = "message"  # left a voice message


class Bucketing(enum.StrEnum):
    """The periods figures are split into, in the hotline's time zone."""

    DAY = "day"
    WEEK = "week"  # ISO week, Monday to Sunday
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class QueuedCall:
    """A call leaving a seat group's queue: when, how, after how long, and how long
    the agent then talked with the caller (``None``: not answered, or not known)."""

    group: str
    left_at: datetime
    outcome: CallOutcome
    waited_s: float
    handling_s: float | None = None


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """One 工单 as the figures see it: when it was created, whether it was accepted
    (受理) and closed during the call (即时办结), whether it repeats an earlier one,
    and what it is about (category, place), where it went, who took it."""

    number: str
    created_at: datetime
    accepted: bool = False
    closed_at_once: bool = False
    repeat: bool = False
    category: str = ""
    place: str = ""
    department: str = ""  # the lead department
    seat_group: str = ""  # the seat group of the call it came from


@dataclass(frozen=True, slots=True)
class DepartmentWork:
    """One department's tickets dispatched on ``day`` and what came of them:
    dispatches, those signed in time, answers approved and those by the due date."""

    department: str
    day: date
    dispatched: int = 0
    signed_on_time: int = 0
    replied: int = 0
    replied_on_time: int = 0


@dataclass(frozen=True, slots=True)
class CallbackFacts:
    """One 回访 task planned at ``created_at``: owed a call (``due``), answered,
    rated, and the rating counted as satisfied."""

    created_at: datetime
    department: str = ""
    seat_group: str = ""
    due: bool = False
    answered: bool = False
    rated: bool = False
    satisfied: bool = False


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def p90(values: Sequence[float]) -> float | None:
    """The 90th percentile by nearest rank: the ⌈0.9·n⌉-th smallest value."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


@dataclass(slots=True)
class Figures:
    """The counts of one period, seat group or department; rates from them."""

    waits: list[float] = field(default_factory=list)  # answered calls' waits
    handling: list[float] = field(default_factory=list)
    offered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    callbacks: int = 0
    messages: int = 0
    tickets: int = 0
    accepted: int = 0
    closed_at_once: int = 0
    repeats: int = 0
    dispatched: int = 0
    signed_on_time: int = 0
    replied: int = 0
    replied_on_time: int = 0
    verification_due: int = 0
    verified: int = 0
    rated: int = 0
    satisfied: int = 0

    def add_call(self, call: QueuedCall, answer_within_s: float) -> None:
        self.offered += 1
        waited = max(0.0, call.waited_s)
        match call.outcome:
            case CallOutcome.ANSWERED:
                self.waits.append(waited)
                self.answered_within += waited <= answer_within_s
                if call.handling_s is not None:
                    self.handling.append(max(0.0, call.handling_s))
            case CallOutcome.ABANDONED:
                self.abandoned += 1
            case CallOutcome.CALLBACK:
                self.callbacks += 1
            case _:
                self.messages += 1

    def add_ticket(self, ticket: TicketFacts) -> None:
        self.tickets += 1
        self.accepted += ticket.accepted
        self.closed_at_once += ticket.closed_at_once
        self.repeats += ticket.repeat

    def add_work(self, work: DepartmentWork) -> None:
        self.dispatched += work.dispatched
        self.signed_on_time += work.signed_on_time
        self.replied += work.replied
        self.replied_on_time += work.replied_on_time

    def add_callback(self, task: CallbackFacts) -> None:
        self.verification_due += task.due
        self.verified += task.answered
        self.rated += task.rated
        self.satisfied += task.satisfied

    def as_dict(self, parts: Iterable[str] = ("calls", "tickets", "work", "callbacks")) -> dict:
        """The figures of ``parts`` (see :data:`COLUMNS`), by key."""
        values = {
            "calls": lambda: {
                "offered": self.offered,
                "answered": len(self.waits),
                "answered_within": self.answered_within,
                "abandoned": self.abandoned,
                "callbacks": self.callbacks,
                "messages": self.messages,
                "answer_rate": rate(len(self.waits), self.offered),
                "service_level": rate(self.answered_within, self.offered),
                "abandon_rate": rate(self.abandoned, self.offered),
                "average_wait_s": _mean(self.waits),
                "p90_wait_s": None if not self.waits else round(p90(self.waits) or 0.0, 1),
                "average_handling_s": _mean(self.handling),
            },
            "tickets": lambda: {
                "tickets": self.tickets,
                "accepted": self.accepted,
                "closed_at_once": self.closed_at_once,
                "first_contact_rate": rate(self.closed_at_once, self.accepted),
                "repeats": self.repeats,
                "repeat_rate": rate(self.repeats, self.tickets),
            },
            "work": lambda: {
                "dispatched": self.dispatched,
                "signed_on_time": self.signed_on_time,
                "signed_on_time_rate": rate(self.signed_on_time, self.dispatched),
                "replied": self.replied,
                "replied_on_time": self.replied_on_time,
                "closed_on_time_rate": rate(self.replied_on_time, self.replied),
            },
            "callbacks": lambda: {
                "verification_due": self.verification_due,
                "verified": self.verified,
                "verification_rate": rate(self.verified, self.verification_due),
                "rated": self.rated,
                "satisfied": self.satisfied,
                "satisfaction_rate": rate(self.satisfied, self.rated),
            },
        }
        found: dict[str, object] = {}
        for part in parts:
            found |= values[part]()
        return found


class Kind(enum.StrEnum):
    COUNT = "count"
    RATE = "rate"  # 0–1, shown as a percentage
    SECONDS = "seconds"


# Every figure of a part: its key, its Chinese name in reports, its kind.
COLUMNS: dict[str, tuple[tuple[str, str, Kind], ...]] = {
    "calls": (
        ("offered", "排队呼入", Kind.COUNT),
        ("answered", "接通", Kind.COUNT),
        ("answered_within", "15秒内接通", Kind.COUNT),
        ("abandoned", "放弃", Kind.COUNT),
        ("callbacks", "预约回电", Kind.COUNT),
        ("messages", "留言", Kind.COUNT),
        ("answer_rate", "接通率", Kind.RATE),
        ("service_level", "15秒接通率", Kind.RATE),
        ("abandon_rate", "放弃率", Kind.RATE),
        ("average_wait_s", "平均等待(秒)", Kind.SECONDS),
        ("p90_wait_s", "90%等待(秒)", Kind.SECONDS),
        ("average_handling_s", "平均通话时长(秒)", Kind.SECONDS),
    ),
    "tickets": (
        ("tickets", "工单", Kind.COUNT),
        ("accepted", "受理", Kind.COUNT),
        ("closed_at_once", "即时办结", Kind.COUNT),
        ("first_contact_rate", "一次办结率", Kind.RATE),
        ("repeats", "重复来电", Kind.COUNT),
        ("repeat_rate", "重复来电率", Kind.RATE),
    ),
    "work": (
        ("dispatched", "派单", Kind.COUNT),
        ("signed_on_time", "按时签收", Kind.COUNT),
        ("signed_on_time_rate", "按时签收率", Kind.RATE),
        ("replied", "答复", Kind.COUNT),
        ("replied_on_time", "按时办结", Kind.COUNT),
        ("closed_on_time_rate", "按时办结率", Kind.RATE),
    ),
    "callbacks": (
        ("verification_due", "应回访", Kind.COUNT),
        ("verified", "已回访", Kind.COUNT),
        ("verification_rate", "回访率", Kind.RATE),
        ("rated", "评价", Kind.COUNT),
        ("satisfied", "满意", Kind.COUNT),
        ("satisfaction_rate", "满意率", Kind.RATE),
    ),
}
ALL_PARTS = ("calls", "tickets", "work", "callbacks")
GROUP_PARTS = ("calls", "tickets", "callbacks")  # a seat group dispatches nothing
DEPARTMENT_PARTS = ("tickets", "work", "callbacks")  # calls queue for seat groups


@dataclass(frozen=True, slots=True)
class Bucket:
    """One period of the report: its key (``2026-12-07``, ``2026-W49``,
    ``2026-12``) and its first and last day, held within the report's days."""

    key: str
    first: date
    last: date


def buckets(first: date, last: date, by: Bucketing) -> list[Bucket]:
    """The periods from ``first`` to ``last`` (included), oldest first; none when
    ``last`` is before ``first``."""
    found: list[Bucket] = []
    day = first
    while day <= last:
        match by:
            case Bucketing.DAY:
                end, key = day, day.isoformat()
            case Bucketing.WEEK:
                year, week, weekday = day.isocalendar()
                end, key = day + timedelta(days=7 - weekday), f"{year}-W{week:02d}"
            case _:
                following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
                end, key = following - timedelta(days=1), f"{day.year}-{day.month:02d}"
        end = min(end, last)
        found.append(Bucket(key, day, end))
        day = end + timedelta(days=1)
    return found


@dataclass(frozen=True, slots=True)
class Share:
    """A category's or place's tickets and their share of all the period's tickets."""

    name: str
    tickets: int
    share: float | None

    def as_dict(self, key: str) -> dict[str, object]:
        return {key: self.name, "tickets": self.tickets, "share": self.share}


@dataclass(frozen=True, slots=True)
class KpiReport:
    first: date
    last: date
    by: Bucketing
    zone: str
    total: Figures
    periods: list[tuple[Bucket, Figures]]
    seat_groups: dict[str, Figures]
    departments: dict[str, Figures]
    categories: list[Share]
    places: list[Share]

    def as_dict(self) -> dict[str, object]:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "by": self.by.value,
            "timezone": self.zone,
            "total": self.total.as_dict(),
            "periods": [
                {"period": b.key, "from": b.first.isoformat(), "to": b.last.isoformat()}
                | f.as_dict()
                for b, f in self.periods
            ],
            "seat_groups": [
                {"group": g} | f.as_dict(GROUP_PARTS) for g, f in self.seat_groups.items()
            ],
            "departments": [
                {"department": d} | f.as_dict(DEPARTMENT_PARTS) for d, f in self.departments.items()
            ],
            "categories": [s.as_dict("category") for s in self.categories],
            "places": [s.as_dict("place") for s in self.places],
        }


def _top(counts: Counter[str], total: int, top: int) -> list[Share]:
    ranked = sorted(((n, name) for name, n in counts.items() if name), key=lambda x: (-x[0], x[1]))
    return [Share(name, n, rate(n, total)) for n, name in ranked[:top]]


def kpi_report(
    first: date,
    last: date,
    zone: ZoneInfo,
    by: Bucketing = Bucketing.DAY,
    calls: Iterable[QueuedCall] = (),
    tickets: Iterable[TicketFacts] = (),
    work: Iterable[DepartmentWork] = (),
    callbacks: Iterable[CallbackFacts] = (),
    answer_within_s: float = SERVICE_TARGET_S,
    top: int = TOP,
) -> KpiReport:
    """The figures of the days ``first`` to ``last`` (included, in ``zone``), in
    periods of ``by``; facts outside those days are left out.  Seat groups and
    departments are listed busiest first (offered calls, then tickets; dispatches,
    then tickets), then by name."""
    periods = buckets(first, last, by)
    index = {p.first + timedelta(days=k): i for i, p in enumerate(periods)
             for k in range((p.last - p.first).days + 1)}  # fmt: skip
    total = Figures()
    per_period = [Figures() for _ in periods]
    groups: dict[str, Figures] = defaultdict(Figures)
    departments: dict[str, Figures] = defaultdict(Figures)
    categories: Counter[str] = Counter()
    places: Counter[str] = Counter()

    def slot(moment: datetime | date) -> int | None:
        day = moment.astimezone(zone).date() if isinstance(moment, datetime) else moment
        return index.get(day)

    for call in calls:
        if (i := slot(call.left_at)) is not None:
            for figures in (total, per_period[i], groups[call.group or "（未知）"]):
                figures.add_call(call, answer_within_s)
    for ticket in tickets:
        if (i := slot(ticket.created_at)) is not None:
            for figures in (total, per_period[i]):
                figures.add_ticket(ticket)
            if ticket.seat_group:
                groups[ticket.seat_group].add_ticket(ticket)
            if ticket.department:
                departments[ticket.department].add_ticket(ticket)
            categories[ticket.category] += 1
            places[ticket.place] += 1
    for done in work:
        if (i := slot(done.day)) is not None:
            for figures in (total, per_period[i], departments[done.department]):
                figures.add_work(done)
    for task in callbacks:
        if (i := slot(task.created_at)) is not None:
            for figures in (total, per_period[i]):
                figures.add_callback(task)
            groups[task.seat_group or "（未知）"].add_callback(task)
            departments[task.department or "（未派单）"].add_callback(task)
    return KpiReport(
        first=first,
        last=last,
        by=by,
        zone=zone.key,
        total=total,
        periods=list(zip(periods, per_period, strict=True)),
        seat_groups=dict(
            sorted(groups.items(), key=lambda g: (-g[1].offered, -g[1].tickets, g[0]))
        ),
        departments=dict(
            sorted(departments.items(), key=lambda d: (-d[1].dispatched, -d[1].tickets, d[0]))
        ),
        categories=_top(categories, total.tickets, top),
        places=_top(places, total.tickets, top),
    )
