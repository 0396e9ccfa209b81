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
- **Who sees what.** Supervisors, admins and QA staff see every ticket (QA
  read-only).  An agent sees the tickets they own — ``owner`` equal to their
  agent id or, for a user without one, their user name (what the API records as
  the actor of their actions, so ``accept`` makes a ticket theirs) — and the
  ticket of the call they are on now (the console's view); any other ticket is
  404 to them, as if it did not exist.  Agents may not take the supervisory
  actions (:data:`SUPERVISOR_ACTIONS`).  Integrations call with an API token
  of a user whose role decides the same.
- **Numbers** are masked by ``web.masking``'s rule (in full for supervisors and
  admins, and for an agent on the ticket of their current call).
- **Writes** need the CSRF token when signed in with the session cookie
  (``X-CSRF-Token``; API tokens need none) and are recorded in the audit log
  (``ticket.create``, ``ticket.transition``).

Store calls block (SQL), so they run in a thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.responses import JSONResponse

from tickets.lifecycle import Action, TransitionError, allowed_actions
from tickets.model import Channel, RequestType, Status, Ticket, TicketDraft
from tickets.store import ConcurrentChange, TicketQuery, TicketStore, UnknownTicket
from web import audit
from web.context import WebContext
from web.csrf import require_csrf
from web.deps import ContextDep, ticket_store
from web.masking import mask_for
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

router = APIRouter(prefix="/api/tickets", tags=["tickets"])

Reader = Annotated[
    Principal, Depends(require_roles(Role.AGENT, Role.SUPERVISOR, Role.QA, Role.ADMIN))
]
Writer = Annotated[Principal, Depends(require_roles(Role.AGENT, Role.SUPERVISOR, Role.ADMIN))]
TicketNumber = Annotated[
    str, Path(description="The ticket number.", examples=["GD12345-20261128-000123"])
]

# Actions that decide over departments and deadlines: supervisors (and admins,
# and integrations with those roles) only.
SUPERVISOR_ACTIONS = frozenset(
    {
        Action.APPROVE_RETURN,
        Action.REJECT_RETURN,
        Action.APPROVE_EXTENSION,
        Action.REFUSE_EXTENSION,
        Action.SUPERVISE,
        Action.URGE,
        Action.REOPEN,
    }
)

_SIGNED_IN = refusals(401, 403, 503, _503="No ticket store on this node.")
_NOT_FOUND = refusals(404, _404="No such ticket (or not one the caller may see).")
_AGENT_BATCH = 200  # tickets read at a time when filtering an agent's own
MAX_OFFSET = 1_000_000  # deeper pages: narrow the filters


def _now() -> datetime:
    return datetime.now(UTC)


# -- who may see what ---------------------------------------------------------------


def _actor(principal: Principal) -> str:
    """The name the ticket's history records for ``principal`` (and ``accept`` makes owner)."""
    return principal.agent_id or principal.username


def _owns(principal: Principal, ticket: Ticket) -> bool:
    return bool(ticket.owner) and ticket.owner in {principal.agent_id, principal.username}


def _current_ticket(context: WebContext, principal: Principal) -> str:
    """The ticket number of the call the agent is on (or is offered) now, or ""."""
    if principal.role is not Role.AGENT or not principal.agent_id or context.console is None:
        return ""
    try:
        call = context.console.agent_view(principal.agent_id).get("call") or {}
    except LookupError:
        return ""
    return str(call.get("ticket") or "")


class _Viewer:
    """What one request's principal may see and do."""

    def __init__(self, context: WebContext, principal: Principal) -> None:
        self.principal = principal
        self.on_call = _current_ticket(context, principal)

    @property
    def sees_all(self) -> bool:
        return self.principal.role is not Role.AGENT

    def may_see(self, ticket: Ticket) -> bool:
        return self.sees_all or _owns(self.principal, ticket) or ticket.number == self.on_call

    def may_take(self, action: Action) -> bool:
        return self.principal.role is not Role.QA and (
            self.principal.role is not Role.AGENT or action not in SUPERVISOR_ACTIONS
        )

    def allowed(self, ticket: Ticket) -> tuple[Action, ...]:
        if self.principal.role is Role.QA:
            return ()
        return tuple(a for a in allowed_actions(ticket) if self.may_take(a))

    def show(self, model: TicketSummary, ticket: Ticket) -> dict[str, Any]:
        """The response body, numbers masked as ``web.masking`` says."""
        body = model.model_dump(mode="json")
        return mask_for(body, self.principal, on_call=ticket.number == self.on_call)


def _today(store: TicketStore, now: datetime) -> date:
    return store.policy.deadlines.local_day(now)


def _not_found(number: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"there is no ticket {number}")


async def _visible(store: TicketStore, viewer: _Viewer, number: str) -> Ticket:
    try:
        ticket = await asyncio.to_thread(store.get, number)
    except UnknownTicket:
        raise _not_found(number) from None
    if not viewer.may_see(ticket):
        raise _not_found(number)
    return ticket


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


