"""The KPI report (:mod:`analytics.kpi`) over a node's SQL store, for ``hotline
report kpi`` and ``GET /api/analytics/kpi``, and the same report as an Excel
workbook.

Where each fact comes from, counted as the centre's other reports count it:

- calls: the durable outbox events that record a call leaving a queue
  (``call.connected``, ``call.abandoned``, ``callback.requested``, with the seat
  group and ``waited_s``), read as the wallboard refills its figures after a
  restart; an answered call's talk time runs from its ``call.connected`` to its
  record ``call.transcript`` (written when the caller's leg ended) or to its next
  connection after a transfer.  The outbox keeps published events a week
  (``OutboxPublisher.keep_published``): ``calls_from`` says since when calls are
  known;
- tickets: the tickets created in the period (not the centre's own 主动治理工单,
  not discarded ones): 受理 and 即时办结 from their audit trails, repeats from
  their links (``link``, but not a ticket closed into a 主动治理工单);
- departments: :func:`tickets.figures.department_figures` for each day's
  dispatches, so the sum over the period is ``hotline report departments``;
- 回访: each task as :class:`verification.figures.VerificationFigures` counts it,
  so the sum over the period is ``hotline report verification``.

A ticket's seat group is its accepting agent's first group (``[[agents]]``), as
the 回访 tasks record it.  Filters: ``group`` narrows calls, tickets, the
departments' work and 回访 to that seat group; ``department`` and ``category``
narrow tickets, work and 回访 (calls queue for seat groups, not departments or
categories: with either filter no call is counted).
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from analytics.kpi import (
    ALL_PARTS,
    COLUMNS,
    DEPARTMENT_PARTS,
    GROUP_PARTS,
    Bucketing,
    CallbackFacts,
    CallOutcome,
    DepartmentWork,
    Kind,
    QueuedCall,
    TicketFacts,
    kpi_report,
)
from analytics.places import places_in
from events import messages as m
from events.outbox import Outbox, OutboxRow, outbox_table
from tickets.figures import department_figures
from tickets.model import Status, Ticket
from tickets.verification_store import TaskQuery, VerificationStore
from tickets.verification_tasks import VerificationTask
from verification.figures import VerificationFigures

MAX_DAYS = 3660  # ten years: a longer period is refused
# How a call left its queue, by the durable event that recorded it: the same
# events ``ivr.hub.queue_log.OUTCOME_EVENTS`` refills the wallboard from (web may
# not import ivr; tests/test_kpi_report.py holds the two to the same figures).
OUTCOME_EVENTS = {
    m.CALL_CONNECTED: CallOutcome.ANSWERED,
    m.CALL_ABANDONED: CallOutcome.ABANDONED,
    m.CALLBACK_REQUESTED: CallOutcome.CALLBACK,
}
CALL_EVENTS = (*OUTCOME_EVENTS, m.CALL_TRANSCRIPT)
PROACTIVE_LINK = "主动治理"  # the reason a ticket closed into a 主动治理工单 is linked with
UNSIGNED = "（未派单）"


class KpiRefused(ValueError):
    """The report cannot be made as asked (a reversed or too long period, an unknown
    department); the message says why."""


@dataclass(frozen=True, slots=True)
class KpiQuery:
    """What to report: the days (included), how to split them, and the filters
    (empty: all); ``department`` by the directory's id, name or alias, ``category``
    a category path or its first levels."""

    first: date
    last: date
    by: Bucketing = Bucketing.DAY
    group: str = ""
    department: str = ""
    category: str = ""


def queued_calls(rows: Iterable[OutboxRow]) -> list[QueuedCall]:
    """The queue outcomes among stored call events, oldest first, each answered call
    with its talk time when its end is among ``rows``; events of other types or
    without a group are skipped (as the wallboard's refill skips them)."""
    timeline: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    found: list[tuple[datetime, str, str, CallOutcome, float]] = []
    for row in sorted(rows, key=lambda r: (r.created_at, r.seq)):
        try:
            message = row.message
        except ValueError:
            continue  # not a message this node can read
        call_id = str(message.data.get("call_id", ""))
        if message.type in (m.CALL_CONNECTED, m.CALL_TRANSCRIPT) and call_id:
            timeline[call_id].append((row.created_at, message.type))
        outcome = OUTCOME_EVENTS.get(message.type)
        group = message.data.get("group")
        if outcome is None or not isinstance(group, str) or not group:
            continue
        waited = message.data.get("waited_s")
        waited_s = float(waited) if isinstance(waited, int | float) else 0.0
        found.append((row.created_at, call_id, group, outcome, max(0.0, waited_s)))

    def talk(call_id: str, at: datetime) -> float | None:
        later = [t for t, _ in timeline.get(call_id, ()) if t > at]
        return (min(later) - at).total_seconds() if later else None

    return [
        QueuedCall(
            group,
            at,
            outcome,
            waited_s,
            talk(call_id, at) if outcome is CallOutcome.ANSWERED and call_id else None,
        )
        for at, call_id, group, outcome, waited_s in found
    ]


def is_repeat(ticket: Ticket) -> bool:
    """Linked to an earlier ticket as a repeat (and not unlinked since); a ticket
    closed into a 主动治理工单 is linked too, but is no repeat call."""
    linked = False
    for entry in ticket.audit:
        if entry.action == "link":
            linked = entry.reason != PROACTIVE_LINK
        elif entry.action == "unlink":
            linked = False
    return linked


def category_of(ticket: Ticket) -> str:
    return ticket.category_path or ticket.domain


def in_category(category: str, wanted: str) -> bool:
    return not wanted or category == wanted or category.startswith(wanted.rstrip("/") + "/")


def ticket_facts(
    ticket: Ticket, department_name: Callable[[str], str], seat_group: str
) -> TicketFacts:
    actions = {entry.action for entry in ticket.audit}
    return TicketFacts(
        number=ticket.number,
        created_at=ticket.created_at,
        accepted="accept" in actions,
        closed_at_once="close_at_once" in actions,
        repeat=is_repeat(ticket),
        category=category_of(ticket),
        place=places_in(ticket.summary, hint=ticket.address).main,
        department=department_name(ticket.lead_department) if ticket.lead_department else "",
        seat_group=seat_group,
    )


def callback_facts(
    task: VerificationTask, redo_count: int, department_name: Callable[[str], str]
) -> CallbackFacts:
    """One task counted by :class:`VerificationFigures` itself, so that the sums are
    the 回访 report's."""
    one = VerificationFigures()
    one.add(task, redo_count)
    return CallbackFacts(
        created_at=task.created_at,
        department=department_name(task.department) if task.department else UNSIGNED,
        seat_group=task.seat_group,
        due=bool(one.due),
        answered=bool(one.answered),
        rated=bool(one.rated),
        satisfied=bool(one.satisfied),
    )


def department_work(
    tickets: Sequence[Ticket],
    days: Sequence[date],
    zone: ZoneInfo,
    now: datetime,
    policy: Any,
    sign_within_hours: float,
    department_name: Callable[[str], str],
) -> list[DepartmentWork]:
    """Each day's dispatches per department, counted by ``department_figures``
    over the tickets with an audit entry that day."""
    wanted = set(days)
    by_day: dict[date, list[Ticket]] = defaultdict(list)
    for ticket in tickets:
        for day in sorted({entry.at.astimezone(zone).date() for entry in ticket.audit} & wanted):
            by_day[day].append(ticket)
    found = []
    for day, some in sorted(by_day.items()):
        begin = datetime.combine(day, time(), zone)
        end = datetime.combine(day + timedelta(days=1), time(), zone)
        for f in department_figures(some, begin, end, now, policy, sign_within_hours):
            if f.dispatched:
                found.append(
                    DepartmentWork(
                        department_name(f.department),
                        day,
                        f.dispatched,
                        f.signed_on_time,
                        f.answered,
                        f.answered_on_time,
                    )
                )
    return found


def agents_seat_group(agents: Iterable[Any]) -> Callable[[str], str]:
    """An agent id's seat group from ``[[agents]]``: their first, as the 回访 tasks
    record it for the agent who accepted the ticket ("" for anyone else)."""
    groups = {agent.id: agent.seat_groups[0] for agent in agents if agent.seat_groups}
    return lambda owner: groups.get(owner, "")


def _calls_from(store: Any) -> datetime | None:
    """The oldest call event the outbox still holds: calls before it are not known."""
    topic = outbox_table.c.topic
    statement = select(func.min(outbox_table.c.created_at)).where(
        or_(*(topic.endswith("/" + kind, autoescape=True) for kind in CALL_EVENTS))
    )
    with store.engine.connect() as connection:
        return connection.execute(statement).scalar_one()


def read_kpi(
    store: Any,
    query: KpiQuery,
    now: datetime,
    directory: Any,
    seat_group_of: Callable[[str], str] = lambda owner: "",
    outbox: Outbox | None = None,
) -> dict[str, object]:
    """The report as ``hotline report kpi --json`` prints it (blocking: run it on a
    thread).  ``store`` is a ``tickets.store.TicketStore``, ``directory`` the
    department directory, ``seat_group_of`` an agent id's seat group; ``KpiRefused``
    for a period or department that cannot be reported."""
    if query.last < query.first:
        raise KpiRefused(f"to {query.last} is before from {query.first}")
    days = [query.first + timedelta(days=k) for k in range((query.last - query.first).days + 1)]
    if len(days) > MAX_DAYS:
        raise KpiRefused(f"a period of at most {MAX_DAYS} days, not {len(days)}")
    department = ""
    if query.department:
        found = directory.find(query.department)
        if found is None:
            raise KpiRefused(f"there is no department {query.department!r} in the directory")
        department = found.id

    def name(key: str) -> str:
        unit = directory.find(key)
        return unit.name if unit is not None else key

    policy = store.policy.deadlines
    zone = ZoneInfo(policy.timezone)
    begin = datetime.combine(query.first, time(), zone)
    finish = datetime.combine(query.last + timedelta(days=1), time(), zone)

    def group_of(ticket: Ticket) -> str:
        return seat_group_of(ticket.owner) if ticket.owner else ""

    def wanted(ticket: Ticket) -> bool:
        return (
            (not query.group or group_of(ticket) == query.group)
            and (not department or ticket.lead_department == department)
            and in_category(category_of(ticket), query.category)
        )

    calls: list[QueuedCall] = []
    outbox = outbox or Outbox(store.engine)
    if not department and not query.category:
        rows = outbox.since(begin, CALL_EVENTS)
        calls = [
            c
            for c in queued_calls(rows)
            if c.left_at < finish and (not query.group or c.group == query.group)
        ]
    everything = store.for_figures(begin, finish)
    chosen = [t for t in everything if wanted(t)]
    tickets = [
        ticket_facts(t, name, group_of(t))
        for t in chosen
        if begin <= t.created_at < finish
        and t.channel != "proactive"
        and t.status is not Status.DISCARDED
    ]
    work = department_work(
        [t for t in everything if (not query.group or group_of(t) == query.group)
         and in_category(category_of(t), query.category)],
        days, zone, now, policy, directory.sign_within_hours, name,
    )  # fmt: skip
    if department:
        work = [w for w in work if w.department == name(department)]
    tasks = VerificationStore(store).find(
        TaskQuery(created_from=begin, created_to=finish, limit=1_000_000)
    )
    verified = {number: store.get(number) for number in {t.ticket for t in tasks}}
    callbacks = [
        callback_facts(t, verified[t.ticket].redo_count, name)
        for t in tasks
        if (not query.group or t.seat_group == query.group)
        and (not department or t.department == department)
        and in_category(category_of(verified[t.ticket]), query.category)
    ]
    report = kpi_report(
        query.first, query.last, zone, query.by, calls, tickets, work, callbacks
    ).as_dict()
    known = _calls_from(store)
    return {
        **report,
        "filters": {
            "group": query.group or None,
            "department": name(department) if department else None,
            "category": query.category or None,
        },
        "calls_from": known.isoformat() if known is not None else None,
    }


# -- the workbook -----------------------------------------------------------------

BY_LABELS = {"day": "按日", "week": "按周", "month": "按月"}
_FORMATS = {Kind.COUNT: "0", Kind.RATE: "0.0%", Kind.SECONDS: "0.0"}


def _columns(parts: Iterable[str]) -> list[tuple[str, str, Kind]]:
    return [column for part in parts for column in COLUMNS[part]]


def _width(value: object) -> int:
    text = value.isoformat() if isinstance(value, date) else str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _sheet(book: Any, title: str, heads: list[tuple[str, str]], rows: list[list[object]]) -> None:
    """One view: Chinese headers in a frozen first row, each column with its number
    format (``heads``: header, format) and a width that fits its longest value."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(title)
    sheet.append([head for head, _ in heads])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for k, (head, number_format) in enumerate(heads, start=1):
        for (cell,) in sheet.iter_rows(min_row=2, min_col=k, max_col=k):
            if number_format:
                cell.number_format = number_format
        longest = max([_width(head), *(_width(r[k - 1]) for r in rows if r[k - 1] is not None)])
        sheet.column_dimensions[get_column_letter(k)].width = min(60, longest + 3)
    sheet.freeze_panes = "A2"


def _day(text: str) -> date:
    return date.fromisoformat(text)


def workbook(report: dict[str, Any]) -> bytes:
    """The report (as :func:`read_kpi` returns it) as an .xlsx workbook, one sheet
    per view: 总览, 按日/按周/按月, 坐席组, 承办单位, 类别, 地点.  Counts and seconds
    are numbers, rates numbers with a percent format, days dates."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    filters = report["filters"]
    overview: list[list[object]] = [
        ["起始日期", _day(report["from"])],
        ["截止日期", _day(report["to"])],
        ["时区", report["timezone"]],
        ["坐席组", filters["group"] or "全部"],
        ["承办单位", filters["department"] or "全部"],
        ["类别", filters["category"] or "全部"],
    ]
    formats: list[str] = ["yyyy-mm-dd", "yyyy-mm-dd", "", "", "", ""]
    for key, label, kind in _columns(ALL_PARTS):
        overview.append([label, report["total"][key]])
        formats.append(_FORMATS[kind])
    _sheet(book, "总览", [("指标", ""), ("数值", "")], overview)
    sheet = book["总览"]
    for row, number_format in zip(sheet.iter_rows(min_row=2, min_col=2), formats, strict=True):
        if number_format:
            row[0].number_format = number_format

    every = _columns(ALL_PARTS)
    _sheet(
        book,
        BY_LABELS[report["by"]],
        [("时段", ""), ("起", "yyyy-mm-dd"), ("止", "yyyy-mm-dd")]
        + [(label, _FORMATS[kind]) for _, label, kind in every],
        [
            [p["period"], _day(p["from"]), _day(p["to"])] + [p[key] for key, _, _ in every]
            for p in report["periods"]
        ],
    )
    for title, key, parts, rows in (
        ("坐席组", "group", GROUP_PARTS, report["seat_groups"]),
        ("承办单位", "department", DEPARTMENT_PARTS, report["departments"]),
    ):
        columns = _columns(parts)
        _sheet(
            book,
            title,
            [(title, "")] + [(label, _FORMATS[kind]) for _, label, kind in columns],
            [[r[key]] + [r[k] for k, _, _ in columns] for r in rows],
        )
    for title, key, rows in (
        ("类别", "category", report["categories"]),
        ("地点", "place", report["places"]),
    ):
        _sheet(
            book,
            title,
            [(title, ""), ("工单", "0"), ("占比", "0.0%")],
            [[r[key], r["tickets"], r["share"]] for r in rows],
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
