"""Durable events: written to an outbox table first, published from there.

Events that must not be lost (ticket changes, call outcomes) are inserted into
``events_outbox`` in the same database as the tickets, then an
:class:`OutboxPublisher` publishes the pending rows in order (QoS 1) and marks
them published only once the broker acknowledged them.  Delivery is
at-least-once: a hub that dies between the broker's acknowledgement and the
mark sends the row again after its restart, so consumers drop duplicates by the
message ``id`` (the row's primary key is that id).

A ticket change and its event commit together when the event is added in the
change's own transaction::

    with engine.begin() as connection:          # or: with session.begin(): ...
        connection.execute(update(tickets)...)
        outbox.add(topic, message, connection=connection)   # a Session works too

The schema is made only by the Alembic migrations in ``events/migrations``
(their own version table, ``events_alembic_version``), run when an
:class:`Outbox` opens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from events.bus import BusError
from events.messages import Message, decode, encode
from storage import sql
from storage.sqltypes import UtcDateTime

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "events_alembic_version"


class OutboxError(Exception):
    """The outbox database cannot be used (bad URL, unreachable); a retry may help."""

    retryable = True


metadata = MetaData()

outbox_table = Table(
    "events_outbox",
    metadata,
    # The order events are published in (ids are random UUIDs).
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False),  # the message id (consumers de-duplicate by it)
    Column("topic", String(512), nullable=False),
    Column("payload", Text, nullable=False),  # the encoded message (UTF-8 JSON)
    Column("retain", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("published_at", UtcDateTime(), nullable=True),  # null until the broker took it
    Column("attempts", Integer, nullable=False),
    # The node that stored the event ("" before revision 0002: any hub publishes it).
    Column("node", String(64), nullable=False, server_default=""),
    UniqueConstraint("id", name="uq_events_outbox_id"),
    Index("ix_events_outbox_pending", "published_at", "seq"),
    Index("ix_events_outbox_node_pending", "node", "published_at", "seq"),
)


@dataclass(frozen=True)
class OutboxRow:
    """One stored event."""

    seq: int
    id: str
    topic: str
    payload: bytes
    retain: bool
    created_at: datetime
    published_at: datetime | None
    attempts: int

    @property
    def message(self) -> Message:
        return decode(self.payload)


class Executes(Protocol):
    """A SQLAlchemy ``Connection`` or ``Session`` in the caller's transaction."""

    def execute(self, statement: Any, /) -> Any: ...


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (see :func:`storage.sql.make_engine`); ``OutboxError`` if unusable."""
    return sql.make_engine(url, OutboxError)


def upgrade_database(target: str | Engine, revision: str = "head") -> None:
    """Bring the outbox schema up to the newest migration (creates it when empty)."""
    sql.upgrade_database(target, MIGRATIONS, revision, OutboxError, "outbox database")


def _now() -> datetime:
    return datetime.now(UTC)


class Outbox:
    """The outbox table in one database (``settings.tickets_database_url``).

    ``target`` is a URL (the outbox makes and owns its engine) or an existing
    engine, e.g. the ticket store's, so that both share one pool.  ``node`` is the
    node's name: several nodes may share one database, and each reads back only
    the rows its own node stored (and rows from before nodes were recorded), so
    each hub publishes its own node's events to its own broker; without a node
    every row is read.  Thread-safe: every method is one short transaction; call
    them from a thread (``asyncio.to_thread``) when inside an event loop."""

    def __init__(
        self,
        target: str | Engine,
        *,
        node: str = "",
        migrate: bool = True,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._owns_engine = isinstance(target, str)
        self.engine = make_engine(target) if isinstance(target, str) else target
        self.node = node
        self.clock = clock
        if migrate:
            upgrade_database(self.engine)

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ---- writing -------------------------------------------------------------------
    def add(
        self,
        topic: str,
        message: Message,
        retain: bool = False,
        *,
        connection: Executes | None = None,
    ) -> None:
        """Store ``message`` for publishing on ``topic``.

        With ``connection`` (a ``Connection`` or ``Session`` whose transaction the
        caller commits) the event commits or rolls back with the caller's change;
        without it the row is committed at once.  Adding the same message id twice
        is an error (``IntegrityError``): every event is a new ``Message``."""
        statement = insert(outbox_table).values(
            id=message.id,
            topic=topic,
            payload=encode(message).decode("utf-8"),
            retain=retain,
            created_at=self.clock(),
            published_at=None,
            attempts=0,
            node=self.node,
        )
        if connection is not None:
            connection.execute(statement)
            return
        with self.engine.begin() as own:
            own.execute(statement)

    # ---- reading and marking -------------------------------------------------------
    def pending(self, limit: int = 100) -> list[OutboxRow]:
        """The oldest ``limit`` rows not yet published, in the order they were added."""
        statement = (
            select(outbox_table)
            .where(outbox_table.c.published_at.is_(None), *self._own())
            .order_by(outbox_table.c.seq)
            .limit(limit)
        )
        return self._rows(statement)

    def _own(self) -> list[Any]:
        """The condition for this node's rows (none without a node)."""
        if not self.node:
            return []
        return [outbox_table.c.node.in_([self.node, ""])]

    def since(self, since: datetime, event_types: Iterable[str] = ()) -> list[OutboxRow]:
        """Rows added at or after ``since`` (published or not), oldest first; only
        events whose topic ends in one of ``event_types`` when given (the calls'
        topics end in their type).  Published rows are kept ``keep_published``."""
        statement = select(outbox_table).where(outbox_table.c.created_at >= since, *self._own())
        wanted = list(event_types)
        if wanted:
            statement = statement.where(
                or_(*(outbox_table.c.topic.endswith("/" + k, autoescape=True) for k in wanted))
            )
        return self._rows(statement.order_by(outbox_table.c.seq))

    def _rows(self, statement: Any) -> list[OutboxRow]:
        with self.engine.connect() as connection:
            rows = connection.execute(statement).all()
        return [
            OutboxRow(
                seq=row.seq,
                id=row.id,
                topic=row.topic,
                payload=row.payload.encode("utf-8"),
                retain=bool(row.retain),
                created_at=row.created_at,
                published_at=row.published_at,
                attempts=row.attempts,
            )
            for row in rows
        ]

    def pending_count(self) -> int:
        statement = select(func.count()).where(outbox_table.c.published_at.is_(None), *self._own())
        with self.engine.connect() as connection:
            return int(connection.execute(statement).scalar_one())

    def mark_published(self, ids: Iterable[str]) -> int:
        """The broker took these messages; returns how many rows changed."""
        wanted = list(ids)
        if not wanted:
            return 0
        statement = (
            update(outbox_table)
            .where(outbox_table.c.id.in_(wanted), outbox_table.c.published_at.is_(None))
            .values(published_at=self.clock(), attempts=outbox_table.c.attempts + 1)
        )
        with self.engine.begin() as connection:
            return connection.execute(statement).rowcount

    def note_attempt(self, ids: Iterable[str]) -> None:
        """A publish of these rows failed (counted in ``attempts``)."""
        wanted = list(ids)
        if not wanted:
            return
        statement = (
            update(outbox_table)
            .where(outbox_table.c.id.in_(wanted))
            .values(attempts=outbox_table.c.attempts + 1)
        )
        with self.engine.begin() as connection:
            connection.execute(statement)

    def purge(self, older_than: timedelta | datetime) -> int:
        """Delete published rows published before ``older_than`` (an age or a time);
        pending rows are never deleted.  Returns how many went."""
        cutoff = self.clock() - older_than if isinstance(older_than, timedelta) else older_than
        statement = delete(outbox_table).where(
            outbox_table.c.published_at.is_not(None), outbox_table.c.published_at < cutoff
        )
        with self.engine.begin() as connection:
            return connection.execute(statement).rowcount


