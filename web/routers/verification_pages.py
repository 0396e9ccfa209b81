"""The 回访工作台 (/verification) for verifiers (回访员), supervisors and admins: the
tasks in tabs (待人工回访, 现场核查, 待回访, 已回访, 不回访) with the citizen's number
(masked), why a person is needed, the tries, the due time counting down, the
department and who holds each; a line on the node's survey calls (running,
paused, off).  A task's page (/verification/tasks/{id}) shows the ticket's
content and the department's reply, every attempt, the answers, the recording,
and the verifier's steps (领取, 拨打, 录入结果, 核查结果 with photos), which
``web/static/verification.js`` posts to the 回访 API (``web.routers.verification``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from tickets.model import Rating, Resolution
from tickets.store import UnknownTicket
from tickets.verification_store import VerificationStore
from web.console_view import ConsoleView
from web.deps import department_directory, get_context, ticket_store
from web.masking import mask_for
from web.roles import Role
from web.routers.verification import TaskId, Verifier, recordings_root, task_or_404
from web.ticket_page import local_time, zone_of
from web.ticket_views import attachments_view
from web.verification_views import TABS, TaskViews, tab_tasks

router = APIRouter(tags=["verification pages"])

Tab = Literal["person", "on_site", "scheduled", "done", "skipped"]
NO_STORE = "工单库不可用（本节点未配置工单库）"
SUMMARY_CHARS = 40  # of the content, for a ticket without a summary
REVIEWERS = frozenset({Role.SUPERVISOR, Role.ADMIN})  # who may open 工单管理's ticket page


def survey_status(console: ConsoleView | None) -> tuple[str, str]:
    """The node's survey calls in words, and their state (on, paused, off)."""
    status = getattr(console, "verification_status", None)
    if status is None:
        return "本节点未接入呼叫，自动回访不可用", "off"
    found = status()
    if found is None:
        return "自动回访未开启（verification.enabled）", "off"
    calls = int(found.get("calls", 0) or 0)
    if found.get("paused"):
        return f"自动回访已暂停，通话中 {calls} 路", "paused"
    most = found.get("max_calls")
    return f"自动回访进行中，通话中 {calls}" + (f"/{most}" if most else "") + " 路", "on"


def _tabs(
    store: VerificationStore, shown: TaskViews, tab: str
) -> tuple[dict[str, int], str, list[dict[str, Any]]]:
    """Each tab's count, the tab shown (asked for, else the first of 待人工回访 and
    现场核查 with tasks) and its rows, each with its ticket's summary (blocking)."""
    found = {key: tab_tasks(store, key, shown.now) for key in TABS}
    chosen = tab or next((key for key in ("person", "on_site") if found[key]), "person")
    summaries: dict[str, str] = {}
    for number in dict.fromkeys(task.ticket for task in found[chosen]):
        try:
            ticket = store.tickets.get(number)
        except UnknownTicket:
            continue
        summaries[number] = shown.text(ticket.summary or ticket.content[:SUMMARY_CHARS])
    rows = [shown.row(task) | {"summary": summaries.get(task.ticket, "")} for task in found[chosen]]
    return {key: len(tasks) for key, tasks in found.items()}, chosen, rows


@router.get("/verification", response_class=HTMLResponse)
async def verification_page(
    request: Request,
    principal: Verifier,
    tab: Annotated[Tab | Literal[""], Query(description="Which tab.")] = "",
) -> HTMLResponse:
    """回访工作台: the tasks in tabs, with their countdowns, and the survey's state."""
    context = get_context(request)
    zone = zone_of(context)
    shown = TaskViews(principal, department_directory(context), datetime.now(UTC))
    counts = {key: 0 for key in TABS}
    chosen, rows = tab or "person", []
    if context.tickets is not None:
        store = VerificationStore(context.tickets)
        counts, chosen, rows = await asyncio.to_thread(_tabs, store, shown, tab)
    status, state = survey_status(context.console)
    return request.app.state.templates.TemplateResponse(
        request,
        "verification.html",
        {
            "principal": principal,
            "tabs": TABS,
            "tab": chosen,
            "counts": counts,
            "rows": rows,
            "survey": status,
            "survey_state": state,
            "unavailable": NO_STORE if context.tickets is None else "",
            "local": lambda value: local_time(value, zone),
        },
    )


@router.get("/verification/tasks/{task_id}", response_class=HTMLResponse)
async def verification_task_page(
    request: Request, principal: Verifier, task_id: TaskId
) -> HTMLResponse:
    """One 回访 task: the ticket, the attempts, the answers, the recording, the steps."""
    context = get_context(request)
    tickets = ticket_store(context)
    task = await task_or_404(VerificationStore(tickets), task_id)
    shown = TaskViews(principal, department_directory(context), datetime.now(UTC))
    detail = await asyncio.to_thread(shown.detail, task, recordings_root(context))
    try:
        ticket = await asyncio.to_thread(tickets.get, task.ticket)
    except UnknownTicket:
        ticket = None
    facts: dict[str, Any] = {}
    if ticket is not None:
        facts = mask_for(
            {
                "number": ticket.number,
                "status": ticket.status.value,
                "status_label": ticket.status.label,
                "request_type": ticket.request_type.value,
                "caller_name": ticket.caller_name,
                "address": ticket.address,
                "summary": ticket.summary,
                "content": ticket.content,
                "reply": ticket.reply,
                "lead_department_name": shown.department_name(ticket.lead_department),
                "created_at": ticket.created_at,
                "closed_at": ticket.closed_at,
                "verification_review": ticket.verification_review,
                "rating": ticket.rating.value if ticket.rating else "",
                "resolution": ticket.resolution.value if ticket.resolution else "",
                "attachments": await asyncio.to_thread(attachments_view, tickets, ticket),
            },
            principal,
        )
    zone = zone_of(context)
    return request.app.state.templates.TemplateResponse(
        request,
        "verification_task.html",
        {
            "principal": principal,
            "task": detail,
            "ticket": facts,
            "ticket_page": f"/tickets/{task.ticket}" if principal.role in REVIEWERS else "",
            "resolutions": [r.value for r in Resolution],
            "ratings": [r.value for r in Rating],
            "local": lambda value: local_time(value, zone),
        },
    )
