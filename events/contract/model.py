"""What a contract entry is (:class:`EventSpec`, :class:`Field`, :class:`Delivery`)
and how a message is checked against one (:func:`check_message`)."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

from events import messages as m
from events import topics

CONTRACT_VERSION = m.SCHEMA

# Types published without a constant in events.messages (yet).
CALLBACK_GAVE_UP = m.CALLBACK_GAVE_UP
ASR_STATUS = m.ASR_STATUS
QUEUE_STATS = m.QUEUE_STATS

JSON_TYPES = frozenset({"string", "integer", "number", "boolean", "object", "array", "null"})


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


def field(name: str, kind: str, description: str, required: bool = True) -> Field:
    return Field(name, kind, description, required)


def call_topic(event: str) -> str:
    return topics.call_event("{call_id}", event)


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


# ---- checking messages ----------------------------------------------------------------------


class ContractError(ValueError):
    """A message that breaks the contract; says the topic, the type and the field(s)."""

    def __init__(self, topic: str, type_: str, problems: list[tuple[str | None, str]]) -> None:
        self.topic = topic
        self.type = type_
        self.problems = problems
        self.field = problems[0][0] if problems else None
        said = "; ".join(f"field {name!r} {text}" if name else text for name, text in problems)
        super().__init__(f"{type_!r} on {topic}: {said}")


def topic_filter(pattern: str) -> str:
    """The MQTT filter of a contract topic pattern: each ``{placeholder}`` becomes ``+``."""
    return re.sub(r"\{[a-z_]+\}", "+", pattern)


def on_topic(spec_: EventSpec, topic: str) -> bool:
    return any(topics.matches(topic_filter(p), topic) for p in spec_.topics)


def json_type(value: object) -> str:
    """The JSON type of a decoded value (``"integer"`` for whole numbers without a point)."""
    match value:
        case None:
            return "null"
        case bool():
            return "boolean"
        case int():
            return "integer"
        case float():
            return "number"
        case str():
            return "string"
        case list():
            return "array"
        case dict():
            return "object"
    return type(value).__name__


def data_problems(
    spec_: EventSpec, data: dict[str, Any], *, undeclared: bool = True
) -> list[tuple[str | None, str]]:
    """``(field, problem)`` for each way ``data`` breaks ``spec_``'s fields: a required
    field missing, a value of the wrong JSON type, a field the contract does not declare
    (unless ``undeclared`` is false)."""
    problems: list[tuple[str | None, str]] = []
    declared = {f.name for f in spec_.fields}
    for f in spec_.fields:
        if f.name not in data:
            if f.required:
                problems.append((f.name, "is required but missing"))
            continue
        kinds = set(f.type.split("|"))
        if "number" in kinds:
            kinds.add("integer")
        actual = json_type(data[f.name])
        if actual not in kinds:
            shown = repr(data[f.name])
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            problems.append((f.name, f"must be {f.type.replace('|', ' or ')}, is {actual} {shown}"))
    if undeclared:
        problems += [
            (name, "is not declared in the contract") for name in data if name not in declared
        ]
    return problems


def check_message(
    spec_: EventSpec, topic: str, message: m.Message, *, undeclared: bool = True
) -> None:
    """Raise :class:`ContractError` unless ``message`` (as decoded from the wire) is a
    valid ``spec_`` on ``topic``."""
    problems: list[tuple[str | None, str]] = []
    if message.type != spec_.type:
        problems.append((None, f"is not a {spec_.type!r} message"))
    if message.schema != CONTRACT_VERSION:
        problems.append((None, f"has schema {message.schema!r}, not {CONTRACT_VERSION}"))
    if not on_topic(spec_, topic):
        expected = ", ".join(spec_.topics)
        problems.append((None, f"is not published on this topic (the contract says {expected})"))
    problems += data_problems(spec_, message.data, undeclared=undeclared)
    if problems:
        raise ContractError(topic, message.type, problems)
