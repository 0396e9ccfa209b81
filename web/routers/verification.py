"""The 回访 API (回访接口): the callback tasks for verifiers (回访员), supervisors and
admins, and the 回访 figures for supervisors.

- **Tasks**: list them (by state, kind, ticket, or the caller's own), show one
  with its attempts and recordings, take one (领取), call the citizen from the
  verifier's softphone through the node (拨打: the console's
  ``call_for_verification``; a refusal is a 409 with its reason), enter what the
  citizen said (录入结果) or what a 现场核查 found (核查结果).  Answers reach the
  ticket through 回访 and 评价 in the same transaction
  (``web.verification_work``); an unsolved answer, a 差评 or a disputing comment
  leaves it awaiting the centre's 回访复核.  A ticket reopened meanwhile keeps the
  answers on the task only: 409 with the reason.
- **Recordings**: the WAV of a leg the manifest in the task's recording directory
  lists, only inside the node's recordings directory (elsewhere: 403).
- **Figures**: ``GET /api/report/verification`` (as ``hotline report
  verification``): 回访率, 联系成功率, 解决率, 满意率, 差评, 回访后重办, by key and
  by voice, in all, per department and per seat group.

Numbers are masked as ``web.masking`` says (in full for supervisors and admins).
Writes need the session's CSRF token and are audited (``verification.*``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path as FilePath
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.responses import FileResponse

from tickets.model import Ticket
from tickets.verification_store import TaskQuery, UnknownTask, VerificationStore
from tickets.verification_tasks import TaskKind, TaskState, VerificationTask
from web import audit
from web.context import WebContext
from web.csrf import require_csrf
from web.deps import ContextDep, SupervisorDep, department_directory, ticket_store
from web.roles import Principal, Role, require_roles
from web.routers.dispatch import FromDay, ToDay, report_period
from web.schemas.errors import refusals
from web.schemas.verification import (
    CallPlaced,
    OnSiteRequest,
    ResultRequest,
    TaskDetail,
    TaskList,
    VerificationReport,
    VerificationResult,
)
from web.verification_views import (
    RecordingMissing,
    RecordingRefused,
    TaskViews,
    figures_of,
    recording_file,
    report,
)
from web.verification_work import Entered, Refused, enter_on_site, enter_result, take

router = APIRouter(tags=["verification"])

VERIFIERS = (Role.VERIFIER, Role.SUPERVISOR, Role.ADMIN)
verifiers = require_roles(*VERIFIERS)
Verifier = Annotated[Principal, Depends(verifiers)]
TaskId = Annotated[int, Path(ge=1, le=2**62, description="The 回访 task's id.")]

_SIGNED_IN = refusals(401, 403, 503, _503="No ticket store on this node.")
_NO_TASK = refusals(404, _404="No such 回访 task.")
_REFUSED = refusals(409, _409="Not possible as the task (or its ticket) stands; `detail` says why.")
_CALL_PLACED = "您的话机正在振铃，接听后系统将拨打市民"


def _now() -> datetime:
    return datetime.now(UTC)


def tasks_of(context: WebContext) -> VerificationStore:
    """The node's 回访 tasks (in the ticket database); 503 without a ticket store."""
    return VerificationStore(ticket_store(context))


def views(context: WebContext, principal: Principal) -> TaskViews:
    return TaskViews(principal, department_directory(context), _now())


def recordings_root(context: WebContext) -> FilePath:
    return context.settings.recordings_dir


async def task_or_404(store: VerificationStore, task_id: int) -> VerificationTask:
    try:
        return await asyncio.to_thread(store.get, task_id)
    except UnknownTask:
        missing = f"没有这个回访任务 (no task {task_id})"
        raise HTTPException(status.HTTP_404_NOT_FOUND, missing) from None


def _conflict(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, reason)


async def _step(function: Any, *args: Any, **options: Any) -> Any:
    """A step of ``web.verification_work`` in a thread: 404 for no task, 409 refused."""
    try:
        return await asyncio.to_thread(function, *args, **options)
    except UnknownTask as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except Refused as exc:
        raise _conflict(str(exc)) from None


async def detail(
    context: WebContext, principal: Principal, task: VerificationTask
) -> dict[str, Any]:
    """The task as ``principal`` sees it (in a thread: its recording's manifest is read)."""
    shown = views(context, principal)
    return await asyncio.to_thread(shown.detail, task, recordings_root(context))


async def _result(context: WebContext, principal: Principal, entered: Entered) -> dict[str, Any]:
    ticket: Ticket = entered.ticket
    return {
        "task": await detail(context, principal, entered.task),
        "ticket_status": ticket.status,
        "ticket_status_label": ticket.status.label,
        "verification_review": ticket.verification_review,
    }


