"""events.outbox: the table on SQLite and a real PostgreSQL, and the publisher
against a real Mosquitto (order, a broker outage, a publisher killed mid-way)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from events.bus import BusError
from events.memory import MemoryBus
from events.messages import Message, decode, encode
from events.mqtt import BrokerAddress, MqttBus
from events.outbox import (
    VERSION_TABLE,
    Backoff,
    Outbox,
    OutboxPublisher,
    make_engine,
    metadata,
    upgrade_database,
)
from tests.support.broker import PersistentBroker

# ---- the table ------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 27, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def event(n: int, kind: str = "call.connected") -> Message:
    return Message(kind, {"call_id": f"c{n}", "n": n, "who": "李敏"}, node="gz-1")


def test_the_migration_makes_the_table_beside_the_tickets(url: str) -> None:
    from tickets.store import VERSION_TABLE as TICKETS_VERSION
    from tickets.store import upgrade_database as upgrade_tickets

    upgrade_tickets(url)
    upgrade_database(url)
    upgrade_database(url)  # twice is harmless
    engine = make_engine(url)
    try:
        names = set(inspect(engine).get_table_names())
        assert {"events_outbox", VERSION_TABLE, TICKETS_VERSION, "tickets"} <= names
        with engine.connect() as connection:
            assert connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all() == [
                ("0002",)
            ]
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
        ours = [d for d in differences if "events_outbox" in repr(d)]
        assert ours == []
    finally:
        engine.dispose()


def test_rows_come_back_in_order_until_published_and_purge_keeps_pending(url: str) -> None:
    clock = Clock()
    with Outbox(url, clock=clock) as outbox:
        messages = [event(n) for n in range(5)]
        for n, message in enumerate(messages):
            outbox.add(f"hotline/v1/calls/c{n}/call.connected", message, retain=n == 4)
            clock.now += timedelta(seconds=1)
        pending = outbox.pending(10)
        assert [row.id for row in pending] == [m.id for m in messages]
        assert [row.message for row in pending] == [decode(r.payload) for r in pending]
        assert pending[0].message.data["who"] == "李敏"
        assert pending[0].created_at == datetime(2026, 3, 27, 2, 0, tzinfo=UTC)
        assert [row.retain for row in pending] == [False] * 4 + [True]
        assert [row.id for row in outbox.pending(2)] == [m.id for m in messages[:2]]

        assert outbox.mark_published([messages[0].id, messages[2].id]) == 2
        assert outbox.mark_published([messages[0].id]) == 0  # already published
        assert [row.id for row in outbox.pending(10)] == [messages[i].id for i in (1, 3, 4)]
        assert outbox.pending_count() == 3

        outbox.note_attempt([messages[1].id])
        assert outbox.pending(1)[0].attempts == 1

        clock.now += timedelta(days=8)
        outbox.mark_published([messages[1].id])  # published just now: kept
        assert outbox.purge(timedelta(days=7)) == 2
        assert outbox.purge(timedelta(days=7)) == 0
        assert outbox.pending_count() == 2  # pending rows are never purged
        assert outbox.purge(clock.now + timedelta(seconds=1)) == 1


def test_rows_since_a_time_by_event_type_published_or_not(url: str) -> None:
    clock = Clock()
    with Outbox(url, clock=clock) as outbox:
        added = []
        for n, kind in enumerate(["call.connected", "call.agent_offered", "call.abandoned"] * 2):
            message = event(n, kind)
            outbox.add(f"hotline/v1/calls/c{n}/{kind}", message)
            added.append(message)
            clock.now += timedelta(minutes=10)
        outbox.add("hotline/v1/calls/c9/call.agentXoffered", event(9, "call.agent_offered"))
        outbox.mark_published([added[0].id, added[3].id])
        since = datetime(2026, 3, 27, 2, 10, tzinfo=UTC)
        assert [r.id for r in outbox.since(since)] == [m.id for m in added[1:]] + [
            outbox.pending(10)[-1].id
        ]
        wanted = outbox.since(since, ["call.connected", "call.abandoned"])
        assert [r.id for r in wanted] == [added[i].id for i in (2, 3, 5)]
        # "_" and "." are taken literally, not as LIKE wildcards.
        offered = outbox.since(since, ["call.agent_offered"])
        assert [r.id for r in offered] == [added[1].id, added[4].id]


def test_nodes_sharing_a_database_each_read_back_their_own_rows(url: str) -> None:
    # A row stored before nodes were recorded (revision 0001) is anyone's to publish.
    upgrade_database(url, "0001")
    engine = make_engine(url)
    legacy = event(0)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO events_outbox (id, topic, payload, retain, created_at, attempts)"
                " VALUES (:id, 't/legacy', :payload, false, :at, 0)"
            ),
            {"id": legacy.id, "payload": encode(legacy).decode(), "at": "2026-03-27 02:00:00"},
        )
    engine.dispose()
    clock = Clock()
    with (
        Outbox(url, node="gz-1", clock=clock) as one,
        Outbox(url, node="gz-2", clock=clock, migrate=False) as two,
        Outbox(url, clock=clock, migrate=False) as everyone,
    ):
        mine, theirs = event(1), event(2)
        one.add("hotline/v1/calls/c1/call.connected", mine)
        two.add("hotline/v1/calls/c2/call.connected", theirs)
        assert [r.id for r in one.pending(10)] == [legacy.id, mine.id]
        assert [r.id for r in two.pending(10)] == [legacy.id, theirs.id]
        assert (one.pending_count(), two.pending_count(), everyone.pending_count()) == (2, 2, 3)
        since = datetime(2026, 3, 27, 1, 0, tzinfo=UTC)
        assert [r.id for r in one.since(since, ["call.connected"])] == [mine.id]
        one.mark_published([legacy.id, mine.id])
        assert [r.id for r in two.pending(10)] == [theirs.id]


def test_a_message_id_is_stored_once(url: str) -> None:
    with Outbox(url) as outbox:
        message = event(1)
        outbox.add("t/1", message)
        with pytest.raises(IntegrityError):
            outbox.add("t/1", message)
        assert outbox.pending_count() == 1


def test_an_event_commits_and_rolls_back_with_the_callers_transaction(url: str) -> None:
    with Outbox(url) as outbox:
        kept, dropped, in_session = event(1), event(2), event(3)
        with outbox.engine.begin() as connection:
            outbox.add("t/kept", kept, connection=connection)
        with contextlib.suppress(RuntimeError), outbox.engine.begin() as connection:
            outbox.add("t/dropped", dropped, connection=connection)
            raise RuntimeError("the ticket change failed")
        with Session(outbox.engine) as session, session.begin():
            outbox.add("t/session", in_session, connection=session)
        assert [row.id for row in outbox.pending(10)] == [kept.id, in_session.id]


def test_adds_from_many_threads_are_all_kept(url: str) -> None:
    with Outbox(url) as outbox:

        def add(thread: int) -> None:
            for n in range(20):
                outbox.add(f"t/{thread}", event(thread * 100 + n))

        threads = [threading.Thread(target=add, args=(t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rows = outbox.pending(1000)
        assert len(rows) == 80
        for t in range(4):  # each thread's events in the order it added them
            ns = [r.message.data["n"] for r in rows if r.topic == f"t/{t}"]
            assert ns == sorted(ns)


def test_a_bad_url_is_refused_clearly() -> None:
    from events.outbox import OutboxError

    with pytest.raises(OutboxError, match="not a database URL"):
        Outbox("no url at all")
    with pytest.raises(OutboxError, match="not supported"):
        Outbox("mysql://h/db")


# ---- backoff --------------------------------------------------------------------------------


def test_backoff_doubles_up_to_its_bound_and_jitters_below_it() -> None:
    backoff = Backoff(initial=1.0, maximum=30.0)
    assert [backoff.next(lambda: 0.0) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    jittered = Backoff(initial=1.0, maximum=30.0, jitter=0.2)
    delays = [jittered.next(lambda: 1.0) for _ in range(7)]
    assert delays == pytest.approx([0.8, 1.6, 3.2, 6.4, 12.8, 24.0, 24.0])
    jittered.reset()
    assert jittered.next(lambda: 0.5) == pytest.approx(0.9)


class DownBus:
    """A broker that never acknowledges."""

    def __init__(self) -> None:
        self.connected = asyncio.Event()
        self.connected.set()  # says connected: the publisher must sleep, not spin
        self.tries = 0

    async def publish_confirmed(
        self, topic: str, message: Message, *, retain: bool = False, timeout: float = 10.0
    ) -> None:
        self.tries += 1
        raise BusError("no PUBACK")


async def test_the_publisher_backs_off_while_the_broker_is_down(tmp_path: Path) -> None:
    with Outbox(f"sqlite:///{tmp_path / 'o.db'}") as outbox:
        outbox.add("t/1", event(1))
        bus = DownBus()
        publisher = OutboxPublisher(
            outbox, bus, poll_s=0.01, backoff=Backoff(initial=0.02, maximum=0.16)
        )
        task = asyncio.create_task(publisher.run())
        await until(lambda: len(publisher.delays) >= 6)  # every ceiling below, under load too
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(0.2)  # a note_attempt already in its thread finishes
        delays = publisher.delays
        assert len(delays) >= 4
        assert bus.tries == len(delays) or bus.tries == len(delays) + 1
        assert all(d <= 0.16 for d in delays)
        ceilings = [0.02, 0.04, 0.08, 0.16, 0.16, 0.16]
        for delay, ceiling in zip(delays, ceilings, strict=False):
            assert ceiling * 0.8 <= delay <= ceiling
        # Nothing was marked published; every try was counted.
        (row,) = outbox.pending(10)
        assert row.attempts == bus.tries


async def test_the_in_memory_bus_counts_as_confirmed(tmp_path: Path) -> None:
    with Outbox(f"sqlite:///{tmp_path / 'o.db'}") as outbox:
        bus = MemoryBus(validate=False)  # made-up messages on purpose
        messages = [event(n) for n in range(3)]
        for message in messages:
            outbox.add("hotline/v1/calls/c/call.connected", message, retain=True)
        publisher = OutboxPublisher(outbox, bus)
        assert await publisher.publish_pending() == 3
        assert [m.id for _, m in bus.published] == [m.id for m in messages]
        assert outbox.pending_count() == 0


# ---- the publisher against Mosquitto --------------------------------------------------------


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[PersistentBroker]:
    started = PersistentBroker(tmp_path)
    started.start()
    yield started
    started.stop()


class Consumer:
    """An outside system: a persistent session (fixed id, clean_session False), QoS 1,
    reconnecting; keeps every message id it receives, duplicates included."""

    def __init__(self, port: int, name: str = "consumer") -> None:
        self.port = port
        self.name = name
        self.received: list[str] = []
        self.subscribed = asyncio.Event()

    def unique(self) -> list[str]:
        seen: set[str] = set()
        out = []
        for message_id in self.received:
            if message_id not in seen:
                seen.add(message_id)
                out.append(message_id)
        return out

    async def run(self) -> None:
        while True:
            try:
                async with aiomqtt.Client(
                    "127.0.0.1", self.port, identifier=self.name, clean_session=False
                ) as client:
                    await client.subscribe("hotline/v1/#", qos=1)
                    self.subscribed.set()
                    async for message in client.messages:
                        assert isinstance(message.payload, bytes)
                        self.received.append(decode(message.payload).id)
            except aiomqtt.MqttError:
                await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def running(*coroutines) -> AsyncIterator[list[asyncio.Task]]:  # noqa: ANN002
    tasks = [asyncio.create_task(c) for c in coroutines]
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def until(condition, timeout: float = 15.0) -> None:  # noqa: ANN001
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(wait(), timeout)


def fill(outbox: Outbox, first: int, count: int) -> list[str]:
    ids = []
    for n in range(first, first + count):
        message = event(n)
        outbox.add(f"hotline/v1/calls/c{n}/call.connected", message)
        ids.append(message.id)
    return ids


async def test_every_row_arrives_once_in_order(broker: PersistentBroker, tmp_path: Path) -> None:
    with Outbox(f"sqlite:///{tmp_path / 'o.db'}") as outbox:
        consumer = Consumer(broker.port)
        bus = MqttBus(BrokerAddress("127.0.0.1", broker.port), "hub-1")
        publisher = OutboxPublisher(outbox, bus, poll_s=0.05, batch=20)
        async with running(consumer.run(), bus.run([], _ignore)):
            await asyncio.wait_for(consumer.subscribed.wait(), 10)
            ids = fill(outbox, 0, 60)
            async with running(publisher.run()):
                await until(lambda: len(consumer.received) >= 60)
                await until(lambda: outbox.pending_count() == 0)
                more = fill(outbox, 60, 5)  # added while it runs: picked up at the next poll
                publisher.wake()
                await until(lambda: len(consumer.received) >= 65)
                await until(lambda: publisher.published == 65)  # marked, then counted
            await asyncio.sleep(0.2)
        assert consumer.received == ids + more
        assert publisher.published == 65


async def test_a_broker_outage_loses_nothing(broker: PersistentBroker, tmp_path: Path) -> None:
    with Outbox(f"sqlite:///{tmp_path / 'o.db'}") as outbox:
        consumer = Consumer(broker.port)
        bus = MqttBus(BrokerAddress("127.0.0.1", broker.port), "hub-2")
        publisher = OutboxPublisher(
            outbox, bus, poll_s=0.05, backoff=Backoff(initial=0.2, maximum=1.0)
        )
        async with running(consumer.run(), bus.run([], _ignore), publisher.run()):
            await asyncio.wait_for(consumer.subscribed.wait(), 10)
            before = fill(outbox, 0, 10)
            await until(lambda: len(consumer.received) >= 10)

            broker.stop()
            await until(lambda: not bus.connected.is_set())
            during: list[str] = []
            for n in range(6):  # events keep coming for ~3 s while the broker is down
                during += fill(outbox, 100 + 5 * n, 5)
                await asyncio.sleep(0.5)
            await until(lambda: publisher.failures >= 2)
            # Nothing the broker did not take is marked published.
            assert outbox.pending_count() == len(during)
            assert {row.id for row in outbox.pending(100)} == set(during)

            broker.start()
            await until(lambda: set(during) <= set(consumer.received), timeout=20)
            await until(lambda: outbox.pending_count() == 0)
        assert consumer.unique() == before + during  # in order, after de-duplication


async def test_a_killed_publisher_is_taken_over(broker: PersistentBroker, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    with Outbox(url) as outbox:
        consumer = Consumer(broker.port)
        first_bus = SlowBus(MqttBus(BrokerAddress("127.0.0.1", broker.port), "hub-old"))
        async with running(consumer.run(), first_bus.bus.run([], _ignore)):
            await asyncio.wait_for(consumer.subscribed.wait(), 10)
            ids = fill(outbox, 0, 150)
            first = OutboxPublisher(outbox, first_bus, poll_s=0.05, batch=25)
            task = asyncio.create_task(first.run())
            await until(lambda: len(consumer.received) >= 40)
            task.cancel()  # the hub dies mid-batch
            await asyncio.gather(task, return_exceptions=True)
            assert len(consumer.received) < 150
            await asyncio.sleep(0.2)  # the marks of what the broker took are shielded
            assert 0 < outbox.pending_count() < 150 - 40 + 25

        with Outbox(url) as reopened:  # the next hub
            bus = MqttBus(BrokerAddress("127.0.0.1", broker.port), "hub-new")
            second = OutboxPublisher(reopened, bus, poll_s=0.05)
            async with running(consumer.run(), bus.run([], _ignore), second.run()):
                await until(lambda: set(ids) <= set(consumer.received))
                await until(lambda: reopened.pending_count() == 0)
        assert consumer.unique() == ids  # each once after de-duplication by id
        assert len(consumer.received) - len(ids) <= 1  # at most the row in flight, twice


class SlowBus:
    """Publishes through ``bus``, a little slowly, so a test can stop it mid-way."""

    def __init__(self, bus: MqttBus) -> None:
        self.bus = bus
        self.connected = bus.connected

    async def publish_confirmed(
        self, topic: str, message: Message, *, retain: bool = False, timeout: float = 10.0
    ) -> None:
        await asyncio.sleep(0.005)
        await self.bus.publish_confirmed(topic, message, retain=retain, timeout=timeout)


async def _ignore(topic: str, message: Message) -> None:
    return None


async def test_the_hubs_bus_sends_durable_types_through_the_outbox(tmp_path: Path) -> None:
    from events import messages as m
    from events.outbox import OutboxBus

    with Outbox(f"sqlite:///{tmp_path / 'o.db'}") as outbox:
        memory = MemoryBus(validate=False)
        publisher = OutboxPublisher(outbox, memory, poll_s=5.0)  # only a wake makes it look
        bus = OutboxBus(memory, outbox, publisher)
        async with running(publisher.run()):
            await asyncio.sleep(0.05)
            step = Message(m.FLOW_STEP, {"call_id": "c1", "step": "queued"})
            connected = Message(m.CALL_CONNECTED, {"call_id": "c1", "agent_id": "a1"})
            await bus.publish("hotline/v1/calls/c1/flow.step", step)
            await bus.publish("hotline/v1/calls/c1/call.connected", connected)
            assert [msg.id for _, msg in memory.published] == [step.id]  # live: at once
            await until(lambda: len(memory.published) == 2, timeout=2)  # woken, not polled
            topic, sent = memory.published[1]
            assert topic == "hotline/v1/calls/c1/call.connected"
            assert (sent.id, sent.type, sent.data) == (
                connected.id,
                m.CALL_CONNECTED,
                connected.data,
            )
            await until(lambda: outbox.pending_count() == 0, timeout=2)

        outbox.engine.dispose()
        unmigrated = Outbox(f"sqlite:///{tmp_path / 'empty.db'}", migrate=False)  # no table
        broken = OutboxBus(memory, unmigrated)
        abandoned = Message(m.CALL_ABANDONED, {"call_id": "c2"})
        await broken.publish("hotline/v1/calls/c2/call.abandoned", abandoned)
        assert memory.published[-1][1] is abandoned  # late is better than lost
        unmigrated.close()


async def test_the_publisher_purges_old_published_rows(tmp_path: Path) -> None:
    clock = Clock()
    with Outbox(f"sqlite:///{tmp_path / 'o.db'}", clock=clock) as outbox:
        old = event(1)
        outbox.add("t/old", old)
        outbox.mark_published([old.id])
        clock.now += timedelta(days=8)
        outbox.add("t/new", event(2))
        publisher = OutboxPublisher(outbox, MemoryBus(validate=False), poll_s=0.02)
        async with running(publisher.run()):
            await until(lambda: outbox.pending_count() == 0, timeout=5)
            await asyncio.sleep(0.1)
        with outbox.engine.connect() as connection:
            left = connection.execute(text("SELECT id FROM events_outbox")).scalars().all()
        assert len(left) == 1 and old.id not in left  # the new one stays (published now)
