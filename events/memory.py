"""An in-process bus for tests of call flows (no broker, same semantics).

Every message published is checked against the contract (:func:`events.contract.validate`):
a test that drives the hub or the seating through this bus also proves that what they
publish is what ``docs/events.md`` promises.  ``MemoryBus(validate=False)`` is for tests
that publish foreign or malformed messages on purpose."""

from __future__ import annotations

import asyncio

from events.bus import Handler
from events.contract import validate as check_contract
from events.messages import Message
from events.topics import matches


class MemoryBus:
    def __init__(self, *, validate: bool = True) -> None:
        self._subscribers: list[tuple[list[str], asyncio.Queue[tuple[str, Message]]]] = []
        self._retained: dict[str, Message] = {}
        self.published: list[tuple[str, Message]] = []
        self.validate = validate

    async def publish(self, topic: str, message: Message, *, retain: bool = False) -> None:
        if self.validate:
            check_contract(topic, message)  # ContractError: the topic, the type, the field
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
