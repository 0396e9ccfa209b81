"""The 工单管理 console for the centre (agents, supervisors, admins; QA read-only):
the filterable, paged list of tickets with bulk dispatch, one ticket's page (its
whole history, recordings and transcript, the departments' parts, attachments, the
reply under review with its 形式办结 flags, and the actions this user may take),
and for supervisors the departments' figures (承办单位考核).

The pages read what the ticket API shows (masked as ``web.masking`` says, actions
by :mod:`tickets.permissions`); their forms post to the API (``tickets.js``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from tickets.departments import Directory
from tickets.figures import department_figures
from tickets.model import Channel, RequestType, Status
from tickets.store import TicketStore
from tickets.verification_store import VerificationStore
from tickets.verification_tasks import TaskKind, VerificationTask
from web.deps import SupervisorDep, department_directory, get_context, ticket_store
from web.roles import Principal, Role, require_roles
from web.routers.dispatch import EARLIEST, LATEST
from web.routers.tickets import detail_json, summary_json, visible_ticket
from web.routers.verification import VERIFIERS
from web.schemas.query import Day
from web.ticket_access import TicketAccess
from web.ticket_filters import TicketFilters, find_visible
from web.ticket_page import department_options, local_time, page_context, zone_of
from web.verification_views import TaskViews, figures_of
from web.verification_views import report as verification_report

router = APIRouter(tags=["ticket pages"])

CENTRE = (Role.AGENT, Role.SUPERVISOR, Role.QA, Role.ADMIN)
CentreUser = Annotated[Principal, Depends(require_roles(*CENTRE))]
PAGE_SIZE = 30
NO_STORE = "工单库不可用（本节点未配置工单库）"
CHANNEL_LABELS = {Channel.PHONE: "电话", Channel.WEB: "网页", Channel.QR: "扫码"}


def console_filters(
    status: Annotated[Status | Literal[""], Query(description="Its state.")] = "",
    request_type: Annotated[RequestType | Literal[""], Query()] = "",
    domain: Annotated[str, Query(max_length=40)] = "",
    category: Annotated[str, Query(max_length=40)] = "",
    department: Annotated[str, Query(max_length=100)] = "",
    lead_only: bool = False,
    channel: Annotated[Channel | Literal[""], Query()] = "",
    caller: Annotated[str, Query(max_length=40)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
    overdue: bool = False,
    due_soon: bool = False,
    supervised: bool = False,
    duplicates: bool = False,
    verification_review: bool = False,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> TicketFilters:
    """The list's filters from the query string (empty fields, as a form sends them,
    mean any)."""
    return TicketFilters(
        status=str(status),
        request_type=str(request_type),
        domain=domain,
        category=category,
        department=department,
        lead_only=lead_only,
        channel=str(channel),
        caller=caller,
        q=q,
        overdue=overdue,
        due_soon=due_soon,
        supervised=supervised,
        duplicates=duplicates,
        verification_review=verification_review,
        page=page,
    )


Filters = Annotated[TicketFilters, Depends(console_filters)]


def _templates(request: Request) -> Any:
    return request.app.state.templates


@router.get("/tickets", response_class=HTMLResponse)
async def tickets_page(request: Request, principal: CentreUser, filters: Filters) -> HTMLResponse:
    """工单管理 · 工单列表: filters, the page of tickets, bulk dispatch."""
    context = get_context(request)
    store = context.tickets
    access = TicketAccess(context, principal)
    rows: list[dict[str, Any]] = []
    more = False
    if store is not None:
        now = datetime.now(UTC)
        query = filters.query(
            access, store.policy.deadlines, now, PAGE_SIZE + 1, (filters.page - 1) * PAGE_SIZE
        )
        found = await asyncio.to_thread(find_visible, store, query, access)
        rows = [summary_json(t, access, store, now) for t in found[:PAGE_SIZE]]
        more = len(found) > PAGE_SIZE
    zone = zone_of(context)
    return _templates(request).TemplateResponse(
        request,
        "tickets.html",
        {
            "principal": principal,
            "tab": "list",
            "filters": filters,
            "rows": rows,
            "more": more,
            "unavailable": NO_STORE if store is None else "",
            "statuses": list(Status),
            "request_types": [t.value for t in RequestType],
            "channels": CHANNEL_LABELS,
            "options": department_options(access.directory),
            "may_dispatch": principal.role is not Role.QA,
            "may_see_figures": principal.role in (Role.SUPERVISOR, Role.ADMIN),
            "local": lambda value: local_time(value, zone),
        },
    )


@router.get("/tickets/figures", response_class=HTMLResponse)
async def figures_page(
    request: Request,
    principal: SupervisorDep,
    start: Annotated[Day | None, Query(alias="from")] = None,
    end: Annotated[Day | None, Query(alias="to")] = None,
) -> HTMLResponse:
    """工单管理 · 承办单位考核: figures per department over a period."""
    context = get_context(request)
    store = context.tickets
    directory = department_directory(context)
    rows: list[dict[str, Any]] = []
    verification: dict[str, Any] | None = None
    now = datetime.now(UTC)
    policy = store.policy.deadlines if store is not None else None
    today = policy.local_day(now) if policy is not None else now.date()
    last = end or today
    first = start or last - timedelta(days=30)
    if store is not None and policy is not None:
        zone = ZoneInfo(policy.timezone)
        begin = datetime.combine(first, time(), zone)
        finish = datetime.combine(min(last, date(9998, 12, 31)) + timedelta(days=1), time(), zone)
        tickets = await asyncio.to_thread(store.for_figures, begin, finish)
        figures = department_figures(
            tickets, begin, finish, now, policy, directory.sign_within_hours
        )
        for f in figures:
            found = directory.find(f.department)
            rows.append(f.as_dict() | {"name": found.name if found else f.department})
        verification = await _verification_figures(store, directory, first, last, today, zone)
    return _templates(request).TemplateResponse(
        request,
        "ticket_figures.html",
        {
            "principal": principal,
            "tab": "figures",
            "rows": rows,
            "first": first,
            "last": last,
            "unavailable": NO_STORE if store is None else "",
            "may_see_figures": True,
            "verification": verification,
        },
    )


async def _verification_figures(
    store: TicketStore, directory: Directory, first: date, last: date, today: date, zone: ZoneInfo
) -> dict[str, Any]:
    """回访 figures of the tasks made today, this week, this month (totals) and in the
    period (per department and per seat group)."""

    def start(day: date) -> datetime:
        return datetime.combine(min(max(day, EARLIEST), LATEST), time(), zone)

    periods = {
        "今日": today,
        "本周": today - timedelta(days=today.weekday()),
        "本月": today.replace(day=1),
    }
    begin, finish = start(first), start(min(last, LATEST - timedelta(days=1)) + timedelta(days=1))
    end_today = start(today + timedelta(days=1))
    earliest = min(begin, *map(start, periods.values()))
    tasks, redo = await asyncio.to_thread(
        verification_report, store, earliest, max(finish, end_today)
    )
    chosen = figures_of(tasks, redo, directory, begin, finish).as_dict()
    return {
        "periods": {
            label: figures_of(tasks, redo, directory, start(day), end_today).total.as_dict()
            for label, day in periods.items()
        },
        **chosen,
    }


@router.get("/tickets/{number}", response_class=HTMLResponse)
async def ticket_page(request: Request, principal: CentreUser, number: str) -> HTMLResponse:
    """One ticket: its facts, parts, deadlines, review, attachments, history, actions."""
    return await render_ticket(request, principal, number, "/tickets")


async def render_ticket(
    request: Request, principal: Principal, number: str, home: str
) -> HTMLResponse:
    """The ticket page for ``principal`` (404 for a ticket they may not see)."""
    context = get_context(request)
    store = ticket_store(context)
    access = TicketAccess(context, principal)
    ticket = await visible_ticket(store, access, number)
    now = datetime.now(UTC)
    shown = await detail_json(ticket, access, store, now)
    tasks: list[dict[str, Any]] = []
    if home == "/tickets":  # the centre's page: the ticket's 回访
        views = TaskViews(principal, access.directory, now)
        root = context.settings.recordings_dir

        def verification() -> list[dict[str, Any]]:
            found = VerificationStore(store).for_ticket(ticket.number)
            return [views.detail(task, root) for task in sorted(found, key=_task_order)]

        tasks = await asyncio.to_thread(verification)
    page = page_context(
        request, principal, shown, home, tasks, may_play=principal.role in VERIFIERS
    )
    return _templates(request).TemplateResponse(request, "ticket.html", page)


def _task_order(task: VerificationTask) -> tuple[int, int, int]:
    """The latest round first, calls before 现场核查, then as made."""
    return (-task.round, task.kind is TaskKind.ON_SITE, task.id or 0)
