"""The agent desk (话务员工作台): the agent's state, the call offered to or connected
with them (caller, transcript, understanding, draft ticket), the ticket form, a
transfer, their history, and a WebSocket with their live updates.

An agent only ever sees their own state and calls: the agent id comes from the
signed-in principal, never from the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Query, Request, WebSocket, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.websockets import WebSocketDisconnect

from call_routing.acd import CallerPriority
from events import messages as m
from events import topics
from tickets.examples import save_corrected
from tickets.lifecycle import Action, TransitionError, allowed_actions, transition
from tickets.model import RequestType, Status, Ticket
from tickets.permissions import SUPERVISOR_ACTIONS
from tickets.store import ConcurrentChange, TicketQuery, UnknownTicket
from web import audit
from web.console_view import ConsoleView
from web.context import WebContext
from web.csrf import require_csrf
from web.deps import AgentDep, ConsoleDep, ContextDep, agent_only, agents_console, ticket_store
from web.fanout import Update
from web.masking import mask_for
from web.roles import Principal
from web.schemas.errors import refusals
from web.schemas.text import NOT_BLANK, strip_blanks
from web.schemas.tickets import TicketDetail

if TYPE_CHECKING:
    from tickets.store import TicketStore

router = APIRouter(tags=["desk"])

WRITE = [Depends(agent_only), Depends(require_csrf)]

# 小休 and the other reasons an agent steps away (the ACD takes any non-empty code).
NOT_READY_REASONS = ("小休", "就餐", "培训", "会议", "整理工单")
PRIORITY_LABELS = {
    CallerPriority.NORMAL: "普通",
    CallerPriority.REPEAT_CALLER: "重复来电",
    CallerPriority.MARKED: "重点关照",
    CallerPriority.EMERGENCY_ADJACENT: "紧急相关",
}
# Call events the desk shows live, for the call offered to or connected with the agent.
LIVE_CALL_EVENTS = frozenset(
    {
        m.ASR_PARTIAL,
        m.ASR_FINAL,
        m.CALL_UNDERSTOOD,
        m.TICKET_DRAFTED,
        m.CALL_CONNECTED,
        m.CALL_ENDED,
    }
)
# What the agent may do with the ticket from the desk, by the desk's names.
SUBMIT_ACTIONS: dict[str, tuple[Action, ...]] = {
    "accept": (Action.ACCEPT,),
    "close_at_once": (Action.ACCEPT, Action.CLOSE_AT_ONCE),
    "dispatch": (Action.ACCEPT, Action.DISPATCH),
}
SUBMIT_ALIASES = {"受理": "accept", "即时办结": "close_at_once", "派单": "dispatch"}
EDITABLE = frozenset({Status.DRAFT, Status.ACCEPTED})
HISTORY_LIMIT = 50


# ---- where things are ---------------------------------------------------------------
@dataclass(frozen=True)
class Seat:
    """The console and the signed-in agent (the id only ever from the principal)."""

    console: ConsoleView
    agent_id: str
    principal: Principal


def _seat(principal: AgentDep, console: ConsoleDep) -> Seat:
    if not principal.agent_id:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "该账号未绑定坐席工号 (this user answers no calls)"
        )
    try:
        console.agent_call_id(principal.agent_id)
    except LookupError:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"本节点没有坐席 {principal.agent_id} (no such agent)"
        ) from None
    return Seat(console, principal.agent_id, principal)


SeatDep = Annotated[Seat, Depends(_seat)]


def _view(console: ConsoleView, agent_id: str) -> dict[str, Any]:
    """The agent's state and call, with what the desk needs around it."""
    try:
        view = console.agent_view(agent_id)
    except LookupError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有坐席 {agent_id}") from None
    call = view.get("call")
    if call:
        level = console.caller_priority(call["call_id"])
        call.update(priority=int(level), priority_label=PRIORITY_LABELS.get(level, str(level)))
    view["groups"] = console.seat_groups()
    view["not_ready_reasons"] = list(NOT_READY_REASONS)
    view["last_call"] = _last_call_id(console, agent_id)
    return view


