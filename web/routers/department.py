"""The department console (承办单位工作台): a department's handler and reviewer see
their department's tickets — those it leads (主办), co-handles (协办) or was
whistled into (吹哨报到), and its sub-units' read-only — in tabs by where each
stands for the department (待签收, 办理中, 待审核, 已答复, 退单申请中), with the
times to sign or report in and the due dates counting down; the ticket page is
the centre's (``web/templates/ticket.html``) with the department's actions.

Who may see and do what is :mod:`tickets.permissions` (``web.ticket_access``);
the actions go through the ticket API (``web.routers.tickets``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from tickets.model import WITH_DEPARTMENT, Status, Ticket
from tickets.store import TicketQuery, TicketStore
from web.deps import get_context
from web.roles import Principal, Role, require_roles
from web.routers.ticket_pages import render_ticket
from web.ticket_access import TicketAccess
from web.ticket_page import local_time, zone_of
from web.ticket_views import countdown, hours_countdown

router = APIRouter(tags=["department"])

DEPARTMENT_ROLES = (Role.DEPARTMENT_HANDLER, Role.DEPARTMENT_REVIEWER)
DepartmentUser = Annotated[Principal, Depends(require_roles(*DEPARTMENT_ROLES))]
TABS = {
    "to_sign": "待签收",
    "handling": "办理中",
    "reviewing": "待审核",
    "answered": "已答复",
    "returning": "退单申请中",
}
Tab = Literal["to_sign", "handling", "reviewing", "answered", "returning"]
ANSWERED = frozenset({Status.REPLIED, Status.CLOSED, Status.CALLED_BACK, Status.RATED})
AT_MOST = 500  # tickets read for the console (the open ones come first: newest first)


def tab_of(ticket: Ticket, department: str) -> str:
    """Where ``ticket`` stands for ``department`` (a sub-unit's: as its lead stands)."""
    part = ticket.assignment_of(department) or ticket.lead
    if ticket.status is Status.RETURNED:
        return "returning"
    if ticket.status is Status.REVIEWING:
        return "reviewing"
    if ticket.status in WITH_DEPARTMENT and part is not None and part.signed_at is None:
        return "to_sign"
    if ticket.status in WITH_DEPARTMENT:
        return "handling"
    return "answered" if ticket.status in ANSWERED else "handling"


def _row(ticket: Ticket, access: TicketAccess, store: TicketStore, now: datetime) -> dict[str, Any]:
    mine = access.principal.department
    policy = store.policy.deadlines
    today = policy.local_day(now)
    part = ticket.assignment_of(mine)
    shown = part or ticket.lead
    left = policy.working_days_left(ticket.due_date, now)
    late_part = (
        shown is not None
        and shown.signed_at is None
        and shown.due_at is not None
        and now > shown.due_at
        and ticket.status in WITH_DEPARTMENT
    )
    return {
        "number": ticket.number,
        "created_at": ticket.created_at,
        "request_type": ticket.request_type.value,
        "summary": ticket.summary or ticket.content[:60],
        "address": ticket.address,
        "status": ticket.status.value,
        "status_label": ticket.status.label,
        "part": part.role.label if part else "下级单位",
        "unit": "" if part else access.department_name(ticket.lead_department),
        "own": part is not None,
        "part_due_label": "报到时限" if shown and shown.role.value == "whistle" else "签收时限",
        "part_due_at": shown.due_at if shown else None,
        "part_countdown": hours_countdown(shown.due_at, shown.signed_at, now) if shown else "",
        "part_late": late_part,
        "due_date": ticket.due_date,
        "countdown": countdown(ticket.due_date, today, left, ticket.status in WITH_DEPARTMENT),
        "overdue": ticket.is_overdue(today),
        "supervised": ticket.supervised,
        "due_soon": ticket.due_soon_at is not None,
        "owes_report": bool(part and part.owes_report and part.signed_at),
    }


def _tickets(store: TicketStore, access: TicketAccess) -> list[Ticket]:
    query = TicketQuery(departments=access.scope or ("\0",), limit=AT_MOST)
    return [t for t in store.find(query) if access.may_see(t)]


@router.get("/department", response_class=HTMLResponse)
async def department_page(
    request: Request,
    principal: DepartmentUser,
    tab: Annotated[Tab | Literal[""], Query(description="Which tab.")] = "",
) -> HTMLResponse:
    """承办单位工作台: the department's tickets in tabs, with their countdowns."""
    context = get_context(request)
    access = TicketAccess(context, principal)
    store = context.tickets
    rows: dict[str, list[dict[str, Any]]] = {key: [] for key in TABS}
    if store is not None:
        now = datetime.now(UTC)
        for ticket in await asyncio.to_thread(_tickets, store, access):
            row = access.show(_row(ticket, access, store, now), ticket)
            rows[tab_of(ticket, principal.department)].append(row)
    chosen = tab or next((key for key in TABS if rows[key]), "to_sign")
    zone = zone_of(context)
    return request.app.state.templates.TemplateResponse(
        request,
        "department.html",
        {
            "principal": principal,
            "department": access.department_name(principal.department),
            "tabs": TABS,
            "tab": chosen,
            "counts": {key: len(found) for key, found in rows.items()},
            "rows": rows[chosen],
            "unavailable": "工单库不可用（本节点未配置工单库）" if store is None else "",
            "local": lambda value: local_time(value, zone),
        },
    )


@router.get("/department/tickets/{number}", response_class=HTMLResponse)
async def department_ticket_page(
    request: Request, principal: DepartmentUser, number: str
) -> HTMLResponse:
    """One of the department's tickets, with the actions its user may take."""
    return await render_ticket(request, principal, number, "/department")
