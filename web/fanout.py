"""Bus messages to the consoles' WebSockets: every subscriber gets its own bounded
queue; a slow browser loses its oldest messages, never slows the hub."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

QUEUE_SIZE = 500


@dataclass(frozen=True)
class Update:
    """One message for the consoles: its bus topic, type and data."""

    topic: str
    type: str
    data: dict[str, Any]
    ts: float


@dataclass(eq=False)
class _Subscriber:
    accepts: Callable[[Update], bool]
    queue: asyncio.Queue[Update] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    dropped: int = 0


class Fanout:
    def __init__(self) -> None:
        self._subscribers: set[_Subscriber] = set()

    def __len__(self) -> int:
        return len(self._subscribers)

    def publish(self, update: Update) -> None:
        """Hand ``update`` to every subscriber that wants it (never blocks)."""
        for subscriber in list(self._subscribers):
            if not subscriber.accepts(update):
                continue
            if subscriber.queue.full():
                subscriber.queue.get_nowait()
                subscriber.dropped += 1
            subscriber.queue.put_nowait(update)

    @asynccontextmanager
    async def subscribe(
        self, accepts: Callable[[Update], bool] = lambda _: True
    ) -> AsyncIterator[asyncio.Queue[Update]]:
        subscriber = _Subscriber(accepts)
        self._subscribers.add(subscriber)
        try:
            yield subscriber.queue
        finally:
            self._subscribers.discard(subscriber)