def _last_call_id(console: ConsoleView, agent_id: str) -> str:
    """The call the agent is offered or on, else the last one they took (its ticket is
    finished in wrap-up)."""
    current = console.agent_call_id(agent_id)
    if current:
        return current
    for call in console.agent_calls(agent_id):
        if call["agent_id"] == agent_id:
            return str(call["call_id"])
    return ""


# ---- tickets ------------------------------------------------------------------------
def ticket_json(ticket: Ticket, today: date) -> dict[str, Any]:
    """The ticket as the REST API shows it to an agent (``TicketDetail``), with what
    the desk may do with it: ``editable`` (corrections) and ``submit`` (its actions)."""
    allowed = tuple(a for a in allowed_actions(ticket) if a not in SUPERVISOR_ACTIONS)
    body = TicketDetail.from_ticket(ticket, today, allowed).model_dump(mode="json")
    body.update(editable=ticket.status in EDITABLE, submit=_submittable(ticket))
    return body


def _submittable(ticket: Ticket) -> list[str]:
    """The desk's actions open to the ticket now (a draft is accepted on the way)."""
    if ticket.status is Status.DRAFT:
        return list(SUBMIT_ACTIONS)
    allowed = allowed_actions(ticket)
    return [name for name, steps in SUBMIT_ACTIONS.items() if steps[-1] in allowed]


class TicketSubmit(BaseModel):
    """The agent's corrections to the call's ticket, and what to do with it."""

    model_config = ConfigDict(extra="forbid")

    number: str = Field("", description="The ticket; empty: the current (or last) call's.")
    request_type: RequestType | None = None
    domain: str | None = Field(None, max_length=100)
    category_code: str | None = Field(None, max_length=50)
    caller_name: str | None = Field(None, max_length=100)
    declined_callback: bool | None = Field(None, description="不需回访: no 回访 call about it.")
    address: str | None = Field(None, max_length=500)
    content: str | None = Field(None, max_length=4000)
    summary: str | None = Field(None, max_length=1000)
    lead_department: str | None = Field(None, max_length=100)
    co_departments: list[Annotated[str, Field(max_length=100)]] | None = None
    action: str = Field(
        "",
        description="受理 (accept), 即时办结 (close_at_once, with note), 派单 (dispatch, with "
        "lead_department); empty: save the corrections only.",
    )
    note: str = Field("", max_length=4000, description="The answer given (即时办结).")

    @field_validator(
        "number", "domain", "category_code", "caller_name", "address", "content", "summary",
        "lead_department", "action", "note",
    )  # fmt: skip
    @classmethod
    def _stripped(cls, value: str | None) -> str | None:
        return None if value is None else strip_blanks(value)  # after the length check


_CORRECTABLE = (
    "declined_callback",
    "request_type",
    "domain",
    "category_code",
    "caller_name",
    "address",
    "content",
    "summary",
    "lead_department",
)


def _own_ticket_numbers(console: ConsoleView, agent_id: str) -> dict[str, str]:
    """Ticket number → call id of the calls offered to or taken by the agent."""
    return {c["ticket"]: c["call_id"] for c in console.agent_calls(agent_id) if c["ticket"]}


def _submit(
    store: TicketStore, number: str, body: TicketSubmit, actor: str, now: datetime
) -> tuple[Ticket, dict[str, Any]]:
    """Corrections and the action in one write (blocking); the changed fields.  A
    correction of the request type, domain, category or lead department is stored
    with it as a labelled example (``tickets.examples``)."""
    ticket = store.get(number)
    changes: dict[str, Any] = {}
    for name in _CORRECTABLE:
        value = getattr(body, name)
        if value is not None and value != getattr(ticket, name):
            changes[name] = value
    if body.co_departments is not None:
        co = tuple(d.strip() for d in body.co_departments if d.strip())
        if co != ticket.co_departments:
            changes["co_departments"] = co
    if changes and ticket.status not in EDITABLE:
        raise TransitionError(
            f"{ticket.number} is {ticket.status.label}: it can no longer be corrected here",
            allowed_actions(ticket),
        )
    changed = dataclasses.replace(ticket, **changes) if changes else ticket
    action = SUBMIT_ALIASES.get(body.action, body.action)
    if action:
        if action not in SUBMIT_ACTIONS:
            names = ", ".join(f"{k} ({v})" for v, k in SUBMIT_ALIASES.items())
            raise TransitionError(f"the desk cannot {body.action!r}; use {names}", ())
        steps = SUBMIT_ACTIONS[action]
        for step in steps:
            if step is not steps[-1] and changed.status is not Status.DRAFT:
                continue  # accepted already: go on to close or dispatch
            changed = transition(
                changed,
                step,
                actor,
                now,
                department=changed.lead_department if step is Action.DISPATCH else "",
                co_departments=changed.co_departments if step is Action.DISPATCH else None,
                note=body.note if step is Action.CLOSE_AT_ONCE else "",
                policy=store.policy.deadlines,
            )
    if changed is not ticket:
        # a correction of the understanding's labels is kept as a lesson, with the change
        save_corrected(store, ticket, changed, actor, now)
    return changed, {k: str(v) if not isinstance(v, tuple) else list(v) for k, v in changes.items()}


