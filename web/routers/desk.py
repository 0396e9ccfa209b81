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
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Query, Request, WebSocket, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.websockets import WebSocketDisconnect

from call_routing.acd import CallerPriority
from events import messages as m
from events import topics
from tickets.lifecycle import Action, TransitionError, allowed_actions, transition
from tickets.model import RequestType, Status, Ticket
from tickets.store import ConcurrentChange, TicketQuery, UnknownTicket
from web import audit
from web.context import WebContext
from web.csrf import require_csrf
from web.fanout import Update
from web.masking import mask_for
from web.roles import Principal, Role, require_roles
from web.schemas.errors import refusals
from web.schemas.text import NOT_BLANK, strip_blanks

if TYPE_CHECKING:
    from ivr.hub.console import Console
    from ivr.hub.flow import CallFlow
    from tickets.store import TicketStore

router = APIRouter(tags=["desk"])

_agent_only = require_roles(Role.AGENT)
Agent = Annotated[Principal, Depends(_agent_only)]
WRITE = [Depends(_agent_only), Depends(require_csrf)]

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
def _context(request: Request) -> WebContext:
    return request.app.state.context


def _console(context: WebContext) -> Console:
    if context.console is None or context.hub is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "本节点未配置坐席 (no agents)")
    return context.console


def _store(context: WebContext) -> TicketStore:
    if context.tickets is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "工单库不可用 (no ticket store)")
    return context.tickets


def _seat(context: WebContext, principal: Principal) -> tuple[Console, str]:
    """The console and the signed-in agent's id (only ever from the principal)."""
    console = _console(context)
    if not principal.agent_id:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "该账号未绑定坐席工号 (this user answers no calls)"
        )
    try:
        console.seating.acd.agent(principal.agent_id)
    except LookupError:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"本节点没有坐席 {principal.agent_id} (no such agent)"
        ) from None
    return console, principal.agent_id


def _view(console: Console, agent_id: str) -> dict[str, Any]:
    """The agent's state and call, with what the desk needs around it."""
    try:
        view = console.agent_view(agent_id)
    except LookupError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有坐席 {agent_id}") from None
    call = view.get("call")
    if call:
        call.update(_priority(console, call))
    view["groups"] = [group.id for group in console.seating.acd.groups()]
    view["not_ready_reasons"] = list(NOT_READY_REASONS)
    view["last_call"] = _last_call_id(console, agent_id)
    return view


def _priority(console: Console, call: dict[str, Any]) -> dict[str, Any]:
    """The caller's priority in the queue (while ringing), else what it was based on."""
    acd = console.seating.acd
    level: int | None = None
    with contextlib.suppress(LookupError):  # the ACD's UnknownId is a LookupError
        for queued in acd.queue(str(call.get("seat_group") or "")):
            if queued.call_id == call["call_id"]:
                level = int(queued.priority)
    if level is None:
        understanding = call.get("understanding") or {}
        if understanding.get("emergency_adjacent"):
            level = CallerPriority.EMERGENCY_ADJACENT
        else:
            level = CallerPriority.MARKED if call.get("marked") else CallerPriority.NORMAL
    return {"priority": int(level), "priority_label": PRIORITY_LABELS.get(level, str(level))}


def _flows(console: Console) -> Iterable[CallFlow]:
    """Calls in progress, then finished ones newest first."""
    hub = console.hub
    yield from hub.flows.values()
    yield from reversed(list(hub.finished.values()))


def _last_call_id(console: Console, agent_id: str) -> str:
    """The call the agent is offered or on, else the last one they took (its ticket is
    finished in wrap-up)."""
    current = console.seating.acd.agent(agent_id).call_id
    if current:
        return current
    for flow in _flows(console):
        if flow.agent_id == agent_id:
            return flow.call_id
    return ""


def _own_flows(console: Console, agent_id: str) -> list[CallFlow]:
    current = console.seating.acd.agent(agent_id).call_id
    return [f for f in _flows(console) if f.agent_id == agent_id or f.call_id == current]


