"""The ticket API (工单接口): create, list, show, transition.

Web forms, QR-code reports and other systems enter tickets here into the same
pipeline as calls: the hub's understanding of the citizen's words (request
type, domain, category, departments, emergency, slots), then the store's
intake (number, deadline, duplicate detection and linking).

- **Understanding.** The callable ``text -> dict`` (the shape of
  ``Understanding.as_dict()``) is ``context.extras["understand"]`` when set
  (tests, tools without a hub), else the console's ``understand`` (the hub's
  model).  Without one, or when it fails, the ticket is still taken in, marked
  for an agent's review.
- **Who sees what** is :mod:`tickets.permissions` (``web.ticket_access``), as the
  CLI's ``--as`` applies it.  Supervisors, admins, QA staff and verifiers see every
  ticket (QA and verifiers read-only: a verifier's answers reach it through 回访).
  An agent sees the tickets they own — ``owner`` equal to their
  agent id or, for a user without one, their user name (what the API records as
  the actor of their actions, so ``accept`` makes a ticket theirs) — and the
  ticket of the call they are on now (the console's view).  A department's
  handler or reviewer sees the tickets their department (or a sub-unit of it)
  has a part in and acts where their own department has one.  Any other ticket
  is 404 to them, as if it did not exist; an action their role may not take is
  403 with the reason; one the ticket's state does not allow is 409.
  Integrations call with an API token of a user whose role decides the same.
- **What a ticket shows**: everything it holds, its history, the departments'
  parts and deadlines, the sweep's flags, the reply under review, a return
  request, merged callers, attachments, the dispatch catalogue's suggestion and,
  while its reply is reviewed (待审核, 答复), the reply's 形式办结 assessment
  (``web.ticket_views``).
- **Numbers** are masked by ``web.masking``'s rule (in full for supervisors and
  admins, and for an agent on the ticket of their current call; masked for
  department roles).
- **Writes** need the CSRF token when signed in with the session cookie
  (``X-CSRF-Token``; API tokens need none) and are recorded in the audit log
  (``ticket.create``, ``ticket.transition``).

Store calls block (SQL), so they run in a thread.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.responses import JSONResponse

from tickets.lifecycle import TransitionError
from tickets.model import RUNNING_STATUSES, Channel, RequestType, Status, Ticket, TicketDraft
from tickets.store import ConcurrentChange, TicketStore, UnknownTicket
from web import audit
from web.context import WebContext
from web.csrf import require_csrf
from web.deps import ContextDep, department_directory, ticket_store
from web.roles import Principal, Role, require_roles
from web.schemas.errors import refusals
from web.schemas.query import Moment, in_zone
from web.schemas.tickets import (
    TicketCreate,
    TicketDetail,
    TicketIntake,
    TicketPage,
    TicketSummary,
    TransitionRefused,
    TransitionRequest,
)
from web.ticket_access import TicketAccess, actor_name
from web.ticket_filters import TicketFilters, find_visible
from web.ticket_views import (
    assessment_view,
    attachments_view,
    countdown,
    suggestion_view,
    work_view,
)

router = APIRouter(prefix="/api/tickets", tags=["tickets"])

EVERYONE = (
    Role.AGENT,
    Role.SUPERVISOR,
    Role.QA,
    Role.ADMIN,
    Role.DEPARTMENT_HANDLER,
    Role.DEPARTMENT_REVIEWER,
    Role.VERIFIER,
)
# QA staff and verifiers read tickets; verifiers' answers reach them through 回访.
WRITERS = tuple(role for role in EVERYONE if role not in (Role.QA, Role.VERIFIER))
reader = require_roles(*EVERYONE)
writer = require_roles(*WRITERS)
attacher = require_roles(*WRITERS, Role.VERIFIER)  # a verifier: the photos of a 现场核查
Reader = Annotated[Principal, Depends(reader)]
Writer = Annotated[Principal, Depends(writer)]
Attacher = Annotated[Principal, Depends(attacher)]
Intaker = Annotated[Principal, Depends(require_roles(Role.AGENT, Role.SUPERVISOR, Role.ADMIN))]
TicketNumber = Annotated[
    str, Path(description="The ticket number.", examples=["GD12345-20261128-000123"])
]

_SIGNED_IN = refusals(401, 403, 503, _503="No ticket store on this node.")
_NOT_FOUND = refusals(404, _404="No such ticket (or not one the caller may see).")
MAX_OFFSET = 1_000_000  # deeper pages: narrow the filters


def _now() -> datetime:
    return datetime.now(UTC)


# -- who may see what, and what they are shown ------------------------------------------


def _not_found(number: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"there is no ticket {number}")


async def visible_ticket(store: TicketStore, access: TicketAccess, number: str) -> Ticket:
    """The ticket, if ``access`` may see it; 404 otherwise (as for an unknown number)."""
    try:
        ticket = await asyncio.to_thread(store.get, number)
    except UnknownTicket:
        raise _not_found(number) from None
    if not access.may_see(ticket):
        raise _not_found(number)
    return ticket


def summary_facts(
    ticket: Ticket, access: TicketAccess, store: TicketStore, now: datetime
) -> dict[str, Any]:
    """What a list row shows beyond the ticket itself: the lead's name and the countdown."""
    policy = store.policy.deadlines
    today = policy.local_day(now)
    left = policy.working_days_left(ticket.due_date, now)
    return {
        "lead_department_name": access.department_name(ticket.lead_department),
        "working_days_left": left,
        "countdown": countdown(ticket.due_date, today, left, ticket.status in RUNNING_STATUSES),
    }


