"""Seat allocation (ACD), from the hub: a call queued, offered to an agent,
connected, abandoned, announced, overflowed, called back; a seat group's figures."""

from __future__ import annotations

from events import messages as m
from events import topics
from events.contract.common import AGENT_ID, CID, TICKET_NUMBER
from events.contract.common import hub_call_event as _hub_call_event
from events.contract.model import CALLBACK_GAVE_UP, QUEUE_STATS, Delivery, EventSpec, call_topic
from events.contract.model import field as _f

SUMMARY_FIELDS = (
    "{offered, answered, answered_within, abandoned, service_level (0–1|null), "
    "asa_s|null, abandon_rate|null}"
)


CALL_EVENTS: tuple[EventSpec, ...] = (
    _hub_call_event(
        m.CALL_QUEUED,
        "The call waits for an agent of a seat group — or was refused a place "
        "(refused: closed, a diversion reason, or the queue's error).",
        (
            _f("group", "string", "the seat group", required=False),
            _f("position", "integer", "place in the queue (1 = next)", required=False),
            _f("diverted", "string", 'why a callback was offered at once ("" if not)', False),
            _f("priority", "integer", "0 normal … higher first", required=False),
            _f("refused", "string", "why it was not queued (then nothing else)", required=False),
        ),
        {"group": "general", "position": 3, "diverted": "", "priority": 0},
    ),
    _hub_call_event(
        m.CALL_OFFERED_TO_AGENT,
        "An agent's phone rings with the call.",
        (AGENT_ID,),
        {"agent_id": "a1001"},
    ),
    _hub_call_event(
        m.CALL_CONNECTED,
        "The caller talks with an agent.",
        (
            AGENT_ID,
            _f("group", "string", "the seat group that answered"),
            _f("waited_s", "number", "seconds the caller waited in the queue"),
        ),
        {"agent_id": "a1001", "group": "general", "waited_s": 12.4},
        Delivery.DURABLE,
    ),
    _hub_call_event(
        m.CALL_ABANDONED,
        "The caller hung up while waiting.",
        (
            _f("group", "string", "the seat group"),
            _f("waited_s", "number", "seconds waited"),
            _f("ringing_agent", "string|null", "the agent whose phone was ringing, if any"),
        ),
        {"group": "general", "waited_s": 48.0, "ringing_agent": None},
        Delivery.DURABLE,
    ),
    _hub_call_event(
        m.CALL_ANNOUNCED,
        "The waiting caller was told their place and wait (排队播报).",
        (
            _f("position", "integer", "place in the queue"),
            _f("minutes", "integer|null", "minutes promised, if one can be"),
            _f("text", "string", "what was said"),
        ),
        {"position": 3, "minutes": 2, "text": "您前面还有2位，预计等待2分钟"},
    ),
    _hub_call_event(
        m.CALL_OVERFLOWED,
        "The call is now offered wider (lower skill, backup group).",
        (
            _f("group", "string", "the call's seat group (it keeps its place there)"),
            _f(
                "stage",
                "string",
                "skill (now also agents of the group with its lower skill level) or "
                "backup (now also agents of the group's backup groups)",
            ),
        ),
        {"group": "general", "stage": "backup"},
        with_worker=False,
    ),
    _hub_call_event(
        m.CALLBACK_REQUESTED,
        "The caller pressed 1 for a callback that keeps their place (按1预约回电).",
        (
            _f("number", "string", "the number to call back"),
            _f("group", "string", "the seat group"),
            _f("merged_into", "string|null", "the call whose callback already covers it"),
            _f("waited_s", "number", "seconds waited in the queue before pressing 1"),
        ),
        {"number": "13800138000", "group": "general", "merged_into": None, "waited_s": 52.4},
        Delivery.DURABLE,
    ),
    EventSpec(
        m.CALLBACK_CONNECTED,
        (call_topic(m.CALLBACK_CONNECTED),),
        "hub",
        Delivery.DURABLE,
        "A callback reached the citizen; the ticket's callback task is done.",
        (
            _f("call_id", "string", "the callback's own call id"),
            _f("callback_of", "string", "the original call"),
            _f("ticket", "string", "the ticket number"),
            _f("agent_id", "string|null", "the agent talking to the citizen"),
        ),
        {
            "call_id": f"{CID}-cb1-7",
            "callback_of": CID,
            "ticket": TICKET_NUMBER,
            "agent_id": "a1001",
        },
    ),
    EventSpec(
        CALLBACK_GAVE_UP,
        (call_topic(CALLBACK_GAVE_UP),),
        "hub",
        Delivery.DURABLE,
        "A callback was given up: the citizen was not reached after every attempt.",
        (
            _f("call_id", "string", "the original call"),
            _f("number", "string", "the number that was called"),
            _f("attempts", "integer", "attempts made"),
        ),
        {"call_id": CID, "number": "13800138000", "attempts": 3},
    ),
)

STATS = EventSpec(
    QUEUE_STATS,
    (topics.queue_stats("{group}"),),
    "hub",
    Delivery.RETAINED,
    "A seat group's figures (retained; events.stats): waiting, longest wait, agents "
    "by state, service level at 15 s today and in the last 30 minutes, abandonment.",
    (
        _f("group", "string", "the seat group"),
        _f("open", "boolean", "the group takes calls now"),
        _f("at", "number|null", "wall-clock time of the figures (Unix seconds)"),
        _f("waiting", "integer", "calls waiting"),
        _f("longest_wait_s", "number", "the longest current wait"),
        _f("agents", "object", "per state: {agents, longest_s}"),
        _f("agents_logged_in", "integer", "agents not logged out"),
        _f("service_target_s", "number", "the service level's answer time (15)"),
        _f("today", "object", f"since local midnight: {SUMMARY_FIELDS}"),
        _f("last_30_min", "object", f"the last 30 minutes: {SUMMARY_FIELDS}"),
    ),
    {
        "group": "general",
        "open": True,
        "at": 1774577702.0,
        "waiting": 2,
        "longest_wait_s": 31.5,
        "agents": {
            "available": {"agents": 0, "longest_s": 0.0},
            "offered": {"agents": 1, "longest_s": 4.0},
            "on_call": {"agents": 5, "longest_s": 412.3},
            "wrap_up": {"agents": 1, "longest_s": 20.1},
            "not_ready": {"agents": 1, "longest_s": 300.0},
            "logged_out": {"agents": 2, "longest_s": 7200.0},
        },
        "agents_logged_in": 8,
        "service_target_s": 15.0,
        "today": {
            "offered": 240,
            "answered": 220,
            "answered_within": 198,
            "abandoned": 14,
            "service_level": 0.825,
            "asa_s": 9.2,
            "abandon_rate": 0.0583,
        },
        "last_30_min": {
            "offered": 20,
            "answered": 18,
            "answered_within": 15,
            "abandoned": 2,
            "service_level": 0.75,
            "asa_s": 11.0,
            "abandon_rate": 0.1,
        },
    },
)
