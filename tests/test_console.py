"""ivr.hub.console: the hub as the consoles see it, over the in-memory bus."""

from __future__ import annotations

import pytest

from events import messages as m
from events.memory import MemoryBus
from ivr.hub.console import Console
from ivr.hub.flow import Step
from ivr.hub.hub import Hub
from tests.support.clock import FakeClock
from tests.support.hub_messages import commands_to, event
from tests.support.seating import MONDAY_10, dials, hub_with, queued_call, settings


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bus() -> MemoryBus:
    return MemoryBus()


@pytest.fixture
def hub(bus: MemoryBus, clock: FakeClock) -> Hub:
    return hub_with(bus, clock, settings(), [MONDAY_10])


async def test_an_agent_sees_their_state_and_the_offered_call(hub: Hub, clock: FakeClock) -> None:
    console = Console(hub)
    assert await console.agent_command("1002", "login") == ""
    clock.advance(4)
    view = console.agent_view("1002")
    assert (view["status"], view["since_s"], view["call"]) == ("available", 4.0, None)
    await queued_call(hub, "c1")
    call = console.agent_view("1002")["call"]
    assert call["call_id"] == "c1" and call["caller"] == "13800138000"
    assert await console.agent_command("1002", "dance") != ""
    with pytest.raises(LookupError):
        console.agent_view("9999")


async def test_an_agent_transfers_the_caller_to_another_group(
    hub: Hub, bus: MemoryBus, clock: FakeClock
) -> None:
    console = Console(hub)
    await console.agent_command("1002", "login")
    await queued_call(hub, "c1")
    dial = dials(bus)[-1]
    await hub.on_message(*event("c1", m.AGENT_ANSWERED, agent_id="1002", dial_id=dial["dial_id"]))
    assert await console.transfer("1001", "城建") == "no caller is connected to this agent"
    assert await console.transfer("1002", "城建") == ""
    assert hub.flows["c1"].step is Step.QUEUED and hub.flows["c1"].seat_group == "城建"
    hangups = [d for k, d in commands_to(bus, "w1") if k == m.HANGUP]
    assert hangups[-1] == {"call_id": "c1", "leg": "agent", "reason": "transferred"}
    assert console.agent_view("1002")["status"] == "wrap_up"
    await console.agent_command("1001", "login")  # 1001 sits in 城建
    assert dials(bus)[-1]["agent_id"] == "1001"


async def test_the_wallboard_counts_waiting_answered_and_abandoned(
    hub: Hub, bus: MemoryBus, clock: FakeClock
) -> None:
    console = Console(hub)
    await queued_call(hub, "c1")
    await queued_call(hub, "c2")
    clock.advance(20)
    await hub.on_message(*event("c2", m.CALL_ENDED, reason="remote_hangup"))  # abandoned
    await console.agent_command("1002", "login")
    dial = dials(bus)[-1]
    await hub.on_message(*event("c1", m.AGENT_ANSWERED, agent_id="1002", dial_id=dial["dial_id"]))
    board = {g["group"]: g for g in console.wallboard()["groups"]}
    general = board["综合"]
    assert general["today"]["offered"] == 2
    assert general["today"]["answered"] == 1 and general["today"]["abandoned"] == 1
    assert general["today"]["service_level"] == 0.0  # answered after 20 s, not within 15
    assert general["advice"]["calls_per_hour"] == 4  # two arrivals in the last 30 min
    assert general["advice"]["agents"] >= 1
    states = {a["agent_id"]: a["status"] for a in general["agents"]}
    assert states["1002"] == "on_call" and states["1001"] == "logged_out"


async def test_supervisor_switches_take_effect_at_once(hub: Hub, bus: MemoryBus) -> None:
    console = Console(hub)
    assert await console.set_callback_offer(False) == ""
    assert console.wallboard()["callback_offer"] is False
    assert "no backup" in await console.set_backup_now("综合", True)
    assert await console.force_group("城建", False) == ""
    board = {g["group"]: g for g in console.wallboard()["groups"]}
    assert board["城建"]["open"] is False and board["城建"]["forced"] is False
    assert await console.force_group("城建", None) == ""
    await hub.tick()
    board = {g["group"]: g for g in console.wallboard()["groups"]}
    assert board["城建"]["open"] is True and board["城建"]["forced"] is None
