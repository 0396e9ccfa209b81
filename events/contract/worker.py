"""The media worker's events: a call's media, prompts, speech, keys, the agent's
leg, recordings (topic ``calls/{call_id}/{type}``), and its retained status."""

from __future__ import annotations

from typing import Any

from events import messages as m
from events import topics
from events.contract.common import AGENT_ID, CALL, CID, DIAL_ID, EXAMPLE_CALL
from events.contract.model import Delivery, EventSpec, Field, call_topic
from events.contract.model import field as _f


def _worker_event(
    type_: str, summary: str, fields: tuple[Field, ...], example: dict[str, Any]
) -> EventSpec:
    return EventSpec(
        type_,
        (call_topic(type_),),
        "worker",
        Delivery.LIVE,
        summary,
        (*CALL, *fields),
        {**EXAMPLE_CALL, **example},
    )


CALL_EVENTS: tuple[EventSpec, ...] = (
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
        "A leg's audio (the caller's, or the agent's once bridged) now streams to the ASR service.",
        (
            _f("sample_rate", "integer", "Hz of the streamed audio"),
            _f("turn", "integer", "the caller's turn (0 for the agent's leg)"),
            _f("leg", "string", "caller or agent"),
            _f(
                "offset_s",
                "number",
                "seconds from the start of the call's recording to the start of this "
                "stream: add it to the stream's start_s/end_s to place them in the recording",
            ),
        ),
        {"sample_rate": 8000, "turn": 1, "leg": "caller", "offset_s": 6.42},
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
)

STATUS = EventSpec(
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
        _f(
            "asr_frames_dropped",
            "integer",
            "audio frames the ASR service could not take in time, since it started",
            required=False,
        ),
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
)
