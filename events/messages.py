"""Commands and events on the bus, versioned, as plain data.

Every payload is a JSON object ``{"type", "id", "ts", "node", "schema", "data"}``.
``id`` is a UUID that consumers use to drop duplicates (QoS 1 is at-least-once).
:func:`encode` and :func:`decode` are the only way bytes become messages.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

SCHEMA = 1

# Events a media worker reports for a call (topic: hotline/v1/calls/{call_id}/{type}).
CALL_OFFERED = "call.offered"
CALL_ANSWERED = "call.answered"
CALL_MEDIA = "call.media"
CALL_ENDED = "call.ended"
PROMPT_STARTED = "prompt.started"
PROMPT_FINISHED = "prompt.finished"
PROMPT_FAILED = "prompt.failed"
SPEECH_STARTED = "speech.started"
SPEECH_ENDED = "speech.ended"
LISTEN_TIMEOUT = "listen.timeout"
DTMF = "dtmf"
RECORDING_SAVED = "recording.saved"
ASR_STREAMING = "asr.streaming"  # the caller's audio now goes to the ASR service
ASR_UNAVAILABLE = "asr.unavailable"  # busy, down or lost: the flow goes on without it
ASR_PARTIAL = "asr.partial"  # published by the ASR service
ASR_FINAL = "asr.final"
ASR_FAILED = "asr.failed"
ASR_DONE = "asr.done"  # the leg's stream is finished: no more results will come
# Events the hub reports about a call's flow.
FLOW_STEP = "flow.step"
AGENT_REQUESTED = "agent.requested"
TRANSFER_STATUS = "call.transfer"  # the network's answer to a transfer: code, final
CALL_UNDERSTOOD = "call.understood"  # the hub: request type, domain, emergency, slots
TICKET_DRAFTED = "ticket.drafted"  # the hub: a draft work order for the call
TICKET_CHANGED = "ticket.changed"  # the ticket store: one audit entry (any channel)
HOTSPOT_EMERGING = "hotspot.emerging"  # the hub: a 热点 flaring up (analytics bursts)
CALL_TRANSCRIPT = "call.transcript"  # the hub: what the caller said, once the call ended
# Seat allocation (the hub) and the agent's leg (the worker).
CALL_QUEUED = "call.queued"  # the hub: waiting for an agent of a seat group
CALL_OFFERED_TO_AGENT = "call.agent_offered"  # the hub: an agent's phone rings with it
CALL_CONNECTED = "call.connected"  # the hub: the caller talks with an agent (waited_s)
CALLBACK_CONNECTED = "callback.connected"  # the hub: a callback reached the citizen
CALL_ABANDONED = "call.abandoned"  # the hub: the caller hung up while waiting
CALL_ANNOUNCED = "call.announced"  # the hub: position and wait told to a waiting caller
CALLBACK_GAVE_UP = "callback.gave_up"  # the hub: the citizen was not reached, every try
QUEUE_STATS = "queue.stats"  # the hub, retained per seat group: waiting, service level, …
ASR_STATUS = "asr.status"  # the ASR service, retained: up/down, streams
CALL_OVERFLOWED = "call.overflowed"  # the hub: offered wider (lower skill, backup group)
CALLBACK_REQUESTED = "callback.requested"  # the hub: "按1预约回电", place kept
AGENT_ANSWERED = "agent.answered"  # the worker: the agent picked up; legs bridged
AGENT_FAILED = "agent.failed"  # the worker: the agent's leg did not connect
AGENT_HUNGUP = "agent.hungup"  # the worker: the agent's leg ended after answering
CALLBACK_ANSWERED = "callback.answered"  # the worker: the citizen picked up the callback
CALLBACK_FAILED = "callback.failed"  # the worker: the citizen did not pick up
# Agent state and offers (topic: hotline/v1/agents/{agent_id}/…).
AGENT_STATE = "agent.state"  # retained: status, reason, since, call
AGENT_OFFER = "agent.offer"  # the call, its transcript and draft ticket, at the offer
AGENT_LOGIN = "agent.login"  # commands the desk sends for an agent
AGENT_LOGOUT = "agent.logout"
AGENT_READY = "agent.ready"
AGENT_NOT_READY = "agent.not_ready"  # with a reason code
AGENT_WRAP_UP_DONE = "agent.wrap_up_done"
AGENT_COMMANDS = {AGENT_LOGIN, AGENT_LOGOUT, AGENT_READY, AGENT_NOT_READY, AGENT_WRAP_UP_DONE}

# Commands the hub sends to a worker (topic: hotline/v1/workers/{worker}/commands).
ANSWER = "answer"
REJECT = "reject"
PLAY = "play"
STOP_PLAYBACK = "stop_playback"
LISTEN = "listen"
STOP_LISTENING = "stop_listening"
HANGUP = "hangup"
TRANSFER = "transfer"  # hand the caller to a number (SIP REFER), e.g. 119
DIAL = "dial"  # ring an agent for the call; bridge them when they answer
CALLBACK = "callback"  # ring the reserved agent, then the citizen; bridge them
SURVEY_DIAL = "survey_dial"  # ring a citizen for a 回访 survey; the hub then drives the call
DRAIN = "drain"
COMMANDS = {
    ANSWER,
    REJECT,
    PLAY,
    STOP_PLAYBACK,
    LISTEN,
    STOP_LISTENING,
    HANGUP,
    TRANSFER,
    DIAL,
    CALLBACK,
    SURVEY_DIAL,
    DRAIN,
}

# Status documents (retained).
WORKER_STATUS = "worker.status"
HUB_STATUS = "hub.status"
NODE_STATUS = "node.status"
HUB_LOAD = "hub.load"  # the hub, every second: how fast it answers new calls (admission)
COMMAND_REPLY = "command.reply"


@dataclass(frozen=True)
class Message:
    """One command, event or status on the bus."""

    type: str
    data: dict[str, Any] = field(default_factory=dict)
    node: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    ts: float = field(default_factory=time.time)
    schema: int = SCHEMA

    @property
    def call_id(self) -> str:
        return str(self.data.get("call_id", ""))


def encode(message: Message) -> bytes:
    return json.dumps(
        {
            "type": message.type,
            "id": message.id,
            "ts": round(message.ts, 6),
            "node": message.node,
            "schema": message.schema,
            "data": message.data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")


def decode(payload: bytes) -> Message:
    """Parse a payload; ``ValueError`` says what is wrong with it."""
    try:
        raw = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"payload is not UTF-8 JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ValueError("payload must be a JSON object")
    for key, kind in (("type", str), ("id", str), ("ts", (int, float)), ("data", dict)):
        if not isinstance(raw.get(key), kind):
            raise ValueError(f"payload field {key!r} is missing or of the wrong type")
    schema = raw.get("schema", SCHEMA)
    if not isinstance(schema, int) or schema > SCHEMA:
        raise ValueError(f"payload schema {schema!r} is newer than this node understands")
    return Message(
        type=raw["type"],
        data=raw["data"],
        node=str(raw.get("node", "")),
        id=raw["id"],
        ts=float(raw["ts"]),
        schema=schema,
    )
