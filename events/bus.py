"""The bus interface both backends implement (``memory.py``, ``mqtt.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from events.messages import Message

Handler = Callable[[str, Message], Awaitable[None]]


class Bus(Protocol):
    async def publish(self, topic: str, message: Message, *, retain: bool = False) -> None: ...

    async def run(self, patterns: list[str], handler: Handler) -> None:
        """Deliver messages matching ``patterns`` to ``handler``, in order, until cancelled."""
        ...


class BusError(Exception):
    """The bus cannot be reached; a retry may help."""

    retryable = True
