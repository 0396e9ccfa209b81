"""The ASR service's WebSocket protocol, as pure functions.

A media worker opens one connection per call leg and sends:

1. a text frame ``{"call_id": …, "leg": "caller", "sample_rate": 8000}``;
2. binary frames of 20 ms 16-bit little-endian PCM at that rate;
3. a text frame ``{"eof": true}`` when the leg's audio ends.

The service answers with text frames, one JSON object each:
``{"type": "ready"}``, ``{"type": "speech_started", "at_s": …}``,
``{"type": "partial", "text": …}``, ``{"type": "final", "text": …, "start_s": …,
"end_s": …, "confidence": …, "latency_s": …, "segments": […]}``,
``{"type": "error", "message": …, "retryable": …}`` and, last, ``{"type": "closed"}``.
A saturated service answers ``{"type": "busy"}`` and closes: the worker keeps
recording and the hub offers a human instead of waiting.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from asr.stream import Final, Partial, SpeechStarted, StreamEvent, StreamFailed

_CALL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class StreamRequest:
    call_id: str
    leg: str
    sample_rate: int
    turn: int = 0  # the call flow's listening turn, echoed in published results


def parse_request(text: str) -> StreamRequest:
    """The opening message; ``ValueError`` says what is wrong with it."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the first message must be JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ValueError("the first message must be a JSON object")
    call_id, leg, rate = raw.get("call_id"), raw.get("leg", "caller"), raw.get("sample_rate")
    if not isinstance(call_id, str) or not _CALL_ID.match(call_id):
        raise ValueError("call_id must be a call id (letters, digits, . _ -)")
    if leg not in ("caller", "agent"):
        raise ValueError("leg must be 'caller' or 'agent'")
    if rate not in (8000, 16000):
        raise ValueError("sample_rate must be 8000 or 16000")
    turn = raw.get("turn", 0)
    if not isinstance(turn, int) or isinstance(turn, bool) or not 0 <= turn < 1_000_000:
        raise ValueError("turn must be a whole number from 0")
    return StreamRequest(call_id, leg, rate, turn)


def encode_event(event: StreamEvent) -> str:
    payload: dict[str, Any]
    match event:
        case SpeechStarted(at_s=at):
            payload = {"type": "speech_started", "at_s": at}
        case Partial(text=text):
            payload = {"type": "partial", "text": text}
        case Final():
            payload = {
                "type": "final",
                "text": event.text,
                "start_s": event.start_s,
                "end_s": event.end_s,
                "confidence": event.confidence,
                "reason": event.reason,
                "latency_s": event.latency_s,
                "segments": [
                    {
                        "start_s": s.start_s,
                        "end_s": s.end_s,
                        "text": s.text,
                        "confidence": s.confidence,
                    }
                    for s in event.segments
                ],
            }
        case StreamFailed(message=message, retryable=retryable):
            payload = {"type": "error", "message": message, "retryable": retryable}
        case _:
            raise ValueError(f"not a stream event: {event!r}")
    return json.dumps(payload, ensure_ascii=False)


def control(kind: str, **data: Any) -> str:
    return json.dumps({"type": kind, **data}, ensure_ascii=False)
