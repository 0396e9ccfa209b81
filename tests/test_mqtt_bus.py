"""events/mqtt.py against a real Mosquitto: delivery, a failing handler, a broker outage."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from events.messages import Message
from events.mqtt import BrokerAddress, MqttBus
from tests.support.broker import Broker


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


# ---- confirmed publishing (the outbox's) -----------------------------------------------------


async def test_publish_confirmed_returns_after_the_broker_took_it_and_never_buffers(
    broker: Broker,
) -> None:
    from events.bus import BusError

    address = BrokerAddress("127.0.0.1", broker.port)
    received: list[int] = []

    async def handler(topic: str, message: Message) -> None:
        received.append(message.data["n"])

    subscriber, publisher = MqttBus(address, "sub3"), MqttBus(address, "pub3")
    with pytest.raises(BusError, match="not connected"):
        await publisher.publish_confirmed("test/c", Message("t", {"n": -1}))
    tasks = [
        asyncio.create_task(subscriber.run(["test/#"], handler)),
        asyncio.create_task(publisher.run([], handler)),
    ]
    try:
        await asyncio.wait_for(publisher.connected.wait(), 10)
        await asyncio.wait_for(subscriber.connected.wait(), 10)
        await publisher.publish_confirmed("test/c", Message("t", {"n": 1}))
        await _until(lambda: received == [1])
        broker.stop()
        await _until(lambda: not publisher.connected.is_set())
        with pytest.raises(BusError):
            await publisher.publish_confirmed("test/c", Message("t", {"n": 2}), timeout=2)
        broker.start()
        await asyncio.wait_for(_reconnected(subscriber), 20)
        await asyncio.wait_for(_reconnected(publisher), 20)
        await publisher.publish_confirmed("test/c", Message("t", {"n": 3}))
        await _until(lambda: 3 in received)
        assert received == [1, 3]  # the refused one was not kept for later
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# ---- an external broker: username/password and TLS -------------------------------------------


def test_a_broker_address_from_the_settings_values() -> None:
    plain = BrokerAddress.parse("mqtt://broker.example:1884", "hub", "pw")
    assert (plain.host, plain.port, plain.tls, plain.tls_context()) == (
        "broker.example",
        1884,
        False,
        None,
    )
    secure = BrokerAddress.parse("mqtts://broker.example")
    assert (secure.port, secure.tls) == (8883, True)
    forced = BrokerAddress.parse("mqtt://broker.example:8883", tls=True)  # mqtt.tls = true
    assert forced.tls and forced.tls_context() is not None
    with pytest.raises(ValueError, match="CA file"):
        BrokerAddress.parse("mqtts://b", ca_file="/nonexistent/ca.pem").tls_context()


class SecuredBroker(Broker):
    """Mosquitto with a password file, and a TLS listener when given certificates."""

    def __init__(self, directory: Path, tls: tuple[Path, Path, Path] | None = None) -> None:
        super().__init__(directory)
        passwords = directory / "passwords"
        binary = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
        subprocess.run(
            [binary, "-b", "-c", str(passwords), "hub", "s3cret-密码"], check=True, timeout=30
        )
        lines = [f"listener {self.port} 127.0.0.1"]
        if tls is not None:
            ca, cert, key = tls
            lines += [f"cafile {ca}", f"certfile {cert}", f"keyfile {key}"]
        lines += ["allow_anonymous false", f"password_file {passwords}"]
        if os.geteuid() == 0:
            lines.insert(0, "user root")  # the files are in a folder only root may enter
        self.conf.write_text("\n".join(lines) + "\n")


def _throwaway_ca(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 made with the openssl CLI."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("the openssl command is missing (Debian package openssl)", pytrace=False)
    ca_key, ca, key, csr, cert = (
        directory / name for name in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem")
    )
    extensions = directory / "server.ext"
    extensions.write_text(
        "basicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=IP:127.0.0.1\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid,issuer\n"
    )

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, timeout=60)

    run(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca),
        "-days", "2", "-subj", "/CN=hotline test CA",
    )  # fmt: skip
    run(
        "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
        "-subj", "/CN=127.0.0.1",
    )  # fmt: skip
    run(
        "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
        "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(extensions),
    )  # fmt: skip
    return ca, cert, key


async def _round_trip(address: BrokerAddress, name: str) -> None:
    received: list[str] = []

    async def handler(topic: str, message: Message) -> None:
        received.append(message.data["text"])

    bus = MqttBus(address, name)
    task = asyncio.create_task(bus.run(["test/secure"], handler))
    try:
        await asyncio.wait_for(bus.connected.wait(), 10)
        await bus.publish_confirmed("test/secure", Message("t", {"text": "工单已受理"}))
        await _until(lambda: received == ["工单已受理"])
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_username_and_password_are_used_and_a_wrong_one_fails_clearly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from events.mqtt import BrokerRefused, check_broker

    secured = SecuredBroker(tmp_path)
    secured.start()
    try:
        url = f"mqtt://127.0.0.1:{secured.port}"
        good = BrokerAddress.parse(url, "hub", "s3cret-密码")
        await check_broker(good)
        await _round_trip(good, "hub-pw")

        wrong = BrokerAddress.parse(url, "hub", "wrong")
        with pytest.raises(BrokerRefused, match=r"refused user 'hub'.*mqtt\.password") as info:
            await check_broker(wrong)
        assert info.value.retryable is False
        with pytest.raises(BrokerRefused, match="refused an anonymous client"):
            await check_broker(BrokerAddress.parse(url))

        bus = MqttBus(wrong, "hub-wrong")
        task = asyncio.create_task(bus.run([], _ignore_message))
        try:
            await _until(lambda: "refused" in bus.last_error, timeout=5)
            assert not bus.connected.is_set()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert any(
            r.levelname == "ERROR" and "mqtt.username and mqtt.password" in r.getMessage()
            for r in caplog.records
        )
    finally:
        secured.stop()


async def test_tls_with_a_ca_file_and_a_password(tmp_path: Path) -> None:
    from events.bus import BusError
    from events.mqtt import check_broker

    ca, cert, key = _throwaway_ca(tmp_path)
    secured = SecuredBroker(tmp_path, (ca, cert, key))
    secured.start()
    try:
        url = f"mqtts://127.0.0.1:{secured.port}"
        address = BrokerAddress.parse(url, "hub", "s3cret-密码", ca_file=str(ca))
        await check_broker(address)
        await _round_trip(address, "hub-tls")
        # Not trusting the node's CA: the certificate is refused, not ignored.
        with pytest.raises(BusError, match="(?i)certificate"):
            await check_broker(BrokerAddress.parse(url, "hub", "s3cret-密码"))
        # Plain MQTT to a TLS listener does not get through either.
        with pytest.raises(BusError):
            await check_broker(
                BrokerAddress.parse(f"mqtt://127.0.0.1:{secured.port}", "hub", "s3cret-密码"),
                timeout=3,
            )
    finally:
        secured.stop()


async def _ignore_message(topic: str, message: Message) -> None:
    return None
