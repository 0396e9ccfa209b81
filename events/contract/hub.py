"""The hub's events about a call's flow: its steps, what was understood, the
call's record once it ended; and the hub's retained status."""

from __future__ import annotations

from events import messages as m
from events import topics
from events.contract.common import (
    CID,
    EXAMPLE_LINE,
    EXAMPLE_UNDERSTANDING,
    TICKET_NUMBER,
    UNDERSTANDING_FIELDS,
)
from events.contract.common import hub_call_event as _hub_call_event
from events.contract.model import Delivery, EventSpec
from events.contract.model import field as _f

FLOW_EVENTS: tuple[EventSpec, ...] = (
    _hub_call_event(
        m.FLOW_STEP,
        "The call's flow moved to another step.",
        (
            _f(
                "step",
                "string",
                "offered, answering, greeting, asking_again, listening, transcribing, "
                "emergency, transferring, queued, connected, voicemail, closing, "
                "hanging_up, ended",
            ),
        ),
        {"step": "listening"},
    ),
    _hub_call_event(
        m.AGENT_REQUESTED,
        "The caller asked for a human (key 0).",
        (_f("digit", "string", "the key pressed"),),
        {"digit": "0"},
    ),
    _hub_call_event(
        m.CALL_UNDERSTOOD,
        "What the caller said was understood (type, domain, emergency, slots).",
        UNDERSTANDING_FIELDS,
        EXAMPLE_UNDERSTANDING,
    ),
)

TRANSCRIPT = _hub_call_event(
    m.CALL_TRANSCRIPT,
    "The call's record once it ended: what was said, understood, and where it went.",
    (
        _f("caller", "string", "the caller's number"),
        _f("called", "string", "the number dialled"),
        _f("turns", "integer", "how many times the caller was listened to"),
        _f("understood", "boolean", "something substantive was understood"),
        _f("agent_requested", "boolean", "the caller asked for a human"),
        _f(
            "agent_offered",
            "string",
            "why the flow gave the call to a human without understanding it "
            "(caller_pressed_0, nothing_understood, asr_failed, asr_unavailable, "
            'no_transcript, …); "" if it did not (an understood call queues with "")',
        ),
        _f("understanding", "object|null", "as in call.understood"),
        _f("emergency", "string|null", "the emergency number it was handed to"),
        _f("seat_group", "string", "the seat group"),
        _f("ticket", "string", 'the ticket number ("" if none)'),
        _f("end_reason", "string", "why the call ended"),
        _f(
            "lines",
            "array",
            "[{leg (caller/agent), turn, text, content, fillers, start_s, end_s, "
            "confidence, engine}]",
        ),
    ),
    {
        "caller": "13800138000",
        "called": "12345",
        "turns": 1,
        "understood": True,
        "agent_requested": False,
        "agent_offered": "",
        "understanding": EXAMPLE_UNDERSTANDING,
        "emergency": None,
        "seat_group": "general",
        "ticket": TICKET_NUMBER,
        "end_reason": "remote_hangup",
        "lines": [EXAMPLE_LINE],
    },
    Delivery.DURABLE,
)

STATUS = EventSpec(
    m.HUB_STATUS,
    (topics.hub_status(),),
    "hub",
    Delivery.RETAINED,
    "The hub's status every few seconds; its last will says down.",
    (
        _f("state", "string", "up, down"),
        _f("pid", "integer", "process id", required=False),
        _f("calls", "integer", "calls it follows", required=False),
        _f("flows", "object", "call id → flow step", required=False),
    ),
    {"state": "up", "pid": 4300, "calls": 1, "flows": {CID: "connected"}},
)

LOAD = EventSpec(
    m.HUB_LOAD,
    (topics.hub_load(),),
    "hub",
    Delivery.LIVE,
    "Every second: how long the hub took to answer the calls offered in the last few "
    "seconds (from the worker's offer to the answer command). The supervisor's "
    "admission control sheds new calls in Kamailio when this grows.",
    (
        _f("window_s", "number", "the seconds the figures cover"),
        _f("answered", "integer", "calls answered in the window"),
        _f("stale", "integer", "offers dropped in the window: older than the worker waits"),
        _f("p50_s", "number|null", "median answer latency (null: none answered)"),
        _f("p90_s", "number|null", "90th percentile"),
        _f("p99_s", "number|null", "99th percentile"),
        _f("events", "integer", "call events handled in the window"),
        _f(
            "lag_p50_s",
            "number|null",
            "median delay from a worker's event to the hub handling it",
        ),
        _f("lag_p90_s", "number|null", "90th percentile of that delay: the hub falling behind"),
        _f("calls", "integer", "calls the hub follows"),
        _f("pending", "integer", "calls with events still being handled"),
    ),
    {
        "window_s": 3.0,
        "answered": 12,
        "stale": 0,
        "p50_s": 0.04,
        "p90_s": 0.09,
        "p99_s": 0.2,
        "events": 340,
        "lag_p50_s": 0.01,
        "lag_p90_s": 0.05,
        "calls": 80,
        "pending": 3,
    },
)
