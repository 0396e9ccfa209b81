"""events/mqtt.py against a real Mosquitto: delivery, a failing handler, a broker outage."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from events.messages import Message
from events.mqtt import BrokerAddress, MqttBus


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.conf = directory / "mosquitto.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.process = subprocess.Popen(
            [binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            subprocess.run(["sleep", "0.05"], check=False)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    started = Broker(tmp_path)
    started.start()
    yield started
    started.stop()


async def _until(condition, timeout: float = 10.0) -> None:  # noqa: ANN001
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(wait(), timeout)


async def _reconnected(bus: MqttBus) -> None:
    while not bus.connected.is_set():
        await asyncio.sleep(0.02)


async def test_a_failing_handler_does_not_stop_the_subscriber(broker: Broker) -> None:
    address = BrokerAddress("127.0.0.1", broker.port)
    received: list[str] = []

    async def handler(topic: str, message: Message) -> None:
        if message.data.get("n") == 1:
            raise KeyError("a bug in the handler")
        received.append(f"{topic}:{message.data['n']}")

    subscriber, publisher = MqttBus(address, "sub"), MqttBus(address, "pub")
    tasks = [
        asyncio.create_task(subscriber.run(["test/#"], handler)),
        asyncio.create_task(publisher.run([], handler)),
    ]
    try:
        await asyncio.wait_for(subscriber.connected.wait(), 10)
        await asyncio.wait_for(publisher.connected.wait(), 10)
        for n in range(3):
            await publisher.publish("test/a", Message("t", {"n": n}, node="n1"))
        await _until(lambda: len(received) == 2)
        assert received == ["test/a:0", "test/a:2"]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_messages_published_during_an_outage_arrive_in_order_after_it(
    broker: Broker,
) -> None:
    address = BrokerAddress("127.0.0.1", broker.port)
    received: list[int] = []

    async def handler(topic: str, message: Message) -> None:
        received.append(message.data["n"])

    subscriber, publisher = MqttBus(address, "sub2"), MqttBus(address, "pub2")
    tasks = [
        asyncio.create_task(subscriber.run(["test/#"], handler)),
        asyncio.create_task(publisher.run([], handler)),
    ]
    try:
        await asyncio.wait_for(publisher.connected.wait(), 10)
        await asyncio.wait_for(subscriber.connected.wait(), 10)  # subscribed before we publish
        await publisher.publish("test/b", Message("t", {"n": 0}, node="n1"))
        await _until(lambda: received == [0])
        broker.stop()
        await _until(lambda: not publisher.connected.is_set())
        await _until(lambda: not subscriber.connected.is_set())
        # The publisher's retries are held back until the subscriber is back, so
        # nothing is published before anyone listens (the broker keeps no state).
        tasks[1].cancel()
        for n in range(1, 4):
            await publisher.publish("test/b", Message("t", {"n": n}, node="n1"))
        broker.start()
        await asyncio.wait_for(_reconnected(subscriber), 20)
        tasks[1] = asyncio.create_task(publisher.run([], handler))
        await _until(lambda: len(received) == 4, timeout=20)
        assert received == [0, 1, 2, 3]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
