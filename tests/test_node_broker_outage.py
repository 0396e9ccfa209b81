"""A broker outage during calls, against a real node on an external Mosquitto:
an outside system subscribed with a lasting session gets every durable event
(ticket and call outcomes) after the broker comes back, each id once after
de-duplication; calls in progress keep their media and end cleanly with their
recordings and tickets intact."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from events.contract import DURABLE_TYPES
from events.messages import decode
from recordings.manifest import verify
from tests.support.broker import PersistentBroker
from tests.support.nodes import HOTLINE, SPEECH, Node, start_node, wait_for

pytestmark = pytest.mark.node
OUTAGE_S = 30
CLIP = "aishell1_BAC009S0764W0121.wav"


class Consumer:
    """Another system: a persistent MQTT session (fixed id, QoS 1) on hotline/v1/#."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[tuple[str, str, str]] = []  # (topic, type, id)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)

    async def _run(self) -> None:
        import aiomqtt

        while not self._stop.is_set():
            try:
                async with aiomqtt.Client(
                    "127.0.0.1", self.port, identifier="outside-system", clean_session=False
                ) as client:
                    await client.subscribe("hotline/v1/#", qos=1)
                    async for message in self._messages(client):
                        try:
                            decoded = decode(bytes(message.payload))  # type: ignore[arg-type]
                        except ValueError:
                            continue
                        self.received.append((message.topic.value, decoded.type, decoded.id))
            except aiomqtt.MqttError:
                await asyncio.sleep(0.5)  # the broker is down: try again

    async def _messages(self, client):  # noqa: ANN001, ANN202
        iterator = client.messages.__aiter__()
        while not self._stop.is_set():
            try:
                yield await asyncio.wait_for(iterator.__anext__(), 0.5)
            except TimeoutError:
                continue

    def durable_ids(self) -> set[str]:
        return {i for _, kind, i in self.received if kind in DURABLE_TYPES}


def test_a_broker_outage_during_calls_loses_no_durable_event(tmp_path: Path) -> None:
    broker = PersistentBroker(tmp_path)
    broker.start()
    consumer = Consumer(broker.port)
    consumer.start()
    try:
        _calls_through_an_outage(tmp_path, broker, consumer)
    finally:
        consumer.stop()
        broker.stop()


def _calls_through_an_outage(tmp_path: Path, broker: PersistentBroker, consumer: Consumer) -> None:
    node = start_node(
        tmp_path / "node",
        workers=2,
        hub_lost_grace_s=60,
        extra_toml=f'\n[mqtt]\nurl = "mqtt://127.0.0.1:{broker.port}"\n',
    )
    callers: list[subprocess.Popen] = []
    try:
        lead = node.prompt_seconds("greeting") + 0.5
        for index in range(3):  # each says what is wrong, is understood, hears goodbye
            callers.append(
                subprocess.Popen(
                    [
                        str(HOTLINE),
                        "phone",
                        node.uri,
                        "--from",
                        f"1380000010{index}",
                        "--play",
                        str(SPEECH / CLIP),
                        "--play-at",
                        str(lead),
                        "--hangup-after",
                        "70",
                        "--timeout",
                        "120",
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
            )
            time.sleep(1.0)
        # The first caller has been understood (a durable ticket.drafted went out):
        # the broker goes away while the others are still talking.
        wait_for(consumer.durable_ids, 30, "a first durable event")
        broker.stop()
        time.sleep(OUTAGE_S)
        broker.start()
        results = [json.loads(p.communicate(timeout=120)[0].splitlines()[-1]) for p in callers]
        # The hub publishes what it stored during the outage once the broker is back.
        database = node.data_dir.resolve() / "tickets.db"
        wait_for(lambda: _unpublished(database) == 0, 30, "the outbox to drain")
        # A change made elsewhere (here the command line) reaches the outside system
        # through the running hub, with its event written in the change's transaction.
        listed = _tickets(node)
        number = next(t["number"] for t in listed if t["caller_number"] == "13800000100")
        changes = _changes(consumer, number)
        assert changes >= 1  # the draft's creation, published with the call
        subprocess.run(
            [str(HOTLINE), "tickets", "transition", number, "accept", "--actor", "a1001"]
            + ["--data-dir", str(node.data_dir)],
            capture_output=True,
            timeout=60,
            check=True,
        )
        wait_for(lambda: _changes(consumer, number) > changes, 15, "the accept's ticket.changed")
    finally:
        for caller in callers:
            if caller.poll() is None:
                caller.kill()
        node.stop()

    # Calls kept their media through the outage and ended cleanly, recorded.
    assert all(r["answered"] and r["reason"] in ("remote_hangup", "local_hangup") for r in results)
    manifests = [m for m in node.manifests() if m["caller"].startswith("1380000010")]
    assert len(manifests) == 3
    for manifest in manifests:
        assert manifest["status"] == "complete", manifest
        assert verify(Path(manifest["_dir"])) == []
    # Every durable event the node stored reached the outside system (by id).
    stored = _stored_ids(database)
    wait_for(lambda: stored <= consumer.durable_ids(), 30, "every durable event")
    types = {kind for _, kind, _ in consumer.received if kind in DURABLE_TYPES}
    assert {"ticket.drafted", "ticket.changed", "call.transcript"} <= types
    # The outside system sees every documented event of a call's life, not only those.
    seen = {kind for _, kind, _ in consumer.received}
    life = {"call.offered", "call.answered", "call.media", "flow.step", "prompt.started"}
    life |= {"prompt.finished", "asr.streaming", "asr.final", "call.understood", "call.ended"}
    life |= {"recording.saved", "worker.status", "hub.status"}
    assert life <= seen, life - seen
    transcripts = {i for _, kind, i in consumer.received if kind == "call.transcript"}
    assert len(transcripts) == 3  # one per call, none lost
    listed = [t for t in _tickets(node) if t["caller_number"].startswith("1380000010")]
    assert len(listed) == 3  # every call's work order is there


def _tickets(node: Node) -> list[dict]:
    listing = subprocess.run(
        [str(HOTLINE), "tickets", "list", "--json", "--data-dir", str(node.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(listing.stdout)


def _changes(consumer: Consumer, number: str) -> int:
    """How many distinct ticket.changed events the outside system got for ``number``."""
    return len(
        {
            i
            for topic, kind, i in consumer.received
            if kind == "ticket.changed" and topic.endswith(f"/tickets/{number}/changed")
        }
    )


def _stored_ids(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM events_outbox")}


def _unpublished(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        query = "SELECT count(*) FROM events_outbox WHERE published_at IS NULL"
        return int(connection.execute(query).fetchone()[0])
