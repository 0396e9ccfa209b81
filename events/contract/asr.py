"""The ASR service's events: what it recognised on a call's leg (topic
``calls/{call_id}/{type}``), and its retained status."""

from __future__ import annotations

from typing import Any

from events import messages as m
from events import topics
from events.contract.common import CALL_ID, CID, EXAMPLE_LINE
from events.contract.model import ASR_STATUS, Delivery, EventSpec, Field, call_topic
from events.contract.model import field as _f


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
        (call_topic(type_),),
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


CALL_EVENTS: tuple[EventSpec, ...] = (
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
)

STATUS = EventSpec(
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
        _f("refused", "integer", "streams refused as busy (every stream taken)", required=False),
        _f(
            "overloaded",
            "integer",
            "streams refused because the decode backlog would make their finals late",
            required=False,
        ),
        _f(
            "shed",
            "integer",
            "turns dropped while the caller spoke, for the same reason",
            required=False,
        ),
        _f("backlog_s", "number", "seconds of speech still owed a transcript", required=False),
        _f("rtf", "number", "measured decode seconds per second of speech", required=False),
        _f("decoders", "integer", "parallel decodes", required=False),
        _f("cpu_threads", "integer", "threads per decode", required=False),
        _f("cores", "integer", "CPUs the service sized itself for", required=False),
        _f(
            "sized",
            "string",
            'the figures chosen for this machine (e.g. "max_streams,decoders"), or "settings"',
            required=False,
        ),
        _f("nice", "integer", "the process's scheduling niceness", required=False),
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
        "overloaded": 0,
        "shed": 0,
        "backlog_s": 1.2,
        "rtf": 0.16,
        "decoders": 1,
        "cpu_threads": 2,
        "cores": 2,
        "sized": "max_streams,decoders,cpu_threads",
        "nice": 10,
    },
)