def _flow(console: Console, call_id: str) -> CallFlow | None:
    hub = console.hub
    return hub.flows.get(call_id) or hub.finished.get(call_id)


# ---- tickets ------------------------------------------------------------------------
def ticket_json(ticket: Ticket) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "status": ticket.status.value,
        "status_label": ticket.status.label,
        "created_at": ticket.created_at.isoformat(),
        "due_date": ticket.due_date.isoformat() if ticket.due_date else None,
        "call_id": ticket.call_id,
        "caller_number": ticket.caller_number,
        "caller_name": ticket.caller_name,
        "request_type": ticket.request_type.value,
        "domain": ticket.domain,
        "category_code": ticket.category_code,
        "lead_department": ticket.lead_department,
        "co_departments": list(ticket.co_departments),
        "address": ticket.address,
        "content": ticket.content,
        "summary": ticket.summary,
        "reply": ticket.reply,
        "owner": ticket.owner,
        "emergency_number": ticket.emergency_number,
        "needs_agent_review": ticket.needs_agent_review,
        "callback_number": ticket.callback_number,
        "editable": ticket.status in EDITABLE,
        "submit": _submittable(ticket),
    }


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
    "request_type",
    "domain",
    "category_code",
    "caller_name",
    "address",
    "content",
    "summary",
    "lead_department",
)


def _own_ticket_numbers(console: Console, agent_id: str) -> dict[str, str]:
    """Ticket number → call id of the calls offered to or taken by the agent."""
    return {f.ticket: f.call_id for f in _own_flows(console, agent_id) if f.ticket}


def _submit(
    store: TicketStore, number: str, body: TicketSubmit, actor: str, now: datetime
) -> tuple[Ticket, dict[str, Any]]:
    """Corrections and the action in one write (blocking); the changed fields."""
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
        store.save(changed)
    return changed, {k: str(v) if not isinstance(v, tuple) else list(v) for k, v in changes.items()}


# ---- pages and API ------------------------------------------------------------------
@router.get("/desk", response_class=HTMLResponse)
def desk_page(request: Request, principal: Agent) -> HTMLResponse:
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
def desk_view(request: Request, principal: Agent) -> dict[str, Any]:
    """The agent's state and the call offered to or connected with them: caller,
    priority, transcript so far, understanding, draft ticket number."""
    return _view(*_seat(_context(request), principal))


class StateChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["login", "logout", "ready", "not_ready", "wrap_up_done"]
    reason: str = Field("", max_length=40, description="Why not ready (小休, 就餐 …).")

    @field_validator("reason")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return strip_blanks(value)  # after the length check, as the schema counts


@router.post("/api/desk/state", dependencies=WRITE, responses={**_DESK, **_REFUSED})
async def desk_state(request: Request, body: StateChange, principal: Agent) -> dict[str, Any]:
    """就绪 / 小休 (not ready with a reason) / 话后处理完成 / log in / log out; 409 with
    the reason when the agent's state does not allow it."""
    console, agent_id = _seat(_context(request), principal)
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
async def desk_transfer(
    request: Request, body: TransferRequest, principal: Agent
) -> dict[str, Any]:
    """Hand the connected caller to another seat group (转接); 409 with the reason."""
    console, agent_id = _seat(_context(request), principal)
    call_id = console.seating.acd.agent(agent_id).call_id or ""
    refused = await console.transfer(agent_id, body.group)
    if refused:
        raise HTTPException(status.HTTP_409_CONFLICT, refused)
    await audit.record(request, "desk.transfer", call_id, {"group": body.group})
    return _view(console, agent_id)