def summary_json(
    ticket: Ticket, access: TicketAccess, store: TicketStore, now: datetime
) -> dict[str, Any]:
    today = store.policy.deadlines.local_day(now)
    model = TicketSummary.from_ticket(ticket, today, **summary_facts(ticket, access, store, now))
    return access.show(model.model_dump(mode="json"), ticket)


def detail_extras(
    ticket: Ticket, access: TicketAccess, store: TicketStore, now: datetime
) -> dict[str, Any]:
    """The departmental work, attachments, suggestion and assessment (blocking: reads
    the store and assesses the reply)."""
    policy = store.policy.deadlines
    work = work_view(ticket, access.directory, policy, now)
    deadlines = work["deadlines"]
    return {
        **work,
        "working_days_left": deadlines["working_days_left"],
        "countdown": deadlines["countdown"],
        "attachments": attachments_view(store, ticket),
        "suggestion": suggestion_view(ticket, access.directory, access.context.settings),
        "assessment": assessment_view(store, ticket),
    }


async def detail_json(
    ticket: Ticket,
    access: TicketAccess,
    store: TicketStore,
    now: datetime,
    model: type[TicketDetail] = TicketDetail,
    **extra: Any,
) -> dict[str, Any]:
    """The ticket as ``access`` may see it, with the actions it may take now."""
    extras = await asyncio.to_thread(detail_extras, ticket, access, store, now)
    today = store.policy.deadlines.local_day(now)
    allowed = access.actions(ticket) if access.may_see(ticket) else ()
    body = model.from_ticket(ticket, today, allowed, **extras, **extra)
    return access.show(body.model_dump(mode="json"), ticket)


# -- create -------------------------------------------------------------------------


def _understanding(context: WebContext) -> Any:
    understand = context.extras.get("understand")
    if understand is None and context.console is not None:
        # The hub's model (None without one); a console fake may leave it out.
        understand = getattr(context.console, "understand", None)
    return understand


def _first(items: Any, *keys: str) -> str:
    if isinstance(items, list) and items and isinstance(items[0], dict):
        for key in keys:
            if items[0].get(key):
                return str(items[0][key])
    return ""