# ---- publishing -----------------------------------------------------------------------


class ConfirmingBus(Protocol):
    """A bus that returns from a publish only once the broker acknowledged it
    (:meth:`events.mqtt.MqttBus.publish_confirmed`), raising ``BusError`` otherwise."""

    async def publish_confirmed(
        self, topic: str, message: Message, *, retain: bool = False, timeout: float = 10.0
    ) -> None: ...


SendConfirmed = Callable[[str, Message, bool], Awaitable[None]]


def confirmed_sender(bus: object, timeout: float = 10.0) -> SendConfirmed:
    """How to publish on ``bus`` and know the broker has it: ``publish_confirmed``
    when the bus has one (MQTT); otherwise its ``publish`` (the in-memory bus
    delivers before it returns, so its publish is already a confirmation)."""
    confirmed = getattr(bus, "publish_confirmed", None)
    if confirmed is not None:

        async def send(topic: str, message: Message, retain: bool) -> None:
            await confirmed(topic, message, retain=retain, timeout=timeout)

        return send
    publish = getattr(bus, "publish", None)
    if publish is None:
        raise TypeError(f"{type(bus).__name__} has neither publish_confirmed nor publish")

    async def send_plain(topic: str, message: Message, retain: bool) -> None:
        await publish(topic, message, retain=retain)

    return send_plain


@dataclass
class Backoff:
    """Exponential backoff with jitter: ``initial`` doubling up to ``maximum``; each
    delay is drawn from [(1 - jitter) · d, d] so retries of many nodes spread out
    and never exceed ``maximum``."""

    initial: float = 1.0
    maximum: float = 30.0
    factor: float = 2.0
    jitter: float = 0.2
    failures: int = 0

    def next(self, rand: Callable[[], float] = random.random) -> float:
        ceiling = min(self.maximum, self.initial * self.factor**self.failures)
        self.failures += 1
        return ceiling * (1.0 - self.jitter * rand())

    def reset(self) -> None:
        self.failures = 0