# ---- pages and API ------------------------------------------------------------------
@router.get("/desk", response_class=HTMLResponse)
def desk_page(request: Request, principal: AgentDep) -> HTMLResponse:
    """The agent desk (话务员工作台)."""
    return request.app.state.templates.TemplateResponse(
        request,
        "desk.html",
        {
            "principal": principal,
            "reasons": NOT_READY_REASONS,
        },
    )


_DESK = refusals(
    401,
    403,
    404,
    503,
    _403="Not an agent, the user answers no calls (no agent id), or no CSRF token.",
    _404="This node has no such agent, or no such ticket of the agent's.",
    _503="This node has no agents (or no ticket store).",
)
_REFUSED = refusals(
    409, _409="The agent's state, or the ticket's, does not allow it; `detail` says why."
)


@router.get("/api/desk", responses=_DESK)
def desk_view(seat: SeatDep) -> dict[str, Any]:
    """The agent's state and the call offered to or connected with them: caller,
    priority, transcript so far, understanding, draft ticket number."""
    return _view(seat.console, seat.agent_id)


class StateChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["login", "logout", "ready", "not_ready", "wrap_up_done"]
    reason: str = Field("", max_length=40, description="Why not ready (小休, 就餐 …).")

    @field_validator("reason")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return strip_blanks(value)  # after the length check, as the schema counts


@router.post("/api/desk/state", dependencies=WRITE, responses={**_DESK, **_REFUSED})
async def desk_state(request: Request, body: StateChange, seat: SeatDep) -> dict[str, Any]:
    """就绪 / 小休 (not ready with a reason) / 话后处理完成 / log in / log out; 409 with
    the reason when the agent's state does not allow it."""
    console, agent_id = seat.console, seat.agent_id
    if body.action == "not_ready" and not body.reason:
        raise HTTPException(status.HTTP_409_CONFLICT, "小休需要选择原因 (not ready needs a reason)")
    refused = await console.agent_command(agent_id, body.action, body.reason)
    if refused:
        raise HTTPException(status.HTTP_409_CONFLICT, refused)
    await audit.record(
        request, "desk.state", agent_id, {"action": body.action, "reason": body.reason}
    )
    return _view(console, agent_id)


class TransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group: str = Field(max_length=100, json_schema_extra={"pattern": NOT_BLANK})

    @field_validator("group")
    @classmethod
    def _named(cls, value: str) -> str:
        group = strip_blanks(value)  # after the length check, as the schema counts
        if not group:
            raise ValueError("name the seat group")
        return group


@router.post("/api/desk/transfer", dependencies=WRITE, responses={**_DESK, **_REFUSED})
async def desk_transfer(request: Request, body: TransferRequest, seat: SeatDep) -> dict[str, Any]:
    """Hand the connected caller to another seat group (转接); 409 with the reason."""
    console, agent_id = seat.console, seat.agent_id
    call_id = console.agent_call_id(agent_id)
    refused = await console.transfer(agent_id, body.group)
    if refused:
        raise HTTPException(status.HTTP_409_CONFLICT, refused)
    await audit.record(request, "desk.transfer", call_id, {"group": body.group})
    return _view(console, agent_id)


