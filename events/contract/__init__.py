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

The hub decides where to publish with :func:`is_durable`; :func:`validate`
checks a message against the contract (the test bus does, for every message).

The package, by concern: :mod:`.model` (what an entry is, checking a message),
the entries by publisher (:mod:`.worker`, :mod:`.asr`, :mod:`.hub`,
:mod:`.tickets`, :mod:`.seating`, :mod:`.agents`, :mod:`.supervisor`; shared
fields in :mod:`.common`) and :mod:`.render` (the Markdown document).
"""

from __future__ import annotations

from events import messages as m
from events import topics
from events.contract import agents, analytics, asr, hub, seating, supervisor, tickets, worker
from events.contract.common import (
    AGENT_ID,
    CALL,
    CALL_ID,
    CID,
    DIAL_ID,
    EXAMPLE_CALL,
    EXAMPLE_LINE,
    EXAMPLE_UNDERSTANDING,
    TICKET_NUMBER,
    UNDERSTANDING_FIELDS,
    WORKER,
)
from events.contract.model import (
    ASR_STATUS,
    CALLBACK_GAVE_UP,
    CONTRACT_VERSION,
    QUEUE_STATS,
    ContractError,
    Delivery,
    EventSpec,
    Field,
    check_message,
    example_message,
    example_problems,
    topic_filter,
)
from events.contract.render import render_markdown as _render_markdown
from events.messages import Message, decode, encode

__all__ = [
    "AGENT_COMMAND_SPECS",
    "AGENT_ID",
    "ALL_SPECS",
    "ASR_STATUS",
    "CALL",
    "CALLBACK_GAVE_UP",
    "CALL_ID",
    "CID",
    "CONTRACT_VERSION",
    "ContractError",
    "DIAL_ID",
    "DURABLE_TYPES",
    "Delivery",
    "EVENTS",
    "EXAMPLE_CALL",
    "EXAMPLE_LINE",
    "EXAMPLE_UNDERSTANDING",
    "EventSpec",
    "Field",
    "INTERNAL",
    "QUEUE_STATS",
    "RETAINED_TYPES",
    "TICKET_NUMBER",
    "UNDERSTANDING_FIELDS",
    "WORKER",
    "example_message",
    "example_problems",
    "is_durable",
    "is_retained",
    "main",
    "render_markdown",
    "spec",
    "validate",
]

# Every event the node publishes, in the document's order.
EVENTS: tuple[EventSpec, ...] = (
    *worker.CALL_EVENTS,
    *asr.CALL_EVENTS,
    *hub.FLOW_EVENTS,
    *tickets.EVENTS,
    *analytics.EVENTS,
    hub.TRANSCRIPT,
    *seating.CALL_EVENTS,
    *agents.EVENTS,
    agents.COMMAND_REPLY,
    seating.STATS,
    worker.STATUS,
    hub.STATUS,
    hub.LOAD,
    asr.STATUS,
    supervisor.STATUS,
)
# Commands an agent desk (or an integration) sends for an agent.
AGENT_COMMAND_SPECS: tuple[EventSpec, ...] = agents.COMMANDS

ALL_SPECS: tuple[EventSpec, ...] = EVENTS + AGENT_COMMAND_SPECS
_BY_TYPE = {spec.type: spec for spec in ALL_SPECS}
DURABLE_TYPES = frozenset(s.type for s in EVENTS if s.delivery is Delivery.DURABLE)
RETAINED_TYPES = frozenset(s.type for s in EVENTS if s.delivery is Delivery.RETAINED)

# Topics that are not part of the contract (internal, may change without a version
# bump) and the types allowed there: the hub's commands to its media workers.
INTERNAL: dict[str, frozenset[str]] = {
    topics.worker_commands("{worker}"): frozenset(m.COMMANDS),
}


def spec(event_type: str) -> EventSpec:
    """The contract of ``event_type``; ``KeyError`` if the node never publishes it."""
    return _BY_TYPE[event_type]


def is_durable(event_type: str) -> bool:
    """Whether the hub must publish ``event_type`` through the outbox."""
    return event_type in DURABLE_TYPES


def is_retained(event_type: str) -> bool:
    return event_type in RETAINED_TYPES


def validate(topic: str, message: Message, *, undeclared: bool = True) -> None:
    """Raise :class:`ContractError` unless ``message`` may be published on ``topic``:
    its type is in the contract for that topic, its required fields are there and every
    field has its declared JSON type (checked on the message as a subscriber decodes
    it); with ``undeclared``, no field is missing from the contract.  On an internal
    topic (:data:`INTERNAL`) only the type is checked."""
    try:
        wire = decode(encode(message))
    except (TypeError, ValueError) as exc:
        raise ContractError(topic, message.type, [(None, f"cannot be sent: {exc}")]) from None
    for pattern, types in INTERNAL.items():
        if topics.matches(topic_filter(pattern), topic):
            if wire.type not in types:
                said = f"is not a command this internal topic carries ({sorted(types)})"
                raise ContractError(topic, wire.type, [(None, said)])
            return
    found = _BY_TYPE.get(wire.type)
    if found is None:
        raise ContractError(topic, wire.type, [(None, "is not a type in the contract")])
    check_message(found, topic, wire, undeclared=undeclared)


def render_markdown() -> str:
    """``docs/events.md``."""
    return _render_markdown(EVENTS, AGENT_COMMAND_SPECS)


def main() -> None:
    import sys

    sys.stdout.write(render_markdown())
