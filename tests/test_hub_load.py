"""The hub under load (ivr.hub.hub): offers too old to answer are dropped unhandled,
answer latencies are reported (hub.load), and what only the desks display costs
the call logic nothing."""

from __future__ import annotations

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