async def _own_ticket(
    console: ConsoleView, store: TicketStore, agent_id: str, number: str
) -> tuple[str, bool]:
    """``number`` if it is the agent's own ticket (of a call they took, or one they
    accepted), else 404; without a number the current (or last) call's.  Also whether
    it is that call's ticket (its numbers are shown in full)."""
    last = _last_call_id(console, agent_id)
    current_ticket = next(
        (str(c["ticket"]) for c in console.agent_calls(agent_id) if c["call_id"] == last), ""
    )
    if not number:
        if not current_ticket:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "当前没有通话工单 (no call ticket)")
        return current_ticket, True
    if number == current_ticket:
        return number, True
    if number in _own_ticket_numbers(console, agent_id):
        return number, False
    try:
        ticket = await asyncio.to_thread(store.get, number)
    except UnknownTicket:
        ticket = None
    if ticket is None or ticket.owner != agent_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有工单 {number}")
    return number, False


@router.get("/api/desk/ticket", responses=_DESK)
async def desk_ticket(
    context: ContextDep,
    seat: SeatDep,
    number: Annotated[
        str, Query(max_length=40, description="One of the agent's tickets; empty: the call's.")
    ] = "",
) -> dict[str, Any]:
    """The current (or last) call's ticket, or one of the agent's own by ``number``."""
    store = ticket_store(context)
    number, on_call = await _own_ticket(seat.console, store, seat.agent_id, number)
    try:
        ticket = await asyncio.to_thread(store.get, number)
    except UnknownTicket:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有工单 {number}") from None
    body = ticket_json(ticket, _today(store))
    return mask_for(body, seat.principal, on_call=on_call)


@router.post("/api/desk/ticket", dependencies=WRITE, responses={**_DESK, **_REFUSED})
async def desk_ticket_submit(
    request: Request, context: ContextDep, body: TicketSubmit, seat: SeatDep
) -> dict[str, Any]:
    """Correct the ticket and, with ``action``, accept it (受理), close it at once with
    the answer given (即时办结) or dispatch it to its lead department (派单)."""
    store = ticket_store(context)
    number, on_call = await _own_ticket(seat.console, store, seat.agent_id, body.number)
    now = datetime.now(UTC)
    try:
        ticket, changes = await asyncio.to_thread(_submit, store, number, body, seat.agent_id, now)
    except UnknownTicket:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有工单 {number}") from None
    except (TransitionError, ConcurrentChange) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    action = SUBMIT_ALIASES.get(body.action, body.action)
    await audit.record(
        request,
        "desk.ticket",
        number,
        {"action": action, "changes": changes, "status": ticket.status.value},
    )
    return mask_for(ticket_json(ticket, _today(store, now)), seat.principal, on_call=on_call)


def _today(store: TicketStore, now: datetime | None = None) -> date:
    """The hotline's day (overdue is counted by it)."""
    return store.policy.deadlines.local_day(now or datetime.now(UTC))


def _catalog_calls(context: WebContext, agent_id: str) -> list[dict[str, Any]]:
    """The agent's recorded calls from the call catalog, if the node has one (blocking)."""
    catalog = context.catalog
    if catalog is None:
        return []
    from recordings.catalog import CallQuery

    return [c.as_dict() for c in catalog.find(CallQuery(agent_id=agent_id, limit=HISTORY_LIMIT))]


def _history_tickets(store: TicketStore, numbers: list[str], agent_id: str) -> list[Ticket]:
    """The tickets of the agent's calls and those they own (blocking).  The store has
    no owner filter: the most recent tickets are searched for the agent's."""
    found: dict[str, Ticket] = {}
    for number in numbers:
        with contextlib.suppress(UnknownTicket):
            found[number] = store.get(number)
    for ticket in store.find(TicketQuery(limit=500)):
        if ticket.owner == agent_id:
            found.setdefault(ticket.number, ticket)
    return sorted(found.values(), key=lambda t: t.created_at, reverse=True)[:HISTORY_LIMIT]


