"""A hub with seats over the in-memory bus: the agents' settings, a hub whose
seating reads a given wall clock, a call queued to an agent, the dials sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from events import messages as m
from events.memory import MemoryBus
from ivr.hub.flow import FlowOptions, Step
from ivr.hub.hub import Hub
from ivr.hub.seat_plan import build_seating
from sip_config import Settings
from tests.support.clock import FakeClock
from tests.support.hub_messages import NODE, commands_to, event

MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def settings(**acd: Any) -> Settings:
    return Settings(
        agents=[
            {"id": "1001", "name": "张敏", "password": "pw1", "seat_groups": ["综合", "城建"]},
            {"id": "1002", "name": "李华", "password": "pw2", "seat_groups": ["综合"]},
            {"id": "1003", "sip_uri": "sip:1003@192.0.2.7:5062", "seat_groups": ["综合"]},
        ],
        seat_groups={"综合": {"ring_timeout_s": 10, "wrap_up_s": 5}},
        acd={"announce_every_s": 30, "callback_offer_after_s": 45, **acd},
        sip={"port": 5070},
    )


def hub_with(bus: MemoryBus, clock: FakeClock, config: Settings, wall: list[datetime]) -> Hub:
    return Hub(
        bus,
        NODE,
        clock=clock,
        options=FlowOptions(seats=True),
        seating=lambda flows: build_seating(config, flows, wall_clock=lambda: wall[0]),
        render=lambda text: f"dynamic/{len(text)}",
    )


async def queued_call(hub: Hub, call_id: str = "c1", caller: str = "13800138000") -> None:
    """A call answered, greeted, and handed to seat allocation by key 0."""
    for topic, message in (
        event(
            call_id,
            m.CALL_OFFERED,
            caller=caller,
            called="12345",
            remote_uri=f"<sip:{caller}@192.0.2.1:5060>",
        ),
        event(call_id, m.CALL_ANSWERED),
        event(call_id, m.DTMF, digit="0"),
    ):
        await hub.on_message(topic, message)
    assert hub.flows[call_id].step is Step.QUEUED


def dials(bus: MemoryBus, worker: str = "w1") -> list[dict[str, Any]]:
    return [data for kind, data in commands_to(bus, worker) if kind == m.DIAL]