class OutboxPublisher:
    """Publishes the outbox's pending rows in order, until cancelled.

    Each row is sent with QoS 1 and marked published only after the broker
    acknowledged it.  While the broker is down (a ``BusError``) or the database
    is unreachable, the publisher waits with exponential backoff (1 s → 30 s,
    with jitter) — or until the bus reconnects, if it says so — and goes on
    where it stopped.  Rows left pending by a hub that died are sent by the next
    one.  Published rows older than ``keep_published`` are purged every
    ``purge_every_s``.  Start one per outbox (one hub):
    ``asyncio.create_task(publisher.run())``."""

    def __init__(
        self,
        outbox: Outbox,
        bus: object,
        poll_s: float = 0.2,
        *,
        batch: int = 100,
        backoff: Backoff | None = None,
        publish_timeout_s: float = 10.0,
        rand: Callable[[], float] = random.random,
        keep_published: timedelta | None = timedelta(days=7),
        purge_every_s: float = 3600.0,
    ) -> None:
        self.outbox = outbox
        self.keep_published = keep_published  # published rows older than this are purged
        self.purge_every_s = purge_every_s
        self._purged_at: float | None = None
        self.bus = bus
        self.poll_s = poll_s
        self.batch = batch
        self.backoff = backoff or Backoff()
        self.rand = rand
        self._send = confirmed_sender(bus, publish_timeout_s)
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.published = 0  # rows marked published by this publisher
        self.failures = 0  # failed rounds (broker or database)
        self.delays: list[float] = []  # the backoff delays waited, newest last (bounded)

    def wake(self) -> None:
        """Look at the outbox now rather than at the next poll (any thread)."""
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed
            loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        while True:
            try:
                sent = await self.publish_pending()
            except (BusError, SQLAlchemyError) as exc:
                self.failures += 1
                delay = self.backoff.next(self.rand)
                self.delays = [*self.delays[-99:], delay]
                log.warning("outbox: publishing paused for %.1fs: %s", delay, exc)
                await self._pause(delay)
                continue
            self.backoff.reset()
            await self._purge_now_and_then()
            if sent < self.batch:
                await self._idle(self.poll_s)

    async def _purge_now_and_then(self) -> None:
        if self.keep_published is None:
            return
        now = asyncio.get_running_loop().time()
        if self._purged_at is not None and now - self._purged_at < self.purge_every_s:
            return
        self._purged_at = now
        try:
            gone = await asyncio.to_thread(self.outbox.purge, self.keep_published)
        except SQLAlchemyError as exc:
            log.warning("outbox: purging published rows failed: %s", exc)
            return
        if gone:
            log.info("outbox: %d published rows older than %s purged", gone, self.keep_published)

    async def publish_pending(self) -> int:
        """Publish one batch of pending rows in order; how many were published.
        ``BusError`` when the broker did not take one (the ones before it are
        marked, it and the rest stay pending)."""
        rows = await asyncio.to_thread(self.outbox.pending, self.batch)
        done: list[str] = []
        try:
            for row in rows:
                try:
                    message = row.message
                except ValueError as exc:  # never written by add(): skip, do not block
                    log.error("outbox: row %s is not a message (%s); skipped", row.id, exc)
                    done.append(row.id)
                    continue
                try:
                    await self._send(row.topic, message, row.retain)
                except BusError:
                    await asyncio.to_thread(self.outbox.note_attempt, [row.id])
                    raise
                except Exception as exc:  # a bus that raises its own errors
                    await asyncio.to_thread(self.outbox.note_attempt, [row.id])
                    raise BusError(f"publishing {row.topic} failed: {exc}") from exc
                done.append(row.id)
        finally:
            if done:
                # Shielded: a cancelled publisher still marks what the broker took.
                marked = asyncio.ensure_future(asyncio.to_thread(self.outbox.mark_published, done))
                self.published += await asyncio.shield(marked)
        return len(rows)

    async def _idle(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if the bus reports it reconnected."""
        connected = getattr(self.bus, "connected", None)
        if isinstance(connected, asyncio.Event) and not connected.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(connected.wait(), seconds)
            return
        await asyncio.sleep(seconds)


class OutboxBus:
    """A bus for the hub: durable event types go to the outbox (and the publisher
    is woken), everything else straight to ``bus``.  ``run`` is ``bus.run``.

    ``Hub(OutboxBus(bus, outbox, publisher), ...)`` makes every ticket and
    call-outcome event the hub publishes durable without changing the hub's
    calls.  If the outbox cannot be written (database down) the event is
    published directly and the failure logged: late is better than lost, and
    the call goes on."""

    def __init__(
        self,
        bus: Any,
        outbox: Outbox,
        publisher: OutboxPublisher | None = None,
        durable: Callable[[str], bool] | None = None,
    ) -> None:
        from events.contract import is_durable

        self.bus = bus
        self.outbox = outbox
        self.publisher = publisher
        self.durable = durable or is_durable
        self.connected = getattr(bus, "connected", None)

    async def publish(self, topic: str, message: Message, *, retain: bool = False) -> None:
        if not self.durable(message.type):
            await self.bus.publish(topic, message, retain=retain)
            return
        try:
            await asyncio.to_thread(self.outbox.add, topic, message, retain)
        except SQLAlchemyError as exc:
            log.error("outbox: %s not stored (%s); published directly", message.type, exc)
            await self.bus.publish(topic, message, retain=retain)
            return
        if self.publisher is not None:
            self.publisher.wake()

    async def run(self, patterns: list[str], handler: Any) -> None:
        await self.bus.run(patterns, handler)