@router.get("/api/desk/history", responses=_DESK)
async def desk_history(context: ContextDep, seat: SeatDep) -> dict[str, Any]:
    """The agent's own calls (this hub's memory, and the call catalog) and tickets."""
    agent_id = seat.agent_id
    store = ticket_store(context)
    taken = [c for c in seat.console.agent_calls(agent_id) if c["agent_id"] == agent_id]
    calls = {
        c["call_id"]: {k: v for k, v in c.items() if k != "agent_id"} for c in taken[:HISTORY_LIMIT]
    }
    for recorded in await asyncio.to_thread(_catalog_calls, context, agent_id):
        calls.setdefault(recorded["call_id"], recorded)
    numbers = [str(c["ticket"]) for c in calls.values() if c.get("ticket")]
    tickets = await asyncio.to_thread(_history_tickets, store, numbers, agent_id)
    today = _today(store)
    return mask_for(
        {
            "calls": list(calls.values())[:HISTORY_LIMIT],
            "tickets": [ticket_json(t, today) for t in tickets],
        },
        seat.principal,
    )


# ---- live updates -------------------------------------------------------------------
class AgentFeed:
    """Which bus updates belong on one agent's desk: their state and offers, and the
    events of the calls offered to or connected with them."""

    def __init__(self, console: ConsoleView, agent_id: str) -> None:
        self.console = console
        self.agent_id = agent_id
        self.calls: deque[str] = deque(maxlen=4)
        self._own = (topics.agent_state(agent_id), topics.agent_offer(agent_id))
        last = _last_call_id(console, agent_id)
        if last:
            self.calls.append(last)

    def accepts(self, update: Update) -> bool:
        if update.topic in self._own:
            call_id = str(update.data.get("call_id") or "")
            if call_id and call_id not in self.calls:
                self.calls.append(call_id)
            return True
        if update.type not in LIVE_CALL_EVENTS:
            return False
        if not update.topic.startswith(f"{topics.ROOT}/calls/"):
            return False
        call_id = str(update.data.get("call_id") or "")
        if call_id in self.calls:
            return True
        try:
            current = self.console.agent_call_id(self.agent_id)
        except LookupError:
            return False
        if current and current == call_id:
            self.calls.append(call_id)
            return True
        return False


def _same_origin(websocket: WebSocket) -> bool:
    """A browser's upgrade from another site is refused (the cookie is SameSite=Strict
    too; this also covers old browsers)."""
    origin = websocket.headers.get("origin")
    if not origin:
        return True  # not a browser
    return urlsplit(origin).netloc == websocket.headers.get("host", "")


@router.websocket("/ws/desk")
async def desk_socket(websocket: WebSocket, context: ContextDep, principal: AgentDep) -> None:
    """The agent's live desk: ``desk.view`` first, then each update as
    ``{type, topic, data, ts}`` (agent.state, agent.offer, asr.partial, asr.final,
    call.connected, call.ended, ticket.drafted …).  Refused with 4401 without a
    session and 4403 for anyone but an agent (by the roles dependency, before the
    upgrade is accepted); closed with 4403 for a user who answers no calls or an
    upgrade from another site, 4503 when the node has no agents."""
    await websocket.accept()
    if not principal.agent_id or not _same_origin(websocket):
        await websocket.close(4403, "仅限话务员")
        return
    try:
        console = agents_console(context)
    except HTTPException:
        await websocket.close(4503, "本节点未配置坐席")
        return
    agent_id = principal.agent_id
    feed = AgentFeed(console, agent_id)
    async with context.fanout.subscribe(feed.accepts) as queue:
        try:
            view = _view(console, agent_id)
        except HTTPException as exc:
            await websocket.close(4404, str(exc.detail))
            return
        await websocket.send_json({"type": "desk.view", "data": view})

        async def pump() -> None:
            while True:
                update = await queue.get()
                await websocket.send_json(
                    {
                        "type": update.type,
                        "topic": update.topic,
                        "data": update.data,
                        "ts": update.ts,
                    }
                )

        async def listen() -> None:
            with contextlib.suppress(WebSocketDisconnect):
                while True:
                    message = await websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        return

        tasks = [asyncio.create_task(pump()), asyncio.create_task(listen())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                    await task