def _tree_path(found: dict[str, Any]) -> str:
    """``level1/level2/level3`` of the understanding's place in the city's tree."""
    categories = found.get("categories") or {}
    if not isinstance(categories, dict):
        return ""
    parts = (categories.get("level1"), categories.get("level2"), categories.get("level3"))
    return "/".join(str(p) for p in parts if p)


def draft_for_report(
    report: TicketCreate, understanding: dict[str, Any] | None, directory: Any = None
) -> TicketDraft:
    """A web form's or QR code's report, with its understanding, as a draft work order
    (as ``ivr.hub.call_tickets.draft_for_call`` does for a call): with the department
    ``directory``, its dispatch catalogue suggests the lead and co-handlers (the
    dispatcher confirms or changes them), else the taxonomy's departments stand."""
    found = understanding or {}
    slots = found.get("slots") or {}
    departments = [str(d) for d in found.get("departments") or []]
    try:
        request_type = RequestType(found.get("request_type") or RequestType.CONSULTATION)
    except ValueError:
        request_type = RequestType.CONSULTATION
    address = report.address or _first(slots.get("addresses"), "address", "text")
    path = _tree_path(found)
    if directory is not None and path:
        suggested = directory.suggest(*path.split("/"), address=address)
        if suggested.lead is not None:
            departments = [suggested.lead.id, *(d.id for d in suggested.co)]
    return TicketDraft(
        channel=Channel(report.channel.value),
        caller_number=report.caller_number,
        caller_name=report.caller_name or _first(slots.get("names"), "value"),
        confidential=report.confidential,
        declined_callback=report.declined_callback,
        request_type=request_type,
        domain=str(found.get("domain") or ""),
        category_code=str((found.get("category") or {}).get("code") or ""),
        category_path=path,
        lead_department=departments[0] if departments else "",
        co_departments=tuple(departments[1:]),
        address=address,
        content=report.content,
        summary=str(found.get("summary") or ""),
        emergency_number=str(found.get("emergency") or ""),
        needs_agent_review=not understanding or bool(found.get("low_confidence")),
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TicketIntake,
    summary="Take in a ticket from a web form, a QR code or an integration",
    responses=_SIGNED_IN,
    dependencies=[Depends(require_csrf)],
)
async def create_ticket(
    report: TicketCreate, request: Request, context: ContextDep, principal: Intaker
) -> dict[str, Any]:
    """The citizen's words go through the same pipeline as a call's: understanding
    (request type, domain, category, departments, emergency, address and name when
    not given), then intake — a number, the deadline for the request type, and
    duplicate detection: a report repeating a recent ticket (same caller, or same
    address and similar content) is linked to it at once (`duplicate_of`).
    Without an understanding model the ticket is marked for an agent's review."""
    store = ticket_store(context)
    audit.audit_log(request)  # no audit log, no write
    understand = _understanding(context)
    understanding: dict[str, Any] | None = None
    if understand is not None:
        try:
            found = await asyncio.to_thread(understand, report.content)
            # A model may give an Understanding; the web reads its plain form.
            understanding = found.as_dict() if hasattr(found, "as_dict") else found
        except Exception:  # the report is still taken in; an agent classifies it
            understanding = None
    draft = draft_for_report(report, understanding, department_directory(context))
    now = _now()
    intake = await asyncio.to_thread(store.intake, draft, now)
    ticket, match = intake.ticket, intake.duplicate
    linked = ticket.linked_to or None
    await audit.record(
        request,
        "ticket.create",
        ticket.number,
        {"channel": ticket.channel, "duplicate_of": linked or "", "status": ticket.status},
    )
    return await detail_json(
        ticket,
        TicketAccess(context, principal),
        store,
        now,
        TicketIntake,
        duplicate_of=linked,
        duplicate_reason=match.reason if match and linked else "",
        similarity=match.similarity if match and linked else None,
    )


# -- read ---------------------------------------------------------------------------


