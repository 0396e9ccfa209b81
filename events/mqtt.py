"""The MQTT backend (aiomqtt, QoS 1), with reconnects and a send buffer.

While the broker is unreachable, published messages wait in a bounded buffer
and go out in order after the reconnect; the connection is retried with
exponential backoff.  The last will marks the publisher down.

:meth:`MqttBus.publish` never says whether the broker took a message (it may
buffer it in memory); :meth:`MqttBus.publish_confirmed` returns only after the
broker's PUBACK and raises :class:`~events.bus.BusError` otherwise — the outbox
uses it.  An external broker with TLS (``mqtts://``, or ``tls`` with a CA file)
and a username and password is configuration only (:class:`BrokerAddress`); a
broker that refuses the credentials is reported as :class:`BrokerRefused`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import ssl
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiomqtt

from events.bus import BusError, Handler
from events.messages import Message, decode, encode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str = ""
    password: str = ""
    tls: bool = False
    ca_file: str = ""  # PEM file of the CA that signed the broker's certificate; "": system CAs

    @classmethod
    def parse(
        cls,
        url: str,
        username: str = "",
        password: str = "",
        *,
        tls: bool = False,
        ca_file: str = "",
    ) -> BrokerAddress:
        """``mqtt://host:port`` or ``mqtts://host:port`` → address; ``tls`` (the
        ``mqtt.tls`` setting) turns TLS on for an ``mqtt://`` URL too."""
        scheme, _, rest = url.partition("://")
        if scheme not in ("mqtt", "mqtts") or not rest:
            raise ValueError(f"not an MQTT URL: {url!r}")
        host, _, port = rest.rstrip("/").partition(":")
        tls = tls or scheme == "mqtts" or bool(ca_file)
        return cls(
            host,
            int(port) if port else (8883 if tls else 1883),
            username,
            password,
            tls,
            ca_file,
        )

    def tls_context(self) -> ssl.SSLContext | None:
        """The client's TLS context (server certificate and host name verified)."""
        if not self.tls:
            return None
        try:
            return ssl.create_default_context(cafile=self.ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"cannot use the broker CA file {self.ca_file!r}: {exc}") from None


class BrokerRefused(BusError):
    """The broker refused the connection (bad username or password, not
    authorised): retrying will not help until the settings are fixed."""

    retryable = False


# CONNACK codes that mean "your credentials": MQTT 3.1.1 (4, 5) and 5 (134, 135).
_REFUSED_CODES = {4, 5, 134, 135}


def _refusal(exc: aiomqtt.MqttError, address: BrokerAddress) -> BrokerRefused | None:
    rc = getattr(exc, "rc", None)
    code = getattr(rc, "value", rc)
    if isinstance(exc, aiomqtt.MqttCodeError) and code in _REFUSED_CODES:
        who = f"user {address.username!r}" if address.username else "an anonymous client"
        return BrokerRefused(
            f"the broker {address.host}:{address.port} refused {who} ({exc}); "
            "check mqtt.username and mqtt.password"
        )
    return None


async def check_broker(address: BrokerAddress, timeout: float = 5.0) -> None:
    """Connect once and disconnect: ``BrokerRefused`` for bad credentials,
    ``BusError`` when the broker cannot be reached or the TLS handshake fails."""
    try:
        async with aiomqtt.Client(
            address.host,
            address.port,
            username=address.username or None,
            password=address.password or None,
            tls_context=address.tls_context(),
            timeout=timeout,
        ):
            return
    except aiomqtt.MqttError as exc:
        refused = _refusal(exc, address)
        if refused is not None:
            raise refused from None
        raise BusError(
            f"cannot connect to the broker {address.host}:{address.port}: {exc}"
        ) from None


