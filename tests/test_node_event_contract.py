"""A real call's messages agree with the contract: subscribed to the node's broker on
``hotline/v1/#`` as another system would be, for the whole of one call (SIPp speaks
a Mandarin clip, then one side hangs up), every message heard decodes and passes
:func:`events.contract.validate` — retained status documents included — and the
call's main events are among them."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from events import contract, topics
from events import messages as m
from events.messages import Message, decode
from tests.support.nodes import Node, wait_for

pytestmark = pytest.mark.node
CLIP = "aishell1_BAC009S0764W0121.wav"
# What one understood call, with no agent to take it, always publishes.
MAIN_EVENTS = {
    m.CALL_OFFERED,
    m.CALL_ANSWERED,
    m.FLOW_STEP,
    m.PROMPT_STARTED,
    m.ASR_STREAMING,
    m.ASR_FINAL,
    m.CALL_UNDERSTOOD,
    m.TICKET_DRAFTED,
    m.CALL_ENDED,
    m.CALL_TRANSCRIPT,
    m.RECORDING_SAVED,
}


@dataclass(frozen=True)
class Heard:
    topic: str
    payload: bytes
    retained: bool


@contextlib.contextmanager
def listening(host: str, port: int) -> Iterator[list[Heard]]:
    """Everything published under ``hotline/v1/`` from the subscription on (and the
    retained documents the broker hands a new subscriber), until the block ends."""
    import paho.mqtt.client as mqtt

    heard: list[Heard] = []
    subscribed = threading.Event()
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"contract-check-{time.time_ns()}"
    )

    def on_connect(client, userdata, flags, reason_code, properties) -> None:
        client.subscribe(topics.ALL, qos=1)

    def on_subscribe(client, userdata, mid, reason_codes, properties) -> None:
        subscribed.set()

    def on_message(client, userdata, message) -> None:
        heard.append(Heard(message.topic, bytes(message.payload), bool(message.retain)))

    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    client.connect(host, port)
    client.loop_start()
    try:
        assert subscribed.wait(15), f"no subscription to {topics.ALL} at {host}:{port}"
        yield heard
    finally:
        client.disconnect()
        client.loop_stop()


def broker_of(node: Node) -> tuple[str, int]:
    host, _, port = str(node.status()["broker"]).rpartition(":")
    return host, int(port)


def checked(heard: list[Heard]) -> tuple[list[tuple[str, Message]], list[str]]:
    """The messages heard, decoded, and what is wrong with any of them."""
    messages, problems = [], []
    for item in heard:
        try:
            message = decode(item.payload)
        except ValueError as exc:
            problems.append(f"{item.topic}: {exc}: {item.payload[:200]!r}")
            continue
        try:
            contract.validate(item.topic, message)
        except contract.ContractError as exc:
            problems.append(str(exc))
        messages.append((item.topic, message))
    return messages, problems


def of_call(heard: list[Heard], call_id: str) -> set[str]:
    """The event types heard on the call's topics."""
    prefix = topics.call_event(call_id, "")
    types = set()
    for item in heard:
        if item.topic.startswith(prefix):
            with contextlib.suppress(ValueError):
                types.add(decode(item.payload).type)
    return types


def test_every_message_of_a_real_call_agrees_with_the_contract(node: Node) -> None:
    with listening(*broker_of(node)) as heard:
        lead = node.prompt_seconds("greeting") + 0.8
        result = node.sipp("caller_talks_either_hangs_up.xml", clip=CLIP, lead_silence_s=lead)
        assert result.successful == 1, result.stderr[-1500:]
        offered = [
            message.call_id
            for topic, message in checked(list(heard))[0]
            if message.type == m.CALL_OFFERED and topics.is_call_topic(topic)
        ]
        assert len(offered) == 1, f"one call offered while listening, not {offered}"
        (call_id,) = offered
        wait_for(
            lambda: {m.CALL_TRANSCRIPT, m.RECORDING_SAVED} <= of_call(list(heard), call_id),
            30,
            "the call's transcript and its saved recordings",
        )
        time.sleep(0.5)  # what follows the last event (statuses, asr.done) arrives too
        received = list(heard)

    messages, problems = checked(received)
    assert not problems, f"{len(problems)} of {len(received)} messages break the contract:\n" + (
        "\n".join(problems[:40])
    )
    seen = of_call(received, call_id)
    assert seen >= MAIN_EVENTS, f"not seen for {call_id}: {sorted(MAIN_EVENTS - seen)}"
    kinds = {message.type for _, message in messages}
    assert {m.WORKER_STATUS, m.HUB_STATUS, m.NODE_STATUS} <= kinds, sorted(kinds)
    assert any(item.retained for item in received), "the retained status documents"