async def _own_ticket(
    console: Console, store: TicketStore, agent_id: str, number: str
) -> tuple[str, bool]:
    """``number`` if it is the agent's own ticket (of a call they took, or one they
    accepted), else 404; without a number the current (or last) call's.  Also whether
    it is that call's ticket (its numbers are shown in full)."""
    current = _flow(console, _last_call_id(console, agent_id))
    current_ticket = current.ticket if current is not None else ""
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
    request: Request,
    principal: Agent,
    number: Annotated[
        str, Query(max_length=40, description="One of the agent's tickets; empty: the call's.")
    ] = "",
) -> dict[str, Any]:
    """The current (or last) call's ticket, or one of the agent's own by ``number``."""
    context = _context(request)
    console, agent_id = _seat(context, principal)
    store = _store(context)
    number, on_call = await _own_ticket(console, store, agent_id, number)
    try:
        ticket = await asyncio.to_thread(store.get, number)
    except UnknownTicket:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有工单 {number}") from None
    return mask_for(ticket_json(ticket), principal, on_call=on_call)


@router.post("/api/desk/ticket", dependencies=WRITE, responses={**_DESK, **_REFUSED})
async def desk_ticket_submit(
    request: Request, body: TicketSubmit, principal: Agent
) -> dict[str, Any]:
    """Correct the ticket and, with ``action``, accept it (受理), close it at once with
    the answer given (即时办结) or dispatch it to its lead department (派单)."""
    context = _context(request)
    console, agent_id = _seat(context, principal)
    store = _store(context)
    number, on_call = await _own_ticket(console, store, agent_id, body.number)
    try:
        ticket, changes = await asyncio.to_thread(
            _submit, store, number, body, agent_id, datetime.now(UTC)
        )
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
    return mask_for(ticket_json(ticket), principal, on_call=on_call)


def _call_entry(flow: CallFlow) -> dict[str, Any]:
    understanding = flow.understanding_data() or {}
    return {
        "call_id": flow.call_id,
        "caller": flow.caller,
        "seat_group": flow.seat_group,
        "ticket": flow.ticket,
        "step": flow.step.value,
        "end_reason": flow.end_reason,
        "request_type": understanding.get("request_type", ""),
        "domain": understanding.get("domain", ""),
        "summary": understanding.get("summary", ""),
    }


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
async def desk_history(request: Request, principal: Agent) -> dict[str, Any]:
    """The agent's own calls (this hub's memory, and the call catalog) and tickets."""
    context = _context(request)
    console, agent_id = _seat(context, principal)
    store = _store(context)
    flows = [f for f in _own_flows(console, agent_id) if f.agent_id == agent_id]
    calls = {f.call_id: _call_entry(f) for f in flows[:HISTORY_LIMIT]}
    for recorded in await asyncio.to_thread(_catalog_calls, context, agent_id):
        calls.setdefault(recorded["call_id"], recorded)
    numbers = [str(c["ticket"]) for c in calls.values() if c.get("ticket")]
    tickets = await asyncio.to_thread(_history_tickets, store, numbers, agent_id)
    return mask_for(
        {
            "calls": list(calls.values())[:HISTORY_LIMIT],
            "tickets": [ticket_json(t) for t in tickets],
        },
        principal,
    )


# ---- live updates -------------------------------------------------------------------
class AgentFeed:
    """Which bus updates belong on one agent's desk: their state and offers, and the
    events of the calls offered to or connected with them."""

    def __init__(self, console: Console, agent_id: str) -> None:
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
            current = self.console.seating.acd.agent(self.agent_id).call_id
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
async def desk_socket(websocket: WebSocket, principal: Agent) -> None:
    """The agent's live desk: ``desk.view`` first, then each update as
    ``{type, topic, data, ts}`` (agent.state, agent.offer, asr.partial, asr.final,
    call.connected, call.ended, ticket.drafted …).  Refused with 4401 without a
    session and 4403 for anyone but an agent (by the roles dependency, before the
    upgrade is accepted); closed with 4403 for a user who answers no calls or an
    upgrade from another site, 4503 when the node has no agents."""
    context: WebContext = websocket.app.state.context
    await websocket.accept()
    if not principal.agent_id or not _same_origin(websocket):
        await websocket.close(4403, "仅限话务员")
        return
    console = context.console
    if console is None or context.hub is None:
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