class MqttBus:
    def __init__(
        self,
        address: BrokerAddress,
        client_id: str,
        *,
        will: tuple[str, Message] | None = None,
        on_connect: Callable[[], Awaitable[None]] | None = None,
        buffer_limit: int = 10000,
        urgent: Callable[[str], bool] | None = None,
    ) -> None:
        """``urgent``: topics whose messages are handled before any already waiting
        (the hub's new-call offers, which a worker waits for with a deadline)."""
        self._urgent = urgent
        self._address = address
        self._client_id = client_id
        self._will = will
        self._on_connect = on_connect
        self._client: aiomqtt.Client | None = None
        self._pending: deque[tuple[str, bytes, bool]] = deque(maxlen=buffer_limit)
        self.connected = asyncio.Event()
        self._lost = asyncio.Event()  # set when the current session ends
        self.last_error = ""  # why the last connection failed ("" while connected)

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

    async def publish_confirmed(
        self, topic: str, message: Message, *, retain: bool = False, timeout: float = 10.0
    ) -> None:
        """Publish with QoS 1 and return once the broker acknowledged it (PUBACK).

        Never buffered: ``BusError`` when not connected, when the connection is
        lost before the acknowledgement, or after ``timeout`` seconds — the
        broker may still have it, so a retry can duplicate (at-least-once)."""
        client, lost = self._client, self._lost
        if client is None or not self.connected.is_set():
            raise BusError(
                f"not connected to the broker {self._address.host}:{self._address.port}"
                + (f" ({self.last_error})" if self.last_error else "")
            )
        sent = asyncio.ensure_future(
            client.publish(topic, encode(message), qos=1, retain=retain, timeout=timeout)
        )
        watch = asyncio.ensure_future(lost.wait())
        try:
            await asyncio.wait({sent, watch}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watch.cancel()
            if not sent.done():
                sent.cancel()
        if not sent.done() or sent.cancelled():
            raise BusError(f"the connection was lost before the broker acknowledged {topic}")
        try:
            sent.result()
        except aiomqtt.MqttError as exc:
            raise BusError(f"the broker did not acknowledge {topic}: {exc}") from exc

    async def run(self, patterns: list[str], handler: Handler) -> None:
        delay = 0.2
        while True:
            try:
                await self._session(patterns, handler)
                delay = 0.2
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                self._client = None
                refused = _refusal(exc, self._address)
                if refused is not None:
                    # Retried (the broker's password file may be fixed) but said loudly.
                    self.last_error = str(refused)
                    log.error("%s; retrying in %.1fs", refused, delay)
                else:
                    self.last_error = f"unreachable: {exc}"
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
        tls_context = self._address.tls_context()
        self._lost = asyncio.Event()
        try:
            await self._connected_session(patterns, handler, will, tls_context)
        finally:
            self.connected.clear()
            self._client = None
            self._lost.set()

    async def _connected_session(
        self,
        patterns: list[str],
        handler: Handler,
        will: aiomqtt.Will | None,
        tls_context: ssl.SSLContext | None,
    ) -> None:
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
            queue_type=urgent_first(self._urgent) if self._urgent is not None else None,
        ) as client:
            self._client = client
            self.last_error = ""
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


def urgent_first(urgent: Callable[[str], bool]) -> type[asyncio.Queue[aiomqtt.Message]]:
    """An incoming-message queue that hands out messages on ``urgent`` topics before
    the others, each kind in arrival order."""
    order = itertools.count()

    class UrgentFirst(asyncio.Queue[aiomqtt.Message]):
        # asyncio.Queue keeps its items in ``_queue``: here a heap of (rank, order, item).
        def _init(self, maxsize: int) -> None:
            self._queue: list[tuple[int, int, aiomqtt.Message]] = []  # type: ignore[assignment]

        def _put(self, item: aiomqtt.Message) -> None:
            rank = 0 if urgent(item.topic.value) else 1
            heapq.heappush(self._queue, (rank, next(order), item))  # type: ignore[arg-type]

        def _get(self) -> aiomqtt.Message:
            return heapq.heappop(self._queue)[2]  # type: ignore[arg-type]

    return UrgentFirst
