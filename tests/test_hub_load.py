"""The hub under load (ivr.hub.hub): offers too old to answer are dropped unhandled,
answer latencies are reported (hub.load), and what only the desks display costs
the call logic nothing."""

from __future__ import annotations

import asyncio
import dataclasses

from events import messages as m
from events import topics
from events.contract import validate
from events.memory import MemoryBus
from events.messages import Message
from ivr.hub.flow import FlowOptions
from ivr.hub.hub import Hub
from tests.support.clock import FakeClock
from tests.support.hub_messages import NODE, call_events, commands_to, event


class Wall:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_hub(bus: MemoryBus, wall: Wall, within: float | None = 3.0) -> Hub:
    return Hub(
        bus,
        NODE,
        clock=FakeClock(),
        options=FlowOptions(barge_in=False),
        answer_within_s=within,
        wall_clock=wall,
    )


def offer(call_id: str, made_at: float) -> tuple[str, Message]:
    topic, message = event(call_id, m.CALL_OFFERED, "w1", caller="13800138000", called="12345")
    return topic, dataclasses.replace(message, ts=made_at)


async def test_an_offer_older_than_the_workers_wait_is_dropped_unanswered() -> None:
    bus, wall = MemoryBus(), Wall()
    hub = make_hub(bus, wall)
    await hub.on_message(*offer("late", wall.now - 2.8))  # the worker refuses at 3 s
    await hub.on_message(*offer("fresh", wall.now - 0.2))
    answered = [data["call_id"] for kind, data in commands_to(bus, "w1") if kind == m.ANSWER]
    assert answered == ["fresh"]
    assert "late" not in hub.flows and hub.stale_offers == 1
    # The worker's end of the refused call later finds no flow and changes nothing.
    await hub.on_message(*event("late", m.CALL_ENDED, "w1", reason="rejected", answered=False))
    assert "late" not in hub.flows and "late" not in hub.finished
    assert hub.load()["stale"] == 1


async def test_without_a_deadline_every_offer_is_answered() -> None:
    bus, wall = MemoryBus(), Wall()
    hub = make_hub(bus, wall, within=None)
    await hub.on_message(*offer("old", wall.now - 60))
    assert [kind for kind, _ in commands_to(bus, "w1")] == [m.ANSWER]


async def test_hub_load_reports_answer_latencies_of_the_last_seconds() -> None:
    bus, wall = MemoryBus(), Wall()
    hub = make_hub(bus, wall)
    empty = hub.load()
    assert empty["answered"] == 0 and empty["p50_s"] is None and empty["p99_s"] is None
    for index, age in enumerate([0.1, 0.2, 0.3, 0.4, 2.0]):
        await hub.on_message(*offer(f"c{index}", wall.now - age))
    load = hub.load()
    assert load["answered"] == 5 and load["calls"] == 5 and load["stale"] == 0
    assert load["p50_s"] == 0.3 and load["p99_s"] == 2.0
    assert load["p50_s"] <= load["p90_s"] <= load["p99_s"]
    validate(topics.hub_load(), Message(m.HUB_LOAD, load, node=NODE))  # as the contract says
    wall.now += 10  # older than the window: no longer reported
    assert hub.load()["answered"] == 0


async def test_partials_and_the_hubs_own_echoes_reach_watchers_but_not_the_flow() -> None:
    bus, wall = MemoryBus(), Wall()
    hub = make_hub(bus, wall)
    seen: list[str] = []
    hub.watchers.append(lambda topic, message: seen.append(message.type))
    await hub.on_message(*offer("c1", wall.now))
    before = list(bus.published)
    await hub.on_message(*event("c1", m.ASR_PARTIAL, "w1", leg="caller", text="我要投诉"))
    await hub.on_message(*event("c1", m.FLOW_STEP, "w1", step="greeting"))
    assert seen == [m.CALL_OFFERED, m.ASR_PARTIAL, m.FLOW_STEP]
    assert bus.published == before, "nothing handled, nothing published"
    assert not call_events(bus, "c1", m.ASR_PARTIAL)


class GatedBus(MemoryBus):
    """Commands to workers wait for ``gate``: the hub is slow to answer."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def publish(self, topic: str, message: Message, *, retain: bool = False) -> None:
        if topic == topics.worker_commands("w1"):
            await self.gate.wait()
        await super().publish(topic, message, retain=retain)


async def test_deferrable_work_waits_until_new_calls_are_answered() -> None:
    bus, wall = GatedBus(), Wall()
    hub = Hub(bus, NODE, clock=FakeClock(), concurrent_calls=True, wall_clock=wall)
    await hub.on_message(*offer("c1", wall.now))
    later = asyncio.create_task(hub.after_new_calls())
    await asyncio.sleep(0.2)
    assert not later.done(), "a caller waits for their answer: QA indexing waits"
    bus.gate.set()
    await asyncio.wait_for(later, 2)
    await hub.settle()
    assert [kind for kind, _ in commands_to(bus, "w1")] == [m.ANSWER]
    await asyncio.wait_for(hub.after_new_calls(), 1)  # nothing waiting: at once


async def test_duplicates_are_dropped_and_old_ids_forgotten_at_a_constant_cost(
    monkeypatch,
) -> None:
    import ivr.hub.hub as hub_module

    monkeypatch.setattr(hub_module, "SEEN_AT_MOST", 50)
    bus, wall, clock = MemoryBus(), Wall(), FakeClock()
    hub = Hub(bus, NODE, clock=clock, wall_clock=wall)
    seen: list[str] = []
    hub.watchers.append(lambda topic, message: seen.append(message.id))
    first = offer("c0", wall.now)
    await hub.on_message(*first)
    await hub.on_message(*first)  # QoS 1 delivered it twice
    assert seen == [first[1].id]
    for index in range(200):  # a long peak: the remembered ids stay bounded
        await hub.on_message(*event(f"c{index}", m.CALL_MEDIA, "w1", codec="PCMA"))
    assert len(hub._seen) == 50
    clock.advance(hub_module.SEEN_FOR_S + 1)
    await hub.on_message(*event("late", m.CALL_MEDIA, "w1", codec="PCMA"))
    assert len(hub._seen) == 1, "ids older than the window are forgotten"


async def test_hub_load_reports_how_late_call_events_are_handled() -> None:
    bus, wall = MemoryBus(), Wall()
    hub = make_hub(bus, wall)
    await hub.on_message(*offer("c1", wall.now))
    topic, late = event("c1", m.CALL_ANSWERED, "w1")
    await hub.on_message(topic, dataclasses.replace(late, ts=wall.now - 2.5))
    load = hub.load()
    assert load["events"] == 2 and load["lag_p90_s"] == 2.5 and load["lag_p50_s"] == 0.0
