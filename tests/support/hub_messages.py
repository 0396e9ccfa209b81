"""Messages to and from the hub on an in-memory bus: the events a media worker
publishes, worker status, and what the hub published for a worker or a call."""

from __future__ import annotations

from typing import Any

from events import messages as m
from events import topics
from events.memory import MemoryBus
from events.messages import Message

NODE = "node1"


def event(call_id: str, kind: str, worker: str = "w1", **data: Any) -> tuple[str, Message]:
    """A call event as a media worker publishes it."""
    return (
        topics.call_event(call_id, kind),
        Message(kind, {"call_id": call_id, "worker": worker, **data}, node=NODE),
    )


def worker_status(
    worker: str, state: str = "up", calls: list[dict] | None = None
) -> tuple[str, Message]:
    return (
        topics.worker_status(worker),
        Message(
            m.WORKER_STATUS,
            {"worker": worker, "state": state, "capacity": 4, "calls": calls or []},
            node=NODE,
        ),
    )


def commands_to(bus: MemoryBus, worker: str) -> list[tuple[str, dict[str, Any]]]:
    """``(type, data)`` of every command the hub published for ``worker``."""
    topic = topics.worker_commands(worker)
    return [(msg.type, msg.data) for t, msg in bus.published if t == topic]


def call_events(bus: MemoryBus, call_id: str, kind: str) -> list[Message]:
    topic = topics.call_event(call_id, kind)
    return [msg for t, msg in bus.published if t == topic]
