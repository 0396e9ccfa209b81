"""Dispatch and the department directory in the API: bulk dispatch (批量派单) of
accepted tickets, the directory for pickers, and the departments' figures
(承办单位考核) for supervisors.

Bulk dispatch applies the same permissions and lifecycle as one ticket's
``dispatch`` transition, ticket by ticket, each audited; the answer says what
became of each (a ticket the caller may not see is "no such ticket").
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request

from tickets.figures import department_figures
from tickets.lifecycle import Action, TransitionError
from tickets.store import ConcurrentChange, TicketStore, UnknownTicket
from web import audit
from web.csrf import require_csrf
from web.deps import ContextDep, SupervisorDep, department_directory, ticket_store
from web.roles import Principal, Role, require_roles
from web.routers.tickets import Reader
from web.schemas.errors import refusals
from web.schemas.query import Day
from web.schemas.ticket_work import (
    DepartmentList,
    DepartmentReport,
    DispatchOutcome,
    DispatchRequest,
    DispatchResult,
)
from web.ticket_access import TicketAccess, actor_name

router = APIRouter(tags=["tickets"])

Dispatcher = Annotated[Principal, Depends(require_roles(Role.AGENT, Role.SUPERVISOR, Role.ADMIN))]
_SIGNED_IN = refusals(401, 403, 503, _503="No ticket store on this node.")
REPORT_DAYS = 30  # the figures' default period: the last 30 days
EARLIEST, LATEST = date(1970, 1, 1), date(9998, 12, 31)  # days a period is held within


def _outcome(number: str, code: int, detail: str = "", status: Any = None) -> DispatchOutcome:
    return DispatchOutcome(number=number, ok=code == 200, code=code, detail=detail, status=status)


def _dispatch_one(
    store: TicketStore,
    access: TicketAccess,
    number: str,
    body: DispatchRequest,
    now: datetime,
) -> DispatchOutcome:
    """Dispatch one ticket as its own transition would (blocking)."""
    try:
        ticket = store.get(number)
    except UnknownTicket:
        return _outcome(number, 404, f"there is no ticket {number}")
    refused = access.refusal(ticket, Action.DISPATCH)
    if refused is not None:
        code = 404 if refused.hidden else 403
        return _outcome(number, code, refused.reason, None if refused.hidden else ticket.status)
    co = body.co_departments
    try:
        changed = store.transition(
            ticket.number,
            Action.DISPATCH,
            actor_name(access.principal),
            now,
            department=body.department,  # by id, name or alias: the lifecycle names it
            co_departments=None if co is None else tuple(co),
            note=body.note,
            by_department=access.by_department,
            rules=access.directory,
        )
    except (TransitionError, ConcurrentChange) as exc:
        return _outcome(number, 409, str(exc), ticket.status)
    except UnknownTicket:
        return _outcome(number, 404, f"there is no ticket {number}")
    return _outcome(number, 200, "", changed.status)


@router.post(
    "/api/tickets/bulk/dispatch",
    response_model=DispatchResult,
    summary="Dispatch several accepted tickets to one department (批量派单)",
    responses=_SIGNED_IN,
    dependencies=[Depends(require_csrf)],
)
async def dispatch_tickets(
    body: DispatchRequest, request: Request, context: ContextDep, principal: Dispatcher
) -> DispatchResult:
    """Each ticket is dispatched as `POST /api/tickets/{number}/transitions` with
    `dispatch` would (the same permissions and checks) and audited; `outcomes` says for
    each whether it was (`code` 200) or why not (404 no such ticket or not the
    caller's, 403 refused for the role, 409 not possible in its state)."""
    store = ticket_store(context)
    sink = audit.audit_log(request)  # no audit log, no write
    access = TicketAccess(context, principal)
    now = datetime.now(UTC)
    who = audit.Actor.from_request(request)
    outcomes = []
    for number in body.numbers:
        outcome = await asyncio.to_thread(_dispatch_one, store, access, number, body, now)
        if outcome.ok:
            detail = {"action": "dispatch", "from": "accepted", "to": outcome.status, "bulk": True}
            await asyncio.to_thread(sink.add, who, "ticket.transition", number, detail)
        outcomes.append(outcome)
    return DispatchResult(dispatched=sum(o.ok for o in outcomes), outcomes=outcomes)


@router.get(
    "/api/departments",
    response_model=DepartmentList,
    summary="The department directory, for pickers",
    responses=refusals(401, 403),
)
async def list_departments(
    context: ContextDep,
    principal: Reader,
    under: Annotated[
        str, Query(max_length=100, description="Only the units below this one (its id).")
    ] = "",
) -> dict[str, Any]:
    """Every unit of the directory (市级部门, 区, 街道, 社区) in its file's order: id,
    name, level and parent; with `under`, only the units below that one (for sending a
    ticket down: 三级派单)."""
    directory = department_directory(context)
    units = list(directory)
    if under:
        found = directory.find(under)
        units = list(directory.descendants(found.id)) if found is not None else []
    return {
        "departments": [
            {
                "id": u.id,
                "name": u.name,
                "level": u.level.value,
                "level_label": u.level.label,
                "parent": u.parent,
            }
            for u in units
        ]
    }


# A report's period, as every figures route takes it.
FromDay = Annotated[
    Day | None, Query(alias="from", description="First day (default: 30 days before `to`).")
]
ToDay = Annotated[Day | None, Query(alias="to", description="Last day, included (default: today).")]


def report_period(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The days asked for, held within what a timestamp holds (``to`` before ``from``:
    no day, so no figures)."""
    last = min(max(end or today, EARLIEST), LATEST)
    first = min(max(start or (last - timedelta(days=REPORT_DAYS)), EARLIEST), LATEST)
    return first, last


@router.get(
    "/api/report/departments",
    response_model=DepartmentReport,
    summary="Figures per department (承办单位考核)",
    responses=_SIGNED_IN,
)
async def report_departments(
    context: ContextDep,
    principal: SupervisorDep,
    start: FromDay = None,
    end: ToDay = None,
) -> dict[str, Any]:
    """For tickets dispatched in the period, per department: 按时签收率, 按时办结率,
    退单率 and how many returns were upheld, 重办率, average handling time, overdue now
    (as `hotline report departments`)."""
    store = ticket_store(context)
    directory = department_directory(context)
    policy = store.policy.deadlines
    now = datetime.now(UTC)
    first, last = report_period(start, end, policy.local_day(now))
    zone = ZoneInfo(policy.timezone)
    begin = datetime.combine(first, time(), zone)
    finish = datetime.combine(last + timedelta(days=1), time(), zone)
    tickets = await asyncio.to_thread(store.for_figures, begin, finish)
    figures = department_figures(tickets, begin, finish, now, policy, directory.sign_within_hours)

    def name(department: str) -> str:
        found = directory.find(department)
        return found.name if found is not None else department

    return {
        "from": first,
        "to": last,
        "departments": [f.as_dict() | {"name": name(f.department)} for f in figures],
    }
