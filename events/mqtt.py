"""The MQTT backend (aiomqtt, QoS 1), with reconnects and a send buffer.

While the broker is unreachable, published messages wait in a bounded buffer
and go out in order after the reconnect; the connection is retried with
exponential backoff.  The last will marks the publisher down.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiomqtt

from events.bus import Handler
from events.messages import Message, decode, encode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str = ""
    password: str = ""
    tls: bool = False

    @classmethod
    def parse(cls, url: str, username: str = "", password: str = "") -> BrokerAddress:
        """``mqtt://host:port`` or ``mqtts://host:port`` → address."""
        scheme, _, rest = url.partition("://")
        if scheme not in ("mqtt", "mqtts") or not rest:
            raise ValueError(f"not an MQTT URL: {url!r}")
        host, _, port = rest.rstrip("/").partition(":")
        tls = scheme == "mqtts"
        return cls(host, int(port) if port else (8883 if tls else 1883), username, password, tls)


class MqttBus:
    def __init__(
        self,
        address: BrokerAddress,
        client_id: str,
        *,
        will: tuple[str, Message] | None = None,
        on_connect: Callable[[], Awaitable[None]] | None = None,
        buffer_limit: int = 10000,
    ) -> None:
        self._address = address
        self._client_id = client_id
        self._will = will
        self._on_connect = on_connect
        self._client: aiomqtt.Client | None = None
        self._pending: deque[tuple[str, bytes, bool]] = deque(maxlen=buffer_limit)
        self.connected = asyncio.Event()

    async def publish(self, topic: str, message: Message, *, retain: bool = False) -> None:
        payload = encode(message)
        client = self._client
        if client is not None and self.connected.is_set():
            try:
                await client.publish(topic, payload, qos=1, retain=retain)
                return
            except aiomqtt.MqttError as exc:
                log.warning("publish to %s failed, buffered: %s", topic, exc)
        self._pending.append((topic, payload, retain))

    async def run(self, patterns: list[str], handler: Handler) -> None:
        delay = 0.2
        while True:
            try:
                await self._session(patterns, handler)
                delay = 0.2
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                self._client = None
                log.warning(
                    "broker %s:%s unreachable (%s); retrying in %.1fs",
                    self._address.host,
                    self._address.port,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _session(self, patterns: list[str], handler: Handler) -> None:
        will = None
        if self._will is not None:
            topic, message = self._will
            will = aiomqtt.Will(topic, encode(message), qos=1, retain=True)
        tls_context = ssl.create_default_context() if self._address.tls else None
        async with aiomqtt.Client(
            self._address.host,
            self._address.port,
            identifier=self._client_id,
            username=self._address.username or None,
            password=self._address.password or None,
            tls_context=tls_context,
            will=will,
            keepalive=10,
            clean_session=True,
        ) as client:
            self._client = client
            for pattern in patterns:
                await client.subscribe(pattern, qos=1)
            self.connected.set()
            if self._on_connect is not None:
                await self._on_connect()
            while self._pending:
                topic, payload, retain = self._pending[0]
                await client.publish(topic, payload, qos=1, retain=retain)
                self._pending.popleft()
            async for mqtt_message in client.messages:
                payload = mqtt_message.payload
                if not isinstance(payload, (bytes, bytearray)):
                    continue
                try:
                    message = decode(bytes(payload))
                except ValueError as exc:
                    log.warning("dropped a malformed message on %s: %s", mqtt_message.topic, exc)
                    continue
                try:
                    await handler(mqtt_message.topic.value, message)
                except Exception:  # one bad message must not stop the subscriber
                    log.exception(
                        "handling %s on %s failed", message.type, mqtt_message.topic.value
                    )
