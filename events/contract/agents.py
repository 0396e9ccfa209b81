"""Agents (话务员): their retained state, the offer their desk shows, the
commands a desk sends for them and the answers to commands."""

from __future__ import annotations

from events import messages as m
from events import topics
from events.contract.common import (
    AGENT_ID,
    CID,
    EXAMPLE_LINE,
    EXAMPLE_UNDERSTANDING,
    TICKET_NUMBER,
)
from events.contract.model import Delivery, EventSpec
from events.contract.model import field as _f

AGENT_STATE_EXAMPLE = {
    "agent_id": "a1001",
    "name": "李敏",
    "status": "available",
    "reason": "",
    "call_id": None,
    "seat_groups": ["general", "housing"],
    "calls_answered": 12,
    "missed_in_a_row": 0,
    "failures": {"no_answer": 1},
}

EVENTS: tuple[EventSpec, ...] = (
    EventSpec(
        m.AGENT_STATE,
        (topics.agent_state("{agent_id}"),),
        "hub",
        Delivery.RETAINED,
        "An agent's state (retained: the last one per agent).",
        (
            AGENT_ID,
            _f("name", "string", "display name"),
            _f(
                "status",
                "string",
                "logged_out, available, offered, on_call, wrap_up, not_ready",
            ),
            _f("reason", "string", "why not ready (小休, 培训, 未接听…)"),
            _f("call_id", "string|null", "the call the agent has"),
            _f("seat_groups", "array", "the agent's seat groups"),
            _f("calls_answered", "integer", "calls answered since the hub started"),
            _f("missed_in_a_row", "integer", "offers missed in a row"),
            _f("failures", "object", "offers failed, by reason"),
        ),
        AGENT_STATE_EXAMPLE,
    ),
    EventSpec(
        m.AGENT_OFFER,
        (topics.agent_offer("{agent_id}"),),
        "hub",
        Delivery.LIVE,
        "A call (or a callback, with callback_of and attempt) rings the agent: what "
        "their desk shows before pickup.",
        (
            _f("call_id", "string", "the call"),
            AGENT_ID,
            _f("group", "string", "the seat group"),
            _f("caller", "string", "the caller's number"),
            _f("ticket", "string", "the draft ticket's number"),
            _f("ring_until_s", "number", "seconds the phone rings at most", required=False),
            _f("waited_s", "number", "seconds the caller waited", required=False),
            _f("understanding", "object|null", "as in call.understood", required=False),
            _f("transcript", "array", "the caller's lines so far", required=False),
            _f("callback_of", "string", "callback: the original call", required=False),
            _f("attempt", "integer", "callback: attempt number", required=False),
        ),
        {
            "call_id": CID,
            "agent_id": "a1001",
            "group": "general",
            "caller": "13800138000",
            "ticket": TICKET_NUMBER,
            "ring_until_s": 20.0,
            "waited_s": 12.4,
            "understanding": EXAMPLE_UNDERSTANDING,
            "transcript": [EXAMPLE_LINE],
        },
    ),
)

COMMAND_REPLY = EventSpec(
    m.COMMAND_REPLY,
    (topics.worker_replies("{worker}"), topics.agent_command_replies("{agent_id}")),
    "worker or hub",
    Delivery.LIVE,
    "The answer to a command (a worker's to the hub, the hub's to an agent desk).",
    (
        _f("command_id", "string", "the command message's id"),
        _f("command", "string", "the command's type"),
        _f("ok", "boolean", "done"),
        _f("error", "string", 'why not ("" when ok)'),
        _f("call_id", "string", "worker replies: the call", required=False),
    ),
    {"command_id": "0f5e…", "command": "agent.ready", "ok": True, "error": ""},
)

# Commands an agent desk (or an integration) sends for an agent; the hub answers
# on .../commands/replies with command.reply.
COMMANDS: tuple[EventSpec, ...] = tuple(
    EventSpec(
        command,
        (topics.agent_commands("{agent_id}"),),
        "agent desk",
        Delivery.LIVE,
        summary,
        fields,
        example,
        inbound=True,
    )
    for command, summary, fields, example in (
        (m.AGENT_LOGIN, "Log the agent in.", (), {}),
        (m.AGENT_LOGOUT, "Log the agent out.", (), {}),
        (m.AGENT_READY, "Ready for calls (就绪).", (), {}),
        (
            m.AGENT_NOT_READY,
            "Not ready, with a reason (小休, 培训, …).",
            (_f("reason", "string", "the reason code"),),
            {"reason": "小休"},
        ),
        (m.AGENT_WRAP_UP_DONE, "After-call work done (话后处理完成).", (), {}),
    )
)