@router.get(
    "",
    response_model=TicketPage,
    summary="List tickets, newest first",
    responses={**_SIGNED_IN},
)
async def list_tickets(
    context: ContextDep,
    principal: Reader,
    status_: Annotated[Status | None, Query(alias="status", description="Its state.")] = None,
    domain: Annotated[str, Query(max_length=40, description="Domain (领域).")] = "",
    request_type: Annotated[
        RequestType | None, Query(description="咨询, 求助, 投诉, 举报, 建议 or 表扬.")
    ] = None,
    caller_number: Annotated[str, Query(max_length=40, description="The caller's number.")] = "",
    created_from: Annotated[
        Moment | None,
        Query(description="Created at or after (ISO 8601; without a zone: hotline time)."),
    ] = None,
    created_before: Annotated[Moment | None, Query(description="Created before.")] = None,
    overdue: Annotated[
        bool, Query(description="Only tickets past their due date still awaiting an answer.")
    ] = False,
    callback_due: Annotated[
        bool, Query(description="Only tickets whose callback task is waiting.")
    ] = False,
    department: Annotated[
        str,
        Query(
            max_length=100,
            description="A department (id, name or alias) with a part in it (主办, 协办, 吹哨).",
        ),
    ] = "",
    lead_only: Annotated[
        bool, Query(description="With `department`: only where it is the lead (主办).")
    ] = False,
    category_code: Annotated[
        str, Query(max_length=40, description="This category code or one below it.")
    ] = "",
    channel: Annotated[Channel | None, Query(description="phone, web or qr.")] = None,
    due_soon: Annotated[
        bool,
        Query(description="Only tickets still running and due within the due-soon days."),
    ] = False,
    supervised: Annotated[bool, Query(description="Only 督办件.")] = False,
    duplicates: Annotated[
        bool, Query(description="Only repeats linked to an earlier ticket (重复诉求).")
    ] = False,
    verification_review: Annotated[
        bool,
        Query(description="Only tickets whose 回访 result awaits the centre's review (回访复核)."),
    ] = False,
    q: Annotated[
        str, Query(max_length=100, description="Text in the number, summary, content or address.")
    ] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """Filters combine (all must match).  Agents get only the tickets they own; a
    department's users only their department's and its sub-units'."""
    store = ticket_store(context)
    access = TicketAccess(context, principal)
    now = _now()
    zone = ZoneInfo(store.policy.deadlines.timezone)

    def aware(moment: datetime | None) -> datetime | None:
        return None if moment is None else in_zone(moment, zone)

    filters = TicketFilters(
        status=status_.value if status_ else "",
        request_type=request_type.value if request_type else "",
        domain=domain,
        category=category_code,
        department=department,
        lead_only=lead_only,
        channel=channel.value if channel else "",
        caller=caller_number,
        q=q,
        overdue=overdue,
        due_soon=due_soon,
        supervised=supervised,
        duplicates=duplicates,
        verification_review=verification_review,
        callback_due=callback_due,
        created_from=aware(created_from),
        created_before=aware(created_before),
    )
    query = filters.query(access, store.policy.deadlines, now, limit + 1, offset)
    found = await asyncio.to_thread(find_visible, store, query, access)
    items = [summary_json(t, access, store, now) for t in found[:limit]]
    more = len(found) > limit
    return {
        "items": items,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if more else None,
    }


@router.get(
    "/{number}",
    response_model=TicketDetail,
    summary="Show a ticket with its history",
    responses={**_SIGNED_IN, **_NOT_FOUND},
)
async def show_ticket(
    number: TicketNumber, context: ContextDep, principal: Reader
) -> dict[str, Any]:
    """Everything the ticket holds, its history (every change: who, when, from which
    state to which, why), the departments' parts and deadlines, attachments, what the
    dispatch catalogue suggests, the reply's assessment (待审核, 答复) and the actions
    the caller may take now."""
    store = ticket_store(context)
    access = TicketAccess(context, principal)
    ticket = await visible_ticket(store, access, number)
    return await detail_json(ticket, access, store, _now())


# -- transitions --------------------------------------------------------------------


def _refused(access: TicketAccess, ticket: Ticket, detail: str) -> JSONResponse:
    refused = TransitionRefused(
        detail=detail,
        status=ticket.status,
        allowed_actions=[a.value for a in access.actions(ticket)],
    )
    return JSONResponse(refused.model_dump(mode="json"), status.HTTP_409_CONFLICT)


@router.post(
    "/{number}/transitions",
    response_model=TicketDetail,
    summary="Take an action on a ticket (accept, dispatch, sign, reply, approve_reply …)",
    responses={
        **_SIGNED_IN,
        **_NOT_FOUND,
        409: {
            "model": TransitionRefused,
            "description": "Not allowed in the ticket's state, or lacking what the action "
            "needs; the body lists the actions allowed now.",
        },
    },
    dependencies=[Depends(require_csrf)],
)
async def transition_ticket(
    number: TicketNumber,
    change: TransitionRequest,
    request: Request,
    context: ContextDep,
    principal: Writer,
) -> Any:
    """Moves the ticket through its lifecycle (受理 → 派单 → 签收 → 办理 → 答复 →
    审核通过 → 办结 → 回访 → 评价, with returns, extensions, whistles, supervision and
    reopening) and records the change in its history and in the audit log.  Who may
    take which action is `tickets.permissions` (a department's users act only on their
    department's tickets; refused: 403 with the reason).  What each action needs:
    `department` (dispatch, redispatch, approve_return; request_return: where it
    should go), `co_departments` (whistle), `reason` (discard, unlink, request_return,
    approve/reject_return, request/refuse_extension, return_reply, reject_reply,
    reopen, uphold), `working_days` (request_extension), `linked_to` (link), `reply` (reply,
    close_at_once), `note` (note, report), `rating` (rate)."""
    store = ticket_store(context)
    audit.audit_log(request)  # no audit log, no write
    access = TicketAccess(context, principal)
    ticket = await visible_ticket(store, access, number)
    action = change.parsed_action
    refused = access.refusal(ticket, action)
    if refused is not None:
        if refused.hidden:
            raise _not_found(number)
        raise HTTPException(status.HTTP_403_FORBIDDEN, refused.reason)
    if change.attachments:
        known = {a.id for a in await asyncio.to_thread(store.attachments, ticket.number)}
        unknown = [n for n in change.attachments if n not in known]
        if unknown:  # lacking what the note refers to: as the lifecycle refuses (409)
            return _refused(
                access, ticket, f"{ticket.number} has no attachment {unknown}; upload it first"
            )
    now = _now()
    co = change.co_departments
    try:
        changed = await asyncio.to_thread(
            store.transition,
            ticket.number,
            action,
            actor_name(principal),
            now,
            reason=change.reason,
            department=change.department,  # by id, name or alias: the lifecycle names it
            co_departments=None if co is None else tuple(co),
            rating=change.rating,
            working_days=change.working_days,
            linked_to=change.linked_to,
            note=change.note_for_lifecycle,
            attachments=tuple(str(n) for n in change.attachments),
            by_department=access.by_department,
            rules=access.directory,
        )
    except TransitionError as exc:
        return _refused(access, ticket, str(exc))
    except ConcurrentChange as exc:
        return _refused(access, await asyncio.to_thread(store.get, ticket.number), str(exc))
    except UnknownTicket:
        raise _not_found(number) from None
    entry = changed.audit[-1]
    detail = {"action": action.value, "from": entry.from_status, "to": entry.to_status}
    if access.by_department:
        detail["department"] = access.by_department
    await audit.record(request, "ticket.transition", changed.number, detail)
    catalog = context.catalog
    if changed.rating is not None and catalog is not None:  # QA filters calls by rating
        await asyncio.to_thread(catalog.set_rating, changed.number, str(changed.rating))
    return await detail_json(changed, access, store, now)