def draft_for_report(report: TicketCreate, understanding: dict[str, Any] | None) -> TicketDraft:
    """A web form's or QR code's report, with its understanding, as a draft work order
    (as ``ivr.hub.call_tickets.draft_for_call`` does for a call)."""
    found = understanding or {}
    slots = found.get("slots") or {}
    departments = [str(d) for d in found.get("departments") or []]
    try:
        request_type = RequestType(found.get("request_type") or RequestType.CONSULTATION)
    except ValueError:
        request_type = RequestType.CONSULTATION
    return TicketDraft(
        channel=Channel(report.channel.value),
        caller_number=report.caller_number,
        caller_name=report.caller_name or _first(slots.get("names"), "value"),
        confidential=report.confidential,
        request_type=request_type,
        domain=str(found.get("domain") or ""),
        category_code=str((found.get("category") or {}).get("code") or ""),
        lead_department=departments[0] if departments else "",
        co_departments=tuple(departments[1:]),
        address=report.address or _first(slots.get("addresses"), "address", "text"),
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
    report: TicketCreate, request: Request, context: ContextDep, principal: Writer
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
    draft = draft_for_report(report, understanding)
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
    viewer = _Viewer(context, principal)
    model = TicketIntake.from_ticket(
        ticket,
        _today(store, now),
        viewer.allowed(ticket) if viewer.may_see(ticket) else (),
        duplicate_of=linked,
        duplicate_reason=match.reason if match and linked else "",
        similarity=match.similarity if match and linked else None,
    )
    return viewer.show(model, ticket)


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
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """Filters combine (all must match).  Agents get only the tickets they own."""
    store = ticket_store(context)
    viewer = _Viewer(context, principal)
    now = _now()
    zone = ZoneInfo(store.policy.deadlines.timezone)

    def aware(moment: datetime | None) -> datetime | None:
        return None if moment is None else in_zone(moment, zone)

    query = TicketQuery(
        status=status_,
        domain=domain.strip(),
        request_type=request_type,
        caller_number=caller_number.strip(),
        created_from=aware(created_from),
        created_before=aware(created_before),
        overdue_on=_today(store, now) if overdue else None,
        callback_due=callback_due,
        limit=limit + 1,
        offset=offset,
    )
    if viewer.sees_all:
        found = await asyncio.to_thread(store.find, query)
    else:
        found = await asyncio.to_thread(_find_visible, store, query, viewer)
    today = _today(store, now)
    items = [viewer.show(TicketSummary.from_ticket(t, today), t) for t in found[:limit]]
    more = len(found) > limit
    return {
        "items": items,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if more else None,
    }


def _find_visible(store: TicketStore, query: TicketQuery, viewer: _Viewer) -> list[Ticket]:
    """The page ``query`` asks for among the tickets ``viewer`` may see (the store
    has no owner filter, so the matches are read in batches and filtered here)."""
    wanted = query.offset + query.limit
    seen: list[Ticket] = []
    start = 0
    while len(seen) < wanted:
        batch = store.find(dataclasses.replace(query, limit=_AGENT_BATCH, offset=start))
        seen.extend(t for t in batch if viewer.may_see(t))
        if len(batch) < _AGENT_BATCH:
            break
        start += _AGENT_BATCH
    return seen[query.offset : wanted]


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
    state to which, why) and the actions the caller may take now."""
    store = ticket_store(context)
    viewer = _Viewer(context, principal)
    ticket = await _visible(store, viewer, number)
    model = TicketDetail.from_ticket(ticket, _today(store, _now()), viewer.allowed(ticket))
    return viewer.show(model, ticket)


# -- transitions --------------------------------------------------------------------


@router.post(
    "/{number}/transitions",
    response_model=TicketDetail,
    summary="Take an action on a ticket (accept, dispatch, reply, rate …)",
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
    """Moves the ticket through its lifecycle (受理 → 派单 → 签收 → 办理 → 答复 → 办结 →
    回访 → 评价, with returns, extensions, supervision and reopening) and records the
    change in its history and in the audit log.  What each action needs:
    `department` (dispatch, approve_return), `reason` (discard, unlink, return,
    approve/reject_return, request/refuse_extension, reject_reply, reopen),
    `working_days` (request_extension), `linked_to` (link), `reply`
    (reply, close_at_once), `rating` (rate)."""
    store = ticket_store(context)
    audit.audit_log(request)  # no audit log, no write
    viewer = _Viewer(context, principal)
    ticket = await _visible(store, viewer, number)
    action = change.parsed_action
    if not viewer.may_take(action):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"role {principal.role} may not {action.value} a ticket"
        )
    now = _now()
    try:
        changed = await asyncio.to_thread(
            store.transition,
            ticket.number,
            action,
            _actor(principal),
            now,
            reason=change.reason,
            department=change.department,
            co_departments=tuple(change.co_departments)
            if change.co_departments is not None
            else None,
            rating=change.rating,
            working_days=change.working_days,
            linked_to=change.linked_to,
            note=change.note_for_lifecycle,
        )
    except TransitionError as exc:
        refused = TransitionRefused(
            detail=str(exc),
            status=ticket.status,
            allowed_actions=[a.value for a in exc.allowed if viewer.may_take(a)],
        )
        return JSONResponse(refused.model_dump(mode="json"), status.HTTP_409_CONFLICT)
    except ConcurrentChange as exc:
        current = await asyncio.to_thread(store.get, ticket.number)
        refused = TransitionRefused(
            detail=str(exc),
            status=current.status,
            allowed_actions=[a.value for a in viewer.allowed(current)],
        )
        return JSONResponse(refused.model_dump(mode="json"), status.HTTP_409_CONFLICT)
    except UnknownTicket:
        raise _not_found(number) from None
    entry = changed.audit[-1]
    await audit.record(
        request,
        "ticket.transition",
        changed.number,
        {"action": action.value, "from": entry.from_status, "to": entry.to_status},
    )
    catalog = context.catalog
    if changed.rating is not None and catalog is not None:  # QA filters calls by rating
        await asyncio.to_thread(catalog.set_rating, changed.number, str(changed.rating))
    model = TicketDetail.from_ticket(changed, _today(store, now), viewer.allowed(changed))
    return viewer.show(model, changed)
