"""An in-process bus for tests of call flows (no broker, same semantics)."""

from __future__ import annotations

import asyncio

from events.bus import Handler
from events.messages import Message
from events.topics import matches


class MemoryBus:
    def __init__(self) -> None:
        self._subscribers: list[tuple[list[str], asyncio.Queue[tuple[str, Message]]]] = []
        self._retained: dict[str, Message] = {}
        self.published: list[tuple[str, Message]] = []

    async def publish(self, topic: str, message: Message, *, retain: bool = False) -> None:
        self.published.append((topic, message))
        if retain:
            self._retained[topic] = message
        for patterns, queue in self._subscribers:
            if any(matches(p, topic) for p in patterns):
                queue.put_nowait((topic, message))

    async def run(self, patterns: list[str], handler: Handler) -> None:
        queue: asyncio.Queue[tuple[str, Message]] = asyncio.Queue()
        for topic, message in self._retained.items():
            if any(matches(p, topic) for p in patterns):
                queue.put_nowait((topic, message))
        entry = (patterns, queue)
        self._subscribers.append(entry)
        try:
            while True:
                topic, message = await queue.get()
                await handler(topic, message)
        finally:
            self._subscribers.remove(entry)
