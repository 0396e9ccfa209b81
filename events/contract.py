"""The node's event contract, as data: every event it publishes, on which topic,
how it is delivered, its fields and an example.

This is the integration surface for other systems (``docs/events.md`` is
generated from it: ``python -m events.contract > docs/events.md``).  The
envelope is :mod:`events.messages`' ``{"type", "id", "ts", "node", "schema",
"data"}``; ``schema`` is :data:`CONTRACT_VERSION`.  Within one version fields
are only ever added; a field removed or changing meaning bumps the version.

Delivery:

- ``durable``: written to the outbox first (:mod:`events.outbox`) and published
  from there — never lost by a broker outage or a hub restart, possibly
  delivered twice: de-duplicate by ``id``;
- ``retained``: a state document; the broker keeps the last one per topic;
- ``live``: published as it happens (QoS 1), lost while the broker is down.

The hub decides where to publish with :func:`is_durable`.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from events import messages as m
from events import topics

CONTRACT_VERSION = m.SCHEMA

# Types published without a constant in events.messages (yet).
CALLBACK_GAVE_UP = m.CALLBACK_GAVE_UP
ASR_STATUS = m.ASR_STATUS
QUEUE_STATS = m.QUEUE_STATS


class Delivery(enum.StrEnum):
    DURABLE = "durable"  # outbox, at-least-once
    RETAINED = "retained"  # last value kept by the broker
    LIVE = "live"  # QoS 1 while connected


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # JSON types: string, integer, number, boolean, object, array; "|null" allowed
    description: str
    required: bool = True


@dataclass(frozen=True)
class EventSpec:
    type: str
    topics: tuple[str, ...]  # topic patterns; {placeholders} name the varying levels
    publisher: str  # worker, hub, asr, supervisor
    delivery: Delivery
    summary: str
    fields: tuple[Field, ...]
    example: dict[str, Any]
    inbound: bool = False  # sent *to* the node (agent desk commands)


def _f(name: str, kind: str, description: str, required: bool = True) -> Field:
    return Field(name, kind, description, required)


def _call_topic(event: str) -> str:
    return topics.call_event("{call_id}", event)


CALL_ID = _f("call_id", "string", "the call (yyyymmdd-hhmmss-worker-hex, made by the worker)")
WORKER = _f("worker", "string", "the media worker that holds the call")
CALL = (CALL_ID, WORKER)
EXAMPLE_CALL = {"call_id": "20260327-101502-w1-3fa2c1", "worker": "w1"}
CID = EXAMPLE_CALL["call_id"]
AGENT_ID = _f("agent_id", "string", "the agent (话务员) id from the settings")
DIAL_ID = _f("dial_id", "string", "the hub's id of this attempt to ring the agent")
TICKET_NUMBER = "GZ12345-20260327-000042"

UNDERSTANDING_FIELDS = (
    _f("request_type", "string", "咨询/求助/投诉/举报/建议/表扬"),
    _f("domain", "string", "the service domain (taxonomy)"),
    _f("category", "object", "{code, name} of the taxonomy category"),
    _f("seat_group", "string", "the seat group the call is routed to"),
    _f("departments", "array", "departments concerned"),
    _f("emergency", "string|null", "110/119/120 when an emergency was heard"),
    _f("emergency_detail", "object|null", "what made it an emergency"),
    _f("slots", "object", "address, time, phone, names, business found in the words"),
    _f("summary", "string", "one-line summary"),
    _f("confidence", "number", "overall confidence 0–1"),
    _f("type_confidence", "number", "request type confidence 0–1"),
    _f("domain_confidence", "number", "domain confidence 0–1"),
    _f("low_confidence", "boolean", "an agent should check the classification"),
    _f("danger", "number", "emergency model score 0–1"),
    _f("emergency_adjacent", "boolean", "close to an emergency: served first"),
    _f("general_seat_group", "string", "the group that takes what no specialist group takes"),
)
EXAMPLE_UNDERSTANDING = {
    "request_type": "投诉",
    "domain": "环境保护",
    "category": {"code": "HB01", "name": "噪声污染"},
    "seat_group": "general",
    "departments": ["生态环境局"],
    "emergency": None,
    "emergency_detail": None,
    "slots": {"address": "广州市天河区体育西路1号", "time": "晚上十一点以后"},
    "summary": "工地夜间施工噪音扰民",
    "confidence": 0.82,
    "type_confidence": 0.9,
    "domain_confidence": 0.86,
    "low_confidence": False,
    "danger": 0.02,
    "emergency_adjacent": False,
    "general_seat_group": "general",
}
EXAMPLE_LINE = {
    "leg": "caller",
    "turn": 1,
    "text": "嗯，楼下工地每天晚上十一点以后还在施工",
    "content": "楼下工地每天晚上十一点以后还在施工",
    "fillers": [[0, 1]],
    "start_s": 0.4,
    "end_s": 3.9,
    "confidence": 0.87,
    "engine": "whisper-base",
}
TICKET_FIELDS = (
    _f("number", "string", "the ticket (工单) number"),
    CALL_ID,
    _f("status", "string", "ticket status (draft when made during a call)"),
    _f("request_type", "string", "咨询/求助/投诉/举报/建议/表扬"),
    _f("domain", "string", "the service domain"),
    _f("summary", "string", "one-line summary"),
    _f("due_date", "string|null", "ISO date the ticket is due"),
    _f("needs_agent_review", "boolean", "an agent must check the draft"),
    _f("duplicate_of", "string|null", "the open ticket this one probably repeats"),
)
EXAMPLE_TICKET = {
    "number": TICKET_NUMBER,
    "call_id": CID,
    "status": "draft",
    "request_type": "投诉",
    "domain": "环境保护",
    "summary": "工地夜间施工噪音扰民",
    "due_date": "2026-04-03",
    "needs_agent_review": False,
    "duplicate_of": None,
}
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
SUMMARY_FIELDS = (
    "{offered, answered, answered_within, abandoned, service_level (0–1|null), "
    "asa_s|null, abandon_rate|null}"
)


def _worker_event(
    type_: str, summary: str, fields: tuple[Field, ...], example: dict[str, Any]
) -> EventSpec:
    return EventSpec(
        type_,
        (_call_topic(type_),),
        "worker",
        Delivery.LIVE,
        summary,
        (*CALL, *fields),
        {**EXAMPLE_CALL, **example},
    )


def _hub_call_event(
    type_: str,
    summary: str,
    fields: tuple[Field, ...],
    example: dict[str, Any],
    delivery: Delivery = Delivery.LIVE,
    with_worker: bool = True,
) -> EventSpec:
    common = CALL if with_worker else (CALL_ID,)
    base = EXAMPLE_CALL if with_worker else {"call_id": CID}
    return EventSpec(
        type_,
        (_call_topic(type_),),
        "hub",
        delivery,
        summary,
        (*common, *fields),
        {**base, **example},
    )


def _asr_event(
    type_: str, summary: str, fields: tuple[Field, ...], example: dict[str, Any]
) -> EventSpec:
    common = (
        CALL_ID,
        _f("leg", "string", "caller or agent"),
        _f("turn", "integer", "the caller's turn (0 while talking with an agent)"),
        _f("engine", "string", "the recogniser (whisper-base, vosk-…)"),
    )
    base = {"call_id": CID, "leg": "caller", "turn": 1, "engine": "whisper-base"}
    return EventSpec(
        type_,
        (_call_topic(type_),),
        "asr",
        Delivery.LIVE,
        summary,
        (*common, *fields),
        {**base, **example},
    )


TEXT_FIELDS = (
    _f("text", "string", "what was recognised (Simplified Chinese), fillers kept"),
    _f("fillers", "array", "[start, end) character spans of fillers (嗯, 那个…) in text"),
    _f("content", "string", "text without the fillers"),
    _f("substantive", "boolean", "says something beyond greetings and fillers"),
)
EXAMPLE_TEXT = {k: EXAMPLE_LINE[k] for k in ("text", "fillers", "content")} | {"substantive": True}


EVENTS: tuple[EventSpec, ...] = (
    # ---- a call's media, from its worker --------------------------------------------------
    _worker_event(
        m.CALL_OFFERED,
        "A call arrived at a worker (not yet answered).",
        (
            _f("sip_call_id", "string", "the SIP Call-ID"),
            _f("caller", "string", "the caller's number"),
            _f("called", "string", "the number dialled (12345)"),
            _f("remote_uri", "string", "the caller's SIP URI"),
        ),
        {
            "sip_call_id": "a84b4c76e66710@198.51.100.7",
            "caller": "13800138000",
            "called": "12345",
            "remote_uri": "sip:13800138000@198.51.100.7:5060",
        },
    ),
    _worker_event(m.CALL_ANSWERED, "The worker answered the call.", (), {}),
    _worker_event(
        m.CALL_MEDIA,
        "Media negotiated (or changed) for the caller's leg.",
        (
            _f("codec", "string", "codec name (PCMA, PCMU, G722, …)"),
            _f("codec_rate", "integer", "the codec's clock rate"),
            _f("hold", "boolean", "the far end put the call on hold"),
        ),
        {"codec": "PCMA", "codec_rate": 8000, "hold": False},
    ),
    _worker_event(
        m.CALL_ENDED,
        "The caller's leg ended.",
        (
            _f(
                "reason",
                "string",
                "remote_hangup, local_hangup, cancelled, rejected, rtp_timeout, max_duration, "
                "failed, hub_lost, shutdown, worker_lost",
            ),
            _f("status_code", "integer", "the SIP status that ended it"),
            _f("answered", "boolean", "the call had been answered"),
            _f("duration_s", "number", "seconds since the call arrived"),
            _f("media", "object", "RTP counters (rx_packets, rx_lost, tx_packets, …)"),
        ),
        {
            "reason": "remote_hangup",
            "status_code": 200,
            "answered": True,
            "duration_s": 184.2,
            "media": {"rx_packets": 9150, "rx_lost": 3, "tx_packets": 9160},
        },
    ),
    _worker_event(
        m.PROMPT_STARTED,
        "A prompt started playing to the caller.",
        (
            _f("play_id", "string", "the PLAY command's id"),
            _f("prompt", "string", "the prompt id"),
        ),
        {"play_id": "5d0c7e0f9c2e4c53a1c3c9b3d2a1f0e9", "prompt": "greeting"},
    ),
    _worker_event(
        m.PROMPT_FINISHED,
        "A prompt finished, or was interrupted (barge-in, stop).",
        (
            _f("play_id", "string", "the PLAY command's id"),
            _f("prompt", "string", "the prompt id"),
            _f("interrupted", "boolean", "stopped before its end"),
        ),
        {"play_id": "5d0c7e0f9c2e4c53a1c3c9b3d2a1f0e9", "prompt": "greeting", "interrupted": False},
    ),
    _worker_event(
        m.PROMPT_FAILED,
        "A prompt could not be played.",
        (
            _f("play_id", "string", "the PLAY command's id"),
            _f("prompt", "string", "the prompt id"),
            _f("error", "string", "why"),
        ),
        {"play_id": "5d0c7e0f", "prompt": "announcement", "error": "file is not a WAV"},
    ),
    _worker_event(
        m.SPEECH_STARTED,
        "The caller started speaking (voice activity).",
        (_f("listen_id", "string", "the LISTEN command's id"),),
        {"listen_id": "9a1e2b"},
    ),
    _worker_event(
        m.SPEECH_ENDED,
        "The caller stopped speaking: the turn is over.",
        (
            _f("listen_id", "string", "the LISTEN command's id"),
            _f("speech_ms", "integer", "milliseconds of speech"),
            _f("reason", "string", "silence, max_speech, stopped"),
        ),
        {"listen_id": "9a1e2b", "speech_ms": 3520, "reason": "silence"},
    ),
    _worker_event(
        m.LISTEN_TIMEOUT,
        "The caller said nothing before the listen timed out.",
        (_f("listen_id", "string", "the LISTEN command's id"),),
        {"listen_id": "9a1e2b"},
    ),
    _worker_event(
        m.DTMF,
        "The caller pressed a key.",
        (
            _f("digit", "string", "0–9, *, #"),
            _f("method", "string", "rfc4733, sip_info or inband"),
        ),
        {"digit": "0", "method": "rfc4733"},
    ),
    _worker_event(
        m.TRANSFER_STATUS,
        "The network's answer to a transfer (e.g. to 119).",
        (
            _f("code", "integer", "SIP status of the transfer"),
            _f("reason", "string", "status text"),
            _f("final", "boolean", "no more updates will come"),
        ),
        {"code": 200, "reason": "OK", "final": True},
    ),
    _worker_event(
        m.RECORDING_SAVED,
        "The call's recordings are complete, hashed and listed in the manifest.",
        (
            _f("directory", "string", "recordings/<yyyy>/<mm>/<dd>/<call-id>/ on the worker"),
            _f("status", "string", "manifest status (complete, repaired, …)"),
            _f("legs", "object", "per leg (caller, played, agent, qa): {file, duration_s, sha256}"),
        ),
        {
            "directory": f"/var/lib/hotline/recordings/2026/03/27/{CID}",
            "status": "complete",
            "legs": {
                "caller": {"file": "caller.wav", "duration_s": 183.9, "sha256": "9f86d0…"},
                "agent": {"file": "agent.wav", "duration_s": 120.4, "sha256": "60303a…"},
            },
        },
    ),
    _worker_event(
        m.ASR_STREAMING,
        "The caller's audio now streams to the ASR service.",
        (
            _f("sample_rate", "integer", "Hz of the streamed audio"),
            _f("turn", "integer", "the caller's turn"),
        ),
        {"sample_rate": 8000, "turn": 1},
    ),
    _worker_event(
        m.ASR_UNAVAILABLE,
        "No speech recognition for this leg (busy, down, lost): the flow goes on.",
        (
            _f("reason", "string", "why"),
            _f("turn", "integer", "the caller's turn (caller leg)", required=False),
            _f("leg", "string", "agent, for the agent's leg", required=False),
        ),
        {"reason": "busy", "turn": 1},
    ),
    _worker_event(
        m.AGENT_ANSWERED,
        "The agent picked up; caller and agent are bridged.",
        (AGENT_ID, DIAL_ID),
        {"agent_id": "a1001", "dial_id": "d17"},
    ),
    _worker_event(
        m.AGENT_FAILED,
        "The agent's leg did not connect.",
        (
            AGENT_ID,
            DIAL_ID,
            _f("code", "integer", "SIP status (486 busy, 408 no answer, 503 no room…)"),
            _f("reason", "string", "why"),
        ),
        {"agent_id": "a1001", "dial_id": "d17", "code": 486, "reason": "rejected"},
    ),
    _worker_event(
        m.AGENT_HUNGUP,
        "The agent's leg ended after it had answered.",
        (AGENT_ID, DIAL_ID, _f("reason", "string", "why")),
        {"agent_id": "a1001", "dial_id": "d17", "reason": "remote_hangup"},
    ),
    _worker_event(
        m.CALLBACK_ANSWERED,
        "The citizen picked up a callback (回电); agent and citizen are bridged.",
        (AGENT_ID,),
        {"agent_id": "a1001"},
    ),
    _worker_event(
        m.CALLBACK_FAILED,
        "The citizen did not pick up a callback.",
        (_f("code", "integer", "SIP status"), _f("reason", "string", "why")),
        {"code": 480, "reason": "rejected"},
    ),
    # ---- speech recognition ----------------------------------------------------------------
    _asr_event(
        m.ASR_PARTIAL,
        "Words recognised so far in the current utterance (they may still change).",
        TEXT_FIELDS,
        EXAMPLE_TEXT,
    ),
    _asr_event(
        m.ASR_FINAL,
        "A finished utterance.",
        (
            *TEXT_FIELDS,
            _f("start_s", "number", "start, seconds from the start of the stream"),
            _f("end_s", "number", "end, seconds from the start of the stream"),
            _f("confidence", "number|null", "0–1"),
            _f("latency_s", "number", "seconds from the end of speech to the result"),
            _f("segments", "array", "[{start_s, end_s, text, confidence}]"),
        ),
        {
            **EXAMPLE_TEXT,
            "start_s": 0.4,
            "end_s": 3.9,
            "confidence": 0.87,
            "latency_s": 0.62,
            "segments": [
                {"start_s": 0.4, "end_s": 3.9, "text": EXAMPLE_LINE["text"], "confidence": 0.87}
            ],
        },
    ),
    _asr_event(
        m.ASR_FAILED,
        "Recognition failed for the stream.",
        (
            _f("message", "string", "what went wrong"),
            _f("retryable", "boolean", "a new stream may work"),
        ),
        {"message": "engine overloaded", "retryable": True},
    ),
    _asr_event(
        m.ASR_DONE,
        "The leg's stream is finished: no more results will come.",
        (_f("finals", "integer", "how many final results the stream gave"),),
        {"finals": 3},
    ),
    # ---- the call's flow, from the hub -----------------------------------------------------
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
    EventSpec(
        m.TICKET_DRAFTED,
        (topics.ticket_event("{number}", "drafted"), _call_topic(m.TICKET_DRAFTED)),
        "hub",
        Delivery.DURABLE,
        "A draft ticket (工单) was written for the call, before any agent picks up. "
        "Published on both topics (two messages, two ids); on the call topic it also "
        "carries worker.",
        (*TICKET_FIELDS, _f("worker", "string", "the worker (call topic only)", required=False)),
        EXAMPLE_TICKET,
    ),
    EventSpec(
        m.TICKET_CHANGED,
        (topics.ticket_event("{number}", "changed"),),
        "hub",
        Delivery.DURABLE,
        "A ticket changed: one event per entry in its audit trail (created, accepted, "
        "dispatched, replied, closed, rated, a callback task …), whatever made the "
        "change: a call, an agent at the desk, the REST API or the command line. "
        "Written to the outbox in the same transaction as the change, so a change is "
        "never without its event. The citizen's personal data (name, phone numbers, "
        "address, what they said) is left out: read it with "
        "`GET /api/tickets/{number}` and an API token.",
        (
            _f("number", "string", "the ticket (工单) number"),
            _f("action", "string", "what was done: create, accept, dispatch, close, …"),
            _f("actor", "string", "who did it: an agent or user id, or system"),
            _f("at", "string", "when (ISO 8601, UTC)"),
            _f("from_status", "string|null", "the status before (null when created)"),
            _f("to_status", "string", "the status after"),
            _f("reason", "string", "the reason given, if any"),
            _f("details", "object", "what else the change recorded (department, note, …)"),
            _f("status", "string", "the ticket's status now"),
            _f("channel", "string", "phone, web or qr"),
            _f("call_id", "string|null", "the call it came from"),
            _f("request_type", "string", "咨询/求助/投诉/举报/建议/表扬"),
            _f("domain", "string", "the service domain"),
            _f("category_code", "string", "the taxonomy code"),
            _f("lead_department", "string", "the department in charge"),
            _f("co_departments", "array", "departments that assist"),
            _f("summary", "string", "one-line summary"),
            _f("due_date", "string", "ISO date the ticket is due"),
            _f("owner", "string", "the agent responsible (首接负责)"),
            _f("linked_to", "string|null", "the earlier ticket this one repeats"),
            _f("confidential", "boolean", "the citizen asked for confidentiality"),
            _f("callback_pending", "boolean", "a callback task is waiting"),
            _f("rating", "string|null", "the citizen's rating, once rated"),
        ),
        {
            "number": TICKET_NUMBER,
            "action": "dispatch",
            "actor": "a1001",
            "at": "2026-03-27T02:21:40+00:00",
            "from_status": "accepted",
            "to_status": "dispatched",
            "reason": "",
            "details": {"department": "区生态环境局"},
            "status": "dispatched",
            "channel": "phone",
            "call_id": CID,
            "request_type": "投诉",
            "domain": "环境保护",
            "category_code": "HB-03",
            "lead_department": "区生态环境局",
            "co_departments": [],
            "summary": "工地夜间施工噪音扰民",
            "due_date": "2026-04-03",
            "owner": "a1001",
            "linked_to": None,
            "confidential": False,
            "callback_pending": False,
            "rating": None,
        },
    ),
    _hub_call_event(
        m.CALL_TRANSCRIPT,
        "The call's record once it ended: what was said, understood, and where it went.",
        (
            _f("caller", "string", "the caller's number"),
            _f("called", "string", "the number dialled"),
            _f("turns", "integer", "how many times the caller was listened to"),
            _f("understood", "boolean", "something substantive was understood"),
            _f("agent_requested", "boolean", "the caller asked for a human"),
            _f("agent_offered", "boolean", "the call was offered to an agent"),
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
            "agent_offered": True,
            "understanding": EXAMPLE_UNDERSTANDING,
            "emergency": None,
            "seat_group": "general",
            "ticket": TICKET_NUMBER,
            "end_reason": "remote_hangup",
            "lines": [EXAMPLE_LINE],
        },
        Delivery.DURABLE,
    ),
    # ---- seat allocation (ACD), from the hub -----------------------------------------------
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
            _f("group", "string", "the group it overflowed to"),
            _f("stage", "integer", "overflow stage (1, 2, …)"),
        ),
        {"group": "general-backup", "stage": 1},
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
        (_call_topic(m.CALLBACK_CONNECTED),),
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
        (_call_topic(CALLBACK_GAVE_UP),),
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
    # ---- agents ----------------------------------------------------------------------------
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
    EventSpec(
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
    ),
    # ---- queues ----------------------------------------------------------------------------
    EventSpec(
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
    ),
    # ---- the node's parts (retained status documents) --------------------------------------
    EventSpec(
        m.WORKER_STATUS,
        (topics.worker_status("{worker}"),),
        "worker",
        Delivery.RETAINED,
        "A media worker's status and calls; its last will says down.",
        (
            _f("worker", "string", "worker id"),
            _f("state", "string", "up, draining, down"),
            _f("pid", "integer", "process id", required=False),
            _f("sip", "string", "host:port of its SIP transport", required=False),
            _f("capacity", "integer", "callers it admits", required=False),
            _f("legs", "integer", "call legs it can hold", required=False),
            _f("started_at", "number", "Unix time it started", required=False),
            _f("calls", "array", "[{call_id, state, caller, since}]", required=False),
        ),
        {
            "worker": "w1",
            "state": "up",
            "pid": 4242,
            "sip": "127.0.0.1:5072",
            "capacity": 2,
            "legs": 4,
            "started_at": 1774570000.0,
            "calls": [
                {"call_id": CID, "state": "bridged", "caller": "13800138000", "since": 1774577500.0}
            ],
        },
    ),
    EventSpec(
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
    ),
    EventSpec(
        ASR_STATUS,
        (topics.asr_status("{name}"),),
        "asr",
        Delivery.RETAINED,
        "The ASR service's status and load; its last will says down.",
        (
            _f("state", "string", "up, down"),
            _f("pid", "integer", "process id", required=False),
            _f("engine", "string", "the recogniser", required=False),
            _f("url", "string", "its WebSocket URL", required=False),
            _f("streams", "integer", "streams open now", required=False),
            _f("capacity", "integer", "streams it accepts at once", required=False),
            _f("served", "integer", "streams served since it started", required=False),
            _f("refused", "integer", "streams refused as busy", required=False),
        ),
        {
            "state": "up",
            "pid": 4100,
            "engine": "whisper-base",
            "url": "ws://127.0.0.1:2700",
            "streams": 2,
            "capacity": 8,
            "served": 311,
            "refused": 0,
        },
    ),
    EventSpec(
        m.NODE_STATUS,
        (topics.node_status(),),
        "supervisor",
        Delivery.RETAINED,
        "The node: its parts, their state and restarts.",
        (
            _f("node", "string", "node name"),
            _f("state", "string", "starting, ready, stopping"),
            _f("pid", "integer", "the supervisor's process id"),
            _f("sip", "string", "the node's SIP address"),
            _f("numbers", "array", "numbers it answers"),
            _f("broker", "string", "host:port of the broker"),
            _f("data_dir", "string", "the data directory"),
            _f("parts", "array", "[{name, state, pid, restarts, since, last_exit}]"),
            _f("updated", "number", "Unix time of this status"),
        ),
        {
            "node": "gz-1",
            "state": "ready",
            "pid": 4000,
            "sip": "0.0.0.0:5060",
            "numbers": ["12345"],
            "broker": "127.0.0.1:1883",
            "data_dir": "/var/lib/hotline",
            "parts": [
                {
                    "name": "hub",
                    "state": "running",
                    "pid": 4300,
                    "restarts": 0,
                    "since": 1774570000.0,
                    "last_exit": None,
                }
            ],
            "updated": 1774577702.0,
        },
    ),
)

# Commands an agent desk (or an integration) sends for an agent; the hub answers
# on .../commands/replies with command.reply.
AGENT_COMMAND_SPECS: tuple[EventSpec, ...] = tuple(
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

ALL_SPECS: tuple[EventSpec, ...] = EVENTS + AGENT_COMMAND_SPECS
_BY_TYPE = {spec.type: spec for spec in ALL_SPECS}
DURABLE_TYPES = frozenset(s.type for s in EVENTS if s.delivery is Delivery.DURABLE)
RETAINED_TYPES = frozenset(s.type for s in EVENTS if s.delivery is Delivery.RETAINED)


def spec(event_type: str) -> EventSpec:
    """The contract of ``event_type``; ``KeyError`` if the node never publishes it."""
    return _BY_TYPE[event_type]


def is_durable(event_type: str) -> bool:
    """Whether the hub must publish ``event_type`` through the outbox."""
    return event_type in DURABLE_TYPES


def is_retained(event_type: str) -> bool:
    return event_type in RETAINED_TYPES


def example_message(spec_: EventSpec) -> dict[str, Any]:
    """A whole payload (the envelope around the example data), as sent."""
    return {
        "type": spec_.type,
        "id": "7c9e6679742540de944be07fc1f90ae7",
        "ts": 1774577702.123456,
        "node": "gz-1",
        "schema": CONTRACT_VERSION,
        "data": spec_.example,
    }


def example_problems(spec_: EventSpec) -> list[str]:
    """Where an example disagrees with its declared fields (for the tests)."""
    declared = {f.name for f in spec_.fields}
    problems = [f"{spec_.type}: undeclared field {k!r}" for k in spec_.example if k not in declared]
    problems += [
        f"{spec_.type}: required field {f.name!r} missing from the example"
        for f in spec_.fields
        if f.required and f.name not in spec_.example
    ]
    return problems


# ---- the document ---------------------------------------------------------------------------

_DELIVERY_TEXT = {
    Delivery.DURABLE: "durable (outbox)",
    Delivery.RETAINED: "retained",
    Delivery.LIVE: "live",
}


def render_markdown() -> str:
    """``docs/events.md``."""
    out: list[str] = [
        "# Events for other systems",
        "",
        "<!-- Generated by `python -m events.contract > docs/events.md`; edit "
        "events/contract.py, not this file. -->",
        "",
        f"Contract version **{CONTRACT_VERSION}** (the `schema` field of every payload).",
        "",
        "The node publishes everything that happens on its MQTT broker under "
        f"`{topics.ROOT}/`. Subscribe to `{topics.ALL}` (or narrower patterns) with "
        "QoS 1.",
        "",
        "## Envelope",
        "",
        "Every payload is UTF-8 JSON:",
        "",
        "| field | type | meaning |",
        "|---|---|---|",
        "| `type` | string | the event type (below) |",
        "| `id` | string | unique id (UUID hex): **de-duplicate by it** |",
        "| `ts` | number | Unix time it was made, seconds |",
        "| `node` | string | the node that published it |",
        f"| `schema` | integer | contract version ({CONTRACT_VERSION}) |",
        "| `data` | object | the event's fields (below) |",
        "",
        "Within a version fields are only added, never removed or changed in meaning: "
        "ignore fields you do not know. A payload with a higher `schema` than you "
        "understand may have changed meaning.",
        "",
        "## Delivery",
        "",
        "- **durable (outbox)**: written to the hub's outbox table in the same database "
        "as the tickets, then published from there in order; a broker outage or a hub "
        "restart loses none. Delivery is *at least once*: the same `id` can arrive "
        "twice.",
        "- **retained**: a state document; the broker keeps the last one per topic, so "
        "a new subscriber gets the current state at once.",
        "- **live**: published as it happens with QoS 1; lost while the broker is unreachable.",
        "",
        "To receive every durable event across your own restarts and the broker's, "
        "connect with a fixed client id and a persistent session "
        "(`clean_session=false`, MQTT 3.1.1) and subscribe with QoS 1; the broker "
        "queues for you while you are away (Mosquitto keeps sessions across its own "
        "restarts with `persistence true`). Then drop messages whose `id` you have seen.",
        "",
        "## Connecting",
        "",
        "The node's settings name the broker: `mqtt.url` (`mqtt://host:1883` or "
        "`mqtts://host:8883`), `mqtt.username`, `mqtt.password`, `mqtt.tls`. With "
        "`mqtts://` the broker's certificate is verified against the system CAs or the "
        "configured CA file.",
        "",
        "## Summary",
        "",
        "| type | topic | from | delivery |",
        "|---|---|---|---|",
    ]
    for s in EVENTS:
        topic = "<br>".join(f"`{t}`" for t in s.topics)
        out.append(
            f"| [`{s.type}`](#{_anchor(s.type)}) | {topic} | {s.publisher} | "
            f"{_DELIVERY_TEXT[s.delivery]} |"
        )
    out += ["", "## Events", ""]
    for s in EVENTS:
        out += _section(s)
    out += [
        "## Agent commands (inbound)",
        "",
        "An agent desk or an integration may send these on "
        f"`{topics.agent_commands('{agent_id}')}`; the hub answers with `command.reply` "
        f"on `{topics.agent_command_replies('{agent_id}')}` (its `command_id` is the "
        "command's `id`).",
        "",
    ]
    for s in AGENT_COMMAND_SPECS:
        out += _section(s)
    out += [
        "## Not part of the contract",
        "",
        f"`{topics.worker_commands('{worker}')}` carries the hub's commands to its media "
        "workers (answer, play, listen, dial, bridge, transfer, hangup, …): internal, "
        "may change without a version bump. Do not publish there.",
        "",
    ]
    return "\n".join(out)


def _anchor(event_type: str) -> str:
    return event_type.replace(".", "").lower()


def _section(s: EventSpec) -> list[str]:
    lines = [
        f"### {s.type}",
        "",
        s.summary,
        "",
        "- topic: " + ", ".join(f"`{t}`" for t in s.topics),
        f"- from: {s.publisher}",
        f"- delivery: {_DELIVERY_TEXT[s.delivery]}",
        "",
    ]
    if s.fields:
        lines += ["| field | type | required | meaning |", "|---|---|---|---|"]
        for f in s.fields:
            meaning = f.description.replace("|", "\\|")
            kind = f.type.replace("|", " or ")
            lines.append(f"| `{f.name}` | {kind} | {'yes' if f.required else 'no'} | {meaning} |")
        lines.append("")
    else:
        lines += ["No fields.", ""]
    lines += [
        "```json",
        json.dumps(example_message(s), ensure_ascii=False, indent=2),
        "```",
        "",
    ]
    return lines


def main() -> None:
    import sys

    sys.stdout.write(render_markdown())


if __name__ == "__main__":
    main()
