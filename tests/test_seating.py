"""ivr.hub.seating through the hub: calls queued to agents, rung, bridged, abandoned,
agents' state commands, over an in-memory bus with a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from call_routing.acd.announcements import Announcement
from call_routing.understanding import Understanding
from events import messages as m
from events import topics
from events.memory import MemoryBus
from events.messages import Message
from ivr.hub.flow import FlowOptions, Step
from ivr.hub.hub import Hub
from ivr.hub.seat_plan import build_seating
from ivr.hub.seating import announcement_text
from sip_config import Settings
from tests.support.clock import FakeClock
from tests.support.hub_messages import NODE, call_events, commands_to, event, worker_status
from tests.support.seating import MONDAY_10, dials, hub_with, queued_call, settings
from tests.support.understanding import scripted


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bus() -> MemoryBus:
    return MemoryBus()


@pytest.fixture
def hub(bus: MemoryBus, clock: FakeClock) -> Hub:
    config = settings()
    return Hub(
        bus,
        NODE,
        clock=clock,
        options=FlowOptions(seats=True),
        seating=lambda flows: build_seating(config, flows),
        render=lambda text: f"dynamic/{len(text)}",
    )


async def feed(hub: Hub, *items: tuple[str, Message]) -> None:
    for topic, message in items:
        await hub.on_message(topic, message)


async def agent(hub: Hub, agent_id: str, command: str, **data: Any) -> None:
    await hub.on_message(topics.agent_commands(agent_id), Message(command, data, node=NODE))


def agent_state(bus: MemoryBus, agent_id: str) -> dict[str, Any]:
    states = [msg for t, msg in bus.published if t == topics.agent_state(agent_id)]
    return states[-1].data


async def test_agents_are_published_logged_out_and_log_in_by_command(
    hub: Hub, bus: MemoryBus
) -> None:
    assert hub.seating is not None
    await hub._act(type(hub.seating.tick(0.0))(publish=hub.seating.states()))
    assert agent_state(bus, "1001")["status"] == "logged_out"
    await agent(hub, "1001", m.AGENT_LOGIN)
    assert agent_state(bus, "1001")["status"] == "available"
    await agent(hub, "1001", m.AGENT_NOT_READY, reason="小休")
    state = agent_state(bus, "1001")
    assert (state["status"], state["reason"]) == ("not_ready", "小休")
    replies = [msg.data for t, msg in bus.published if t.endswith("/commands/replies")]
    assert all(reply["ok"] for reply in replies)


async def test_agents_not_yet_signed_in_are_logged_out_since_the_hub_started(
    hub: Hub, clock: FakeClock
) -> None:
    assert hub.seating is not None
    clock.advance(90)
    stats = hub.seating.queue_stats(clock())["综合"]
    # Not since the monotonic clock's zero (hours before the node started).
    assert stats["agents"]["logged_out"]["longest_s"] == 90.0


async def test_a_refused_agent_command_is_answered_with_the_reason(
    hub: Hub, bus: MemoryBus
) -> None:
    await agent(hub, "1001", m.AGENT_READY)  # logged out: ready is not allowed
    await agent(hub, "9999", m.AGENT_LOGIN)
    replies = [msg.data for t, msg in bus.published if t.endswith("/commands/replies")]
    assert [r["ok"] for r in replies] == [False, False]
    assert "logged_out" in replies[0]["error"]
    assert "9999" in replies[1]["error"]


async def test_a_queued_call_rings_the_free_agent_and_is_bridged_on_answer(
    hub: Hub, bus: MemoryBus, clock: FakeClock
) -> None:
    await agent(hub, "1002", m.AGENT_LOGIN)
    await queued_call(hub)
    (dial,) = dials(bus)
    assert dial["agent_id"] == "1002"
    assert dial["uri"] == "sip:1002@127.0.0.1:5070"  # registered at the node's Kamailio
    offers = [msg for t, msg in bus.published if t == topics.agent_offer("1002")]
    assert offers and offers[-1].data["caller"] == "13800138000"
    assert agent_state(bus, "1002")["status"] == "offered"
    clock.advance(3)
    await feed(hub, event("c1", m.AGENT_ANSWERED, agent_id="1002", dial_id=dial["dial_id"]))
    assert hub.flows["c1"].step is Step.CONNECTED
    assert agent_state(bus, "1002")["status"] == "on_call"
    answered = call_events(bus, "c1", m.CALL_CONNECTED)
    assert answered[-1].data["waited_s"] == pytest.approx(3.0)
    clock.advance(60)
    await feed(hub, event("c1", m.AGENT_HUNGUP, agent_id="1002", dial_id=dial["dial_id"]))
    assert hub.flows["c1"].step is Step.CLOSING  # the caller hears the closing words
    assert agent_state(bus, "1002")["status"] == "wrap_up"
    clock.advance(5)
    await hub.tick()
    assert agent_state(bus, "1002")["status"] == "available"  # wrap-up of 5 s is over


async def test_no_free_agent_means_hold_music_then_the_agent_who_gets_ready(
    hub: Hub, bus: MemoryBus, clock: FakeClock
) -> None:
    await queued_call(hub)
    assert dials(bus) == []
    await feed(hub, event("c1", m.PROMPT_FINISHED, prompt="transfer_agent"))
    plays = [d for k, d in commands_to(bus, "w1") if k == m.PLAY]
    assert plays[-1] == {"call_id": "c1", "prompt": "hold_music", "loop": True}
    clock.advance(2)
    await agent(hub, "1001", m.AGENT_LOGIN)
    assert [d["agent_id"] for d in dials(bus)] == ["1001"]


async def test_ring_no_answer_goes_to_the_next_agent_and_counts_the_miss(
    hub: Hub, bus: MemoryBus, clock: FakeClock
) -> None:
    await agent(hub, "1001", m.AGENT_LOGIN)
    clock.advance(1)
    await agent(hub, "1002", m.AGENT_LOGIN)
    await queued_call(hub)
    first = dials(bus)[-1]
    assert first["agent_id"] == "1001"  # idle longest
    clock.advance(10)  # the group's ring timeout
    await hub.tick()
    hangups = [d for k, d in commands_to(bus, "w1") if k == m.HANGUP]
    assert hangups[-1]["leg"] == "agent"
    second = dials(bus)[-1]
    assert second["agent_id"] == "1002" and second["dial_id"] != first["dial_id"]
    assert agent_state(bus, "1001")["missed_in_a_row"] == 1
    # The cancelled leg's failure arrives late: it must not count twice.
    await feed(
        hub, event("c1", m.AGENT_FAILED, agent_id="1001", dial_id=first["dial_id"], code=487)
    )
    assert agent_state(bus, "1001")["missed_in_a_row"] == 1
    assert hub.seating is not None and hub.seating.acd.ringing_agent("c1") == "1002"


async def test_a_busy_agent_is_skipped_at_once(hub: Hub, bus: MemoryBus, clock: FakeClock) -> None:
    await agent(hub, "1001", m.AGENT_LOGIN)
    clock.advance(1)
    await agent(hub, "1002", m.AGENT_LOGIN)
    await queued_call(hub)
    first = dials(bus)[-1]
    clock.advance(2)
    await feed(
        hub, event("c1", m.AGENT_FAILED, agent_id="1001", dial_id=first["dial_id"], code=486)
    )
    assert dials(bus)[-1]["agent_id"] == "1002"
    assert agent_state(bus, "1001")["failures"]["busy"] == 1


async def test_an_unregistered_agent_is_made_not_ready(
    hub: Hub, bus: MemoryBus, clock: FakeClock
) -> None:
    await agent(hub, "1001", m.AGENT_LOGIN)
    await queued_call(hub)
    first = dials(bus)[-1]
    await feed(
        hub, event("c1", m.AGENT_FAILED, agent_id="1001", dial_id=first["dial_id"], code=404)
    )
    state = agent_state(bus, "1001")
    assert (state["status"], state["reason"]) == ("not_ready", "无法接通")


async def test_caller_hanging_up_while_waiting_is_abandoned_with_the_time_waited(
    hub: Hub, bus: MemoryBus, clock: FakeClock
) -> None:
    await queued_call(hub)
    clock.advance(12.5)
    await feed(hub, event("c1", m.CALL_ENDED, reason="remote_hangup"))
    (abandoned,) = call_events(bus, "c1", m.CALL_ABANDONED)
    assert abandoned.data["waited_s"] == pytest.approx(12.5)
    assert hub.seating is not None and hub.seating.waiting == {}


async def test_caller_hanging_up_while_an_agent_rings_frees_the_agent(
    hub: Hub, bus: MemoryBus, clock: FakeClock
) -> None:
    await agent(hub, "1001", m.AGENT_LOGIN)
    await queued_call(hub)
    await feed(hub, event("c1", m.CALL_ENDED, reason="remote_hangup"))
    assert call_events(bus, "c1", m.CALL_ABANDONED)[-1].data["ringing_agent"] == "1001"
    assert agent_state(bus, "1001")["status"] == "available"


async def test_position_and_wait_are_announced_and_never_get_longer_without_cause(
    hub: Hub, bus: MemoryBus, clock: FakeClock
) -> None:
    for agent_id in ("1001", "1003"):  # logged in, on a break: they count for the wait
        await agent(hub, agent_id, m.AGENT_LOGIN)
        await agent(hub, agent_id, m.AGENT_NOT_READY, reason="小休")
    await queued_call(hub, "c1")
    await queued_call(hub, "c2")
    clock.advance(30)
    await hub.tick()
    plays = [d for k, d in commands_to(bus, "w1") if k == m.PLAY and d["call_id"] == "c2"]
    assert plays[-1]["prompt"].startswith("dynamic/")  # rendered by the hub
    assert hub.seating is not None
    waiting = hub.seating.waiting["c2"]
    assert waiting.announcer.last == Announcement(2, 3)  # 2 × 180 s ÷ 2 agents
    assert (
        announcement_text(waiting.announcer.last)
        == "您前面还有一位来电，请稍候。预计等待时间约三分钟。"
    )
    await agent(hub, "1003", m.AGENT_LOGOUT)  # one agent fewer: the wait grows …
    clock.advance(30)
    await hub.tick()
    assert waiting.announcer.last == Announcement(2, 3)  # … but is not said to be longer


async def test_the_callback_offer_and_key_1_book_a_callback(
    hub: Hub, bus: MemoryBus, clock: FakeClock
) -> None:
    await queued_call(hub)
    clock.advance(45)
    await hub.tick()
    plays = [d["prompt"] for k, d in commands_to(bus, "w1") if k == m.PLAY]
    assert "callback_offer" in plays
    await feed(hub, event("c1", m.DTMF, digit="1"))
    assert call_events(bus, "c1", m.CALLBACK_REQUESTED)[-1].data["number"] == "13800138000"
    plays = [d["prompt"] for k, d in commands_to(bus, "w1") if k == m.PLAY]
    assert plays[-1] == "callback_booked"
    await feed(hub, event("c1", m.CALL_ENDED, reason="remote_hangup"))
    assert call_events(bus, "c1", m.CALL_ABANDONED) == []  # not abandoned: the place is kept

    # The caller's turn comes: an agent is reserved and rung first, on a worker with room.
    await feed(hub, worker_status("w2", calls=[]))
    clock.advance(5)
    await agent(hub, "1002", m.AGENT_LOGIN)
    (callback,) = [d for k, d in commands_to(bus, "w2") if k == m.CALLBACK]
    assert callback["agent_id"] == "1002" and callback["number"] == "13800138000"
    assert callback["citizen_uri"] == "sip:13800138000@192.0.2.1:5060"  # the caller's gateway
    assert agent_state(bus, "1002")["status"] == "offered"
    cb = callback["call_id"]
    await feed(hub, event(cb, m.AGENT_ANSWERED, worker="w2", dial_id=callback["dial_id"]))
    await feed(hub, event(cb, m.CALLBACK_FAILED, worker="w2", code=480, reason="failed"))
    assert agent_state(bus, "1002")["status"] == "available"  # no wrap-up for a miss
    await feed(hub, event(cb, m.CALL_ENDED, worker="w2", reason="failed"))

    # Retried after acd.callback_retry_s, keeping its place; this time the citizen answers.
    clock.advance(300)
    await hub.tick()
    second = [d for k, d in commands_to(bus, "w2") if k == m.CALLBACK][-1]
    assert second["attempt"] == 2 and second["call_id"] != cb
    cb = second["call_id"]
    await feed(hub, event(cb, m.AGENT_ANSWERED, worker="w2", dial_id=second["dial_id"]))
    await feed(hub, event(cb, m.CALLBACK_ANSWERED, worker="w2"))
    assert agent_state(bus, "1002")["status"] == "on_call"
    await feed(hub, event(cb, m.AGENT_HUNGUP, worker="w2", dial_id=second["dial_id"]))
    assert [d["call_id"] for k, d in commands_to(bus, "w2") if k == m.HANGUP] == [cb]
    await feed(hub, event(cb, m.CALL_ENDED, worker="w2", reason="local_hangup"))
    assert agent_state(bus, "1002")["status"] == "wrap_up"


async def test_a_callback_with_no_free_line_waits_without_losing_an_attempt(
    hub: Hub, bus: MemoryBus, clock: FakeClock
) -> None:
    await queued_call(hub)
    clock.advance(45)
    await hub.tick()
    await feed(hub, event("c1", m.DTMF, digit="1"))
    await feed(hub, event("c1", m.CALL_ENDED, reason="remote_hangup"))
    # Every worker is full: two calls each on four legs.
    busy = [{"call_id": f"x{i}"} for i in range(2)]
    await feed(hub, worker_status("w1", calls=busy), worker_status("w2", calls=busy))
    await agent(hub, "1002", m.AGENT_LOGIN)
    await hub.tick()
    assert [k for k, _ in commands_to(bus, "w1") + commands_to(bus, "w2") if k == m.CALLBACK] == []
    state = agent_state(bus, "1002")
    assert state["status"] == "available" and state["missed_in_a_row"] == 0
    # A line frees up; the callback is back in its place within NO_LINE_RETRY_S,
    # on its first attempt still.
    await feed(hub, worker_status("w2", calls=[]))
    clock.advance(31)
    await hub.tick()
    (callback,) = [d for k, d in commands_to(bus, "w2") if k == m.CALLBACK]
    assert callback["attempt"] == 1 and callback["agent_id"] == "1002"


async def test_a_second_callback_for_the_same_number_is_merged(
    hub: Hub, bus: MemoryBus, clock: FakeClock
) -> None:
    await queued_call(hub, "c1")
    await queued_call(hub, "c2")  # the same caller again, from another call
    clock.advance(45)
    await hub.tick()
    await feed(hub, event("c1", m.DTMF, digit="1"), event("c2", m.DTMF, digit="1"))
    merged = call_events(bus, "c2", m.CALLBACK_REQUESTED)[-1].data
    assert merged["merged_into"] == "c1"
    assert hub.seating is not None and list(hub.seating.callbacks) == ["c1"]


async def test_a_group_nobody_sits_in_queues_to_the_general_group(hub: Hub, bus: MemoryBus) -> None:
    await agent(hub, "1003", m.AGENT_LOGIN)
    await feed(
        hub,
        event("c1", m.CALL_OFFERED, caller="138", called="12345"),
        event("c1", m.CALL_ANSWERED),
    )
    hub.flows["c1"].seat_group = "教育"  # no agent sits in 教育
    await feed(hub, event("c1", m.DTMF, digit="0"))
    assert hub.flows["c1"].seat_group == "教育"  # it keeps its group, served by 综合's agents
    assert dials(bus)[-1]["uri"] == "sip:1003@192.0.2.7:5062"  # a fixed URI


async def test_after_hours_the_caller_leaves_a_message(bus: MemoryBus, clock: FakeClock) -> None:
    config = settings(open_hours=[{"name": "白天", "start": "08:00:00", "end": "20:00:00"}])
    wall = [MONDAY_10.replace(hour=22)]
    hub = hub_with(bus, clock, config, wall)
    await feed(
        hub,
        event("c1", m.CALL_OFFERED, caller="138", called="12345"),
        event("c1", m.CALL_ANSWERED),
        event("c1", m.DTMF, digit="0"),
    )
    flow = hub.flows["c1"]
    assert flow.step is Step.VOICEMAIL and flow.callback_reason == "voicemail"
    plays = [d["prompt"] for k, d in commands_to(bus, "w1") if k == m.PLAY]
    assert plays[-1] == "voicemail"
    await feed(hub, event("c1", m.PROMPT_FINISHED, prompt="voicemail"))
    (listen,) = [d for k, d in commands_to(bus, "w1") if k == m.LISTEN][-1:]
    assert listen["max_speech_s"] == 120.0 and listen["barge_in"] is False
    await feed(hub, event("c1", m.SPEECH_ENDED, speech_ms=9000))
    plays = [d["prompt"] for k, d in commands_to(bus, "w1") if k == m.PLAY]
    assert plays[-1] == "voicemail_saved"
    # In the morning calls are queued again.
    wall[0] = MONDAY_10.replace(day=1, month=12, hour=8, minute=1)
    await hub.tick()
    await queued_call(hub, "c2")


async def test_a_windowed_group_serves_only_inside_its_window(
    bus: MemoryBus, clock: FakeClock
) -> None:
    config = Settings(
        agents=[
            {"id": "2001", "password": "a", "seat_groups": ["综合"]},
            {"id": "2002", "password": "b", "seat_groups": ["延时服务"]},
        ],
        seat_groups={
            "综合": {"backup_groups": ["延时服务"], "backup_after_s": 0},
            "延时服务": {},
        },
        acd={
            "windows": [
                {
                    "name": "延时",
                    "start": "18:00:00",
                    "end": "21:00:00",
                    "seat_groups": ["延时服务"],
                }
            ]
        },
    )
    wall = [MONDAY_10]
    hub = hub_with(bus, clock, config, wall)
    await agent(hub, "2002", m.AGENT_LOGIN)
    await queued_call(hub, "c1")
    assert dials(bus) == []  # 延时服务 is off at 10:00: its agent takes no 综合 call
    wall[0] = MONDAY_10.replace(hour=18, minute=30)
    clock.advance(1)
    await hub.tick()
    assert [d["agent_id"] for d in dials(bus)] == ["2002"]
    assert call_events(bus, "c1", m.CALL_OVERFLOWED)[-1].data["stage"] == "backup"


async def test_a_long_expected_wait_offers_the_callback_before_queueing(
    bus: MemoryBus, clock: FakeClock
) -> None:
    config = settings(divert_wait_above_s=200)
    hub = hub_with(bus, clock, config, [MONDAY_10])
    await agent(hub, "1001", m.AGENT_LOGIN)
    await agent(hub, "1001", m.AGENT_NOT_READY, reason="小休")
    await queued_call(hub, "c1")  # 1 × 180 s: under the threshold
    assert call_events(bus, "c1", m.CALL_QUEUED)[-1].data["diverted"] == ""  # "": not diverted
    await queued_call(hub, "c2")  # 2 × 180 s: offered a callback at once
    assert call_events(bus, "c2", m.CALL_QUEUED)[-1].data["diverted"] == "estimated_wait"
    plays = [d["prompt"] for k, d in commands_to(bus, "w1") if k == m.PLAY and d["call_id"] == "c2"]
    assert "callback_offer" in plays
    await feed(hub, event("c2", m.DTMF, digit="1"))
    assert call_events(bus, "c2", m.CALLBACK_REQUESTED)


async def test_overload_without_callbacks_takes_a_message(bus: MemoryBus, clock: FakeClock) -> None:
    config = settings(divert_calls_per_agent_above=0.5, callback=False)
    hub = hub_with(bus, clock, config, [MONDAY_10])
    await agent(hub, "1001", m.AGENT_LOGIN)
    await agent(hub, "1001", m.AGENT_NOT_READY, reason="会议")
    await queued_call(hub, "c1")
    await feed(
        hub,
        event("c2", m.CALL_OFFERED, caller="139", called="12345"),
        event("c2", m.CALL_ANSWERED),
        event("c2", m.DTMF, digit="0"),
    )
    assert hub.flows["c2"].step is Step.VOICEMAIL
    plays = [d["prompt"] for k, d in commands_to(bus, "w1") if k == m.PLAY and d["call_id"] == "c2"]
    assert plays[-1] == "voicemail_busy"


async def test_the_ticket_carries_the_callback_task_until_the_citizen_is_reached(
    bus: MemoryBus, clock: FakeClock, tmp_path
) -> None:
    from ivr.hub.call_tickets import CallTickets
    from tickets.store import TicketStore

    store = TicketStore(f"sqlite:///{tmp_path / 'tickets.db'}")
    config = settings()
    hub = Hub(
        bus,
        NODE,
        clock=clock,
        options=FlowOptions(seats=True),
        seating=lambda flows: build_seating(config, flows),
        tickets=CallTickets(store),
    )
    await queued_call(hub, "c1")
    number = hub.flows["c1"].ticket
    assert number, "a draft ticket before the call waits"
    clock.advance(45)
    await hub.tick()
    await feed(hub, event("c1", m.DTMF, digit="1"))
    ticket = store.get(number)
    assert (ticket.callback_number, str(ticket.callback_reason)) == ("13800138000", "queue")
    assert [t.number for t in store.callbacks_due()] == [number]
    await feed(hub, event("c1", m.CALL_ENDED, reason="remote_hangup"), worker_status("w2"))
    await agent(hub, "1002", m.AGENT_LOGIN)
    (callback,) = [d for k, d in commands_to(bus, "w2") if k == m.CALLBACK]
    assert callback["ticket"] == number
    cb = callback["call_id"]
    await feed(hub, event(cb, m.AGENT_ANSWERED, worker="w2", dial_id=callback["dial_id"]))
    await feed(hub, event(cb, m.CALLBACK_ANSWERED, worker="w2"))
    assert store.get(number).callback_done_at is not None
    assert store.callbacks_due() == []


async def test_a_voice_message_gives_the_ticket_a_callback_task(
    bus: MemoryBus, clock: FakeClock, tmp_path
) -> None:
    from ivr.hub.call_tickets import CallTickets
    from tickets.store import TicketStore

    store = TicketStore(f"sqlite:///{tmp_path / 'tickets.db'}")
    config = settings(open_hours=[{"name": "白天", "start": "08:00:00", "end": "20:00:00"}])
    night = MONDAY_10.replace(hour=23)
    hub = Hub(
        bus,
        NODE,
        clock=clock,
        options=FlowOptions(seats=True),
        seating=lambda flows: build_seating(config, flows, wall_clock=lambda: night),
        tickets=CallTickets(store),
    )
    await feed(
        hub,
        event("c1", m.CALL_OFFERED, caller="13912345678", called="12345"),
        event("c1", m.CALL_ANSWERED),
        event("c1", m.DTMF, digit="0"),
        event("c1", m.PROMPT_FINISHED, prompt="voicemail"),
        event("c1", m.SPEECH_ENDED, speech_ms=8000),
        event("c1", m.CALL_ENDED, reason="remote_hangup"),
        event("c1", m.ASR_FINAL, leg="caller", turn=2, text="我家水管爆了，电话一三九。"),
        event("c1", m.RECORDING_SAVED, directory=str(tmp_path)),
    )
    (ticket,) = store.callbacks_due()
    assert (ticket.callback_number, str(ticket.callback_reason)) == ("13912345678", "voicemail")
    assert ticket.content == "我家水管爆了，电话一三九。"  # the message, decoded after hang-up
    assert ticket.recording_dir == str(tmp_path)
    assert ticket.transcript == "市民：我家水管爆了，电话一三九。"


async def test_priority_callers_are_served_first(
    bus: MemoryBus, clock: FakeClock, tmp_path
) -> None:
    from ivr.hub.call_tickets import CallTickets
    from tickets.store import TicketStore

    store = TicketStore(f"sqlite:///{tmp_path / 'tickets.db'}")
    config = settings(priority_key="9")
    hub = Hub(
        bus,
        NODE,
        clock=clock,
        options=FlowOptions(seats=True, priority_key="9"),
        seating=lambda flows: build_seating(config, flows),
        tickets=CallTickets(store),
        priority_numbers=["13700000000"],
    )
    await queued_call(hub, "first", caller="13600000001")
    clock.advance(1)
    await queued_call(hub, "listed", caller="13700000000")  # on the priority list
    clock.advance(1)
    await feed(
        hub,
        event("keyed", m.CALL_OFFERED, caller="13600000002", called="12345"),
        event("keyed", m.CALL_ANSWERED),
        event("keyed", m.DTMF, digit="9"),  # 老年人优先: the priority key
        event("keyed", m.DTMF, digit="0"),
    )
    clock.advance(1)
    await queued_call(hub, "again", caller="13600000001")  # called 3 s ago: a repeat caller
    queued = {
        c: call_events(bus, c, m.CALL_QUEUED)[-1].data["priority"]
        for c in ("first", "listed", "keyed", "again")
    }
    assert queued == {"first": 0, "listed": 2, "keyed": 2, "again": 1}
    await agent(hub, "1002", m.AGENT_LOGIN)
    assert dials(bus)[-1]["dial_id"] and hub.seating is not None
    assert hub.seating.acd.ringing_agent("listed") == "1002"  # marked, and earlier than keyed


async def test_a_caller_who_waited_the_longest_leaves_a_message(
    bus: MemoryBus, clock: FakeClock
) -> None:
    config = settings(callback=False)
    config = config.model_copy(
        update={
            "seat_groups": {
                "综合": config.seat_groups["综合"].model_copy(update={"max_wait_s": 20.0})
            }
        }
    )
    hub = hub_with(bus, clock, config, [MONDAY_10])
    await queued_call(hub, "c1")
    await feed(hub, event("c1", m.PROMPT_FINISHED, prompt="transfer_agent"))  # hold music
    clock.advance(20)
    await hub.tick()
    flow = hub.flows["c1"]
    assert flow.step is Step.VOICEMAIL
    plays = [d["prompt"] for k, d in commands_to(bus, "w1") if k == m.PLAY]
    assert plays[-1] == "voicemail_busy"
    # The hold music stopping is no cue to listen; the end of the message prompt is.
    await feed(hub, event("c1", m.PROMPT_FINISHED, prompt="hold_music", interrupted=True))

    def message_listens() -> list[dict]:
        return [d for k, d in commands_to(bus, "w1") if k == m.LISTEN and "max_speech_s" in d]

    assert message_listens() == []
    await feed(hub, event("c1", m.PROMPT_FINISHED, prompt="voicemail_busy"))
    assert len(message_listens()) == 1


async def test_queue_stats_are_published_retained_per_group(
    hub: Hub, bus: MemoryBus, clock: FakeClock
) -> None:
    from events import topics as t

    stats_topic = t.queue_stats("综合")

    def published() -> list:
        return [msg for topic, msg in bus.published if topic == stats_topic]

    await hub.tick()
    assert published() and published()[-1].data["waiting"] == 0
    assert bus._retained[stats_topic] is published()[-1]  # retained for late subscribers
    await queued_call(hub, "c1")
    await hub.tick()
    assert published()[-1].data["waiting"] == 1 and published()[-1].data["group"] == "综合"
    count = len(published())
    await hub.tick()  # nothing changed and not 5 s yet: not published again
    assert len(published()) == count
    clock.advance(5)
    await hub.tick()  # a call waits: republished every 5 s (its wait grows)
    assert len(published()) == count + 1


async def test_a_caller_unsure_then_silent_is_queued_to_an_agent_not_hung_up_on(
    bus: MemoryBus, clock: FakeClock
) -> None:
    """The reported call: the first turn understood at low confidence (公安), asked for
    details, then silence — the caller reaches an agent, with the first turn's words."""
    config = settings()

    def unsure(text: str) -> Understanding:
        return scripted(
            emergency=None, low_confidence=True, seat_group="公安", general_seat_group="综合"
        )

    hub = Hub(
        bus,
        NODE,
        clock=clock,
        options=FlowOptions(seats=True, barge_in=False),
        understand=unsure,
        seating=lambda flows: build_seating(config, flows),
        render=lambda text: f"dynamic/{len(text)}",
    )
    await agent(hub, "1002", m.AGENT_LOGIN)
    await feed(
        hub,
        event("c1", m.CALL_OFFERED, caller="13800138000", called="12345"),
        event("c1", m.CALL_ANSWERED),
        event("c1", m.PROMPT_FINISHED, prompt="greeting", interrupted=False),
        event("c1", m.ASR_FINAL, leg="caller", turn=1, text="门口一直有人", substantive=True),
    )
    await hub.settle()
    assert hub.flows["c1"].step is Step.ASKING_AGAIN
    await feed(
        hub,
        event("c1", m.PROMPT_FINISHED, prompt="ask_detail", interrupted=False),
        event("c1", m.LISTEN_TIMEOUT),
    )
    await hub.settle()
    flow = hub.flows["c1"]
    assert flow.step is Step.QUEUED and flow.seat_group == "综合"
    assert [line["text"] for line in flow.transcript] == ["门口一直有人"]
    prompts = [d["prompt"] for kind, d in commands_to(bus, "w1") if kind == m.PLAY]
    assert "no_input" not in prompts and prompts[-1] == "transfer_agent"
    assert not [d for kind, d in commands_to(bus, "w1") if kind == m.HANGUP]
    (dial,) = dials(bus)
    assert dial["agent_id"] == "1002"  # and the agent's phone rings