# -- read -------------------------------------------------------------------------------


@router.get(
    "/api/verification/tasks",
    response_model=TaskList,
    summary="List 回访 tasks, the soonest due first",
    responses=_SIGNED_IN,
)
async def list_tasks(
    context: ContextDep,
    principal: Verifier,
    state: Annotated[TaskState | None, Query(description="Its state.")] = None,
    kind: Annotated[TaskKind | None, Query(description="call or on_site (现场核查).")] = None,
    ticket: Annotated[str, Query(max_length=40, description="A ticket's number.")] = "",
    mine: Annotated[bool, Query(description="Only the tasks the caller holds (领取).")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Filters combine."""
    store = tasks_of(context)
    query = TaskQuery(
        states=(state,) if state is not None else (),
        kind=kind,
        ticket=ticket,
        assigned_to=principal.username if mine else "",
        limit=limit,
    )
    found = await asyncio.to_thread(store.find, query)
    shown = views(context, principal)
    return {"items": [shown.row(task) for task in found]}


@router.get(
    "/api/verification/tasks/{task_id}",
    response_model=TaskDetail,
    summary="Show a 回访 task with its attempts and recordings",
    responses={**_SIGNED_IN, **_NO_TASK},
)
async def show_task(task_id: TaskId, context: ContextDep, principal: Verifier) -> dict[str, Any]:
    """Everything the task holds: each attempt (when, how it ended, by whom), the
    answers and where they came from (按键, 语音, 人工录入), the recording's legs."""
    task = await task_or_404(tasks_of(context), task_id)
    return await detail(context, principal, task)


@router.get(
    "/api/verification/tasks/{task_id}/recording/{leg}",
    response_class=FileResponse,
    summary="Play a leg of a 回访 task's recording",
    responses={
        200: {
            "description": "The WAV file.",
            "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
        },
        **refusals(401, 503, json=True),
        **refusals(
            403, json=True, _403="The role may not, or the recording lies outside the node's."
        ),
        **refusals(404, json=True, _404="No such task, or no recording (of this leg)."),
    },
)
async def get_task_recording(
    task_id: TaskId,
    leg: Annotated[str, Path(max_length=40, description="qa (stereo), caller, agent or played.")],
    context: ContextDep,
    principal: Verifier,
) -> FileResponse:
    """The WAV the manifest of the task's recording directory names for ``leg``."""
    task = await task_or_404(tasks_of(context), task_id)
    try:
        path = await asyncio.to_thread(recording_file, task, leg, recordings_root(context))
    except RecordingRefused as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    except RecordingMissing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有这段录音 (no such recording)") from None
    return FileResponse(
        path,
        media_type="audio/wav",
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


# -- a verifier's steps -----------------------------------------------------------------------


@router.post(
    "/api/verification/tasks/{task_id}/take",
    response_model=TaskDetail,
    summary="Take a 回访 task (领取)",
    responses={**_SIGNED_IN, **_NO_TASK, **_REFUSED},
    dependencies=[Depends(require_csrf)],
)
async def take_task(
    task_id: TaskId, request: Request, context: ContextDep, principal: Verifier
) -> dict[str, Any]:
    """The task is held by the caller from now on; one held by another verifier is
    refused (409), but a supervisor or an admin takes it over."""
    store = tasks_of(context)
    audit.audit_log(request)  # no audit log, no write
    over = principal.role is not Role.VERIFIER
    taken = await _step(take, store, task_id, principal.username, _now(), take_over=over)
    await audit.record(request, "verification.take", taken.ticket, {"task": task_id})
    return await detail(context, principal, taken)


@router.post(
    "/api/verification/tasks/{task_id}/call",
    response_model=CallPlaced,
    summary="Call the citizen of a 回访 task from the caller's softphone (拨打)",
    responses={
        **refusals(401, 403, 503, _503="No ticket store, or no calls on this node."),
        **_NO_TASK,
        **refusals(409, _409="The node cannot place the call; `detail` says why."),
    },
    dependencies=[Depends(require_csrf)],
)
async def call_task(
    task_id: TaskId, request: Request, context: ContextDep, principal: Verifier
) -> dict[str, Any]:
    """The verifier's softphone (their account's agent id, one of the node's
    `[[agents]]`) rings first, then the citizen's phone; the call is recorded onto
    the task, and what came of it is an attempt by the verifier."""
    store = tasks_of(context)
    audit.audit_log(request)  # no audit log, no write
    task = await task_or_404(store, task_id)
    call = getattr(context.console, "call_for_verification", None)
    if call is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "本节点未接入呼叫 (no calls on this node)"
        )
    reason = await call(task_id, principal.agent_id)
    if reason:
        raise _conflict(reason)
    await audit.record(
        request, "verification.call", task.ticket, {"task": task_id, "agent": principal.agent_id}
    )
    return {"placed": True, "detail": _CALL_PLACED}


@router.post(
    "/api/verification/tasks/{task_id}/result",
    response_model=VerificationResult,
    summary="Enter what the citizen said to a verifier (录入结果)",
    responses={**_SIGNED_IN, **_NO_TASK, **_REFUSED},
    dependencies=[Depends(require_csrf)],
)
async def enter_task_result(
    task_id: TaskId,
    body: ResultRequest,
    request: Request,
    context: ContextDep,
    principal: Verifier,
) -> dict[str, Any]:
    """`reached` with `resolution` and/or `rating` (and the citizen's `comment`): the
    task is done and its ticket goes through 回访 and 评价 (未解决, 部分解决, 差评 or a
    comment that disputes the result: awaiting 回访复核); `reached` false: a try by
    the verifier, the task stays with them.  A ticket that is no longer closed
    (reopened meanwhile) is a 409 with the reason; the task keeps the answers."""
    store = tasks_of(context)
    audit.audit_log(request)  # no audit log, no write
    entered: Entered = await _step(
        enter_result,
        store,
        task_id,
        principal.username,
        _now(),
        reached=body.reached,
        resolution=body.resolution,
        rating=body.rating,
        comment=body.comment,
    )
    detail = {
        "task": task_id,
        "reached": body.reached,
        "resolution": body.resolution.value if body.resolution else "",
        "rating": body.rating.value if body.rating else "",
        "ticket_changed": not entered.not_verified,
    }
    await audit.record(request, "verification.result", entered.task.ticket, detail)
    if entered.not_verified:
        raise _conflict(entered.not_verified)
    ticket = entered.ticket
    if ticket.rating is not None and context.catalog is not None:  # QA filters calls by rating
        await asyncio.to_thread(context.catalog.set_rating, ticket.number, str(ticket.rating))
    return await _result(context, principal, entered)


@router.post(
    "/api/verification/tasks/{task_id}/on_site",
    response_model=VerificationResult,
    summary="Enter what a 现场核查 found (核查结果)",
    responses={**_SIGNED_IN, **_NO_TASK, **_REFUSED},
    dependencies=[Depends(require_csrf)],
)
async def enter_on_site_result(
    task_id: TaskId,
    body: OnSiteRequest,
    request: Request,
    context: ContextDep,
    principal: Verifier,
) -> dict[str, Any]:
    """`resolution` as found and `notes` (required); the photos are attachments of the
    ticket (upload them first, then name their ids).  An unsolved finding leaves a
    closed ticket awaiting the centre's 回访复核."""
    store = tasks_of(context)
    audit.audit_log(request)  # no audit log, no write
    entered: Entered = await _step(
        enter_on_site,
        store,
        task_id,
        principal.username,
        _now(),
        resolution=body.resolution,
        notes=body.notes,
        attachments=tuple(body.attachments),
    )
    detail = {"task": task_id, "resolution": body.resolution.value, "photos": len(body.attachments)}
    await audit.record(request, "verification.on_site", entered.task.ticket, detail)
    return await _result(context, principal, entered)


# -- figures ----------------------------------------------------------------------------------


@router.get(
    "/api/report/verification",
    response_model=VerificationReport,
    summary="回访 figures over a period (回访率, 满意率 …)",
    responses=_SIGNED_IN,
)
async def report_verification(
    context: ContextDep,
    principal: SupervisorDep,
    start: FromDay = None,
    end: ToDay = None,
) -> dict[str, Any]:
    """For the 回访 tasks made in the period (days in hotline time): 应回访, 回访率,
    联系成功率, 解决率, 满意率, 差评, 回访后重办 and the ratings given by key, by voice
    and by a verifier, in all, per department (by name) and per seat group."""
    store = ticket_store(context)
    policy = store.policy.deadlines
    first, last = report_period(start, end, policy.local_day(_now()))
    zone = ZoneInfo(policy.timezone)
    begin = datetime.combine(first, time(), zone)
    finish = datetime.combine(last + timedelta(days=1), time(), zone)
    directory = department_directory(context)
    tasks, redo = await asyncio.to_thread(report, store, begin, finish)
    return {"from": first, "to": last, **figures_of(tasks, redo, directory).as_dict()}
