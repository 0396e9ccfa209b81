"""Fields and examples that several publishers' messages share."""

from __future__ import annotations

from typing import Any

from events.contract.model import Delivery, EventSpec, Field, call_topic
from events.contract.model import field as _f

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
    _f("categories", "object|null", "{level1, level2, level3, code, score} in the city's tree"),
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
    "categories": {
        "level1": "环境保护",
        "level2": "环境污染",
        "level3": "噪声污染",
        "code": "环境保护/环境污染/噪声污染",
        "score": 2.0,
    },
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


def hub_call_event(
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
        (call_topic(type_),),
        "hub",
        delivery,
        summary,
        (*common, *fields),
        {**base, **example},
    )
