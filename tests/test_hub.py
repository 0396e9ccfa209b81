"""ivr.hub.hub: the hub's call logic over an in-memory bus, with a fake clock and a fake worker."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from call_routing.understanding import Understanding
from events import messages as m
from events import topics
from events.memory import MemoryBus
from events.messages import Message
from ivr.hub.flow import FlowOptions, Step
from ivr.hub.hub import Hub
from recordings.transcript import read_transcript
from tests.support.clock import FakeClock
from tests.support.fake_worker import FakeWorker, running
from tests.support.hub_messages import NODE, call_events, commands_to, event, worker_status
from tests.support.understanding import scripted


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bus() -> MemoryBus:
    return MemoryBus()


@pytest.fixture
def hub(bus: MemoryBus, clock: FakeClock) -> Hub:
    """Without barge-in: the worker is told to listen after each prompt."""
    return Hub(bus, NODE, clock=clock, options=FlowOptions(barge_in=False))


async def feed(hub: Hub, *items: tuple[str, Message]) -> None:
    for topic, message in items:
        await hub.on_message(topic, message)


async def offered(hub: Hub, call_id: str = "c1", worker: str = "w1") -> None:
    await feed(hub, event(call_id, m.CALL_OFFERED, worker, caller="13800138000", called="12345"))


# ---- single messages in, commands out ---------------------------------------------------


async def test_offered_call_is_answered_on_the_workers_command_topic(
    hub: Hub, bus: MemoryBus
) -> None:
    await offered(hub, "c1", "w1")

    assert commands_to(bus, "w1") == [(m.ANSWER, {"call_id": "c1"})]
    (topic, command) = next((t, msg) for t, msg in bus.published if msg.type == m.ANSWER)
    assert command.node == NODE
    steps = call_events(bus, "c1", m.FLOW_STEP)
    assert [s.data for s in steps] == [{"call_id": "c1", "worker": "w1", "step": "answering"}]
    assert hub.flows["c1"].caller == "13800138000"


async def test_commands_follow_the_call_through_its_steps(hub: Hub, bus: MemoryBus) -> None:
    await offered(hub)
    await feed(
        hub,
        event("c1", m.CALL_ANSWERED),
        event("c1", m.PROMPT_STARTED, prompt="greeting"),
        event("c1", m.PROMPT_FINISHED, prompt="greeting", interrupted=False),
        event("c1", m.SPEECH_ENDED, speech_ms=2500),
        event("c1", m.PROMPT_FINISHED, prompt="closing", interrupted=False),
        event("c1", m.CALL_ENDED, reason="local_hangup"),
    )

    assert [c for c, _ in commands_to(bus, "w1")] == [m.ANSWER, m.PLAY, m.LISTEN, m.PLAY, m.HANGUP]
    plays = [d["prompt"] for c, d in commands_to(bus, "w1") if c == m.PLAY]
    assert plays == ["greeting", "closing"]
    assert commands_to(bus, "w1")[-1][1] == {"call_id": "c1", "reason": "flow_complete"}
    assert "c1" not in hub.flows
    assert hub.finished["c1"].step is Step.ENDED
    assert hub.finished["c1"].speech_ms == 2500


async def test_commands_go_to_the_worker_holding_the_call(hub: Hub, bus: MemoryBus) -> None:
    await offered(hub, "c1", "w1")
    await offered(hub, "c2", "w2")
    await feed(hub, event("c2", m.CALL_ANSWERED, "w2"))

    assert commands_to(bus, "w1") == [(m.ANSWER, {"call_id": "c1"})]
    assert commands_to(bus, "w2") == [
        (m.ANSWER, {"call_id": "c2"}),
        (m.PLAY, {"call_id": "c2", "prompt": "greeting"}),
    ]


async def test_duplicate_message_ids_are_ignored(hub: Hub, bus: MemoryBus) -> None:
    topic, message = event("c1", m.CALL_OFFERED)
    await feed(hub, (topic, message), (topic, message))
    answered = event("c1", m.CALL_ANSWERED)
    await feed(hub, answered, answered)

    assert [c for c, _ in commands_to(bus, "w1")] == [m.ANSWER, m.PLAY]


async def test_same_event_with_a_new_id_is_handled(hub: Hub, bus: MemoryBus) -> None:
    await offered(hub)
    await feed(hub, event("c1", m.CALL_ANSWERED))
    await feed(hub, event("c1", m.PROMPT_FINISHED, prompt="greeting"))
    await feed(hub, event("c1", m.DTMF, digit="0"))
    await feed(hub, event("c1", m.DTMF, digit="0"))  # pressed again: a different message

    assert len(call_events(bus, "c1", m.AGENT_REQUESTED)) == 1


async def test_events_for_unknown_calls_are_ignored(hub: Hub, bus: MemoryBus) -> None:
    await feed(
        hub,
        event("ghost", m.CALL_ANSWERED),
        event("ghost", m.PROMPT_FINISHED),
        event("ghost", m.CALL_ENDED, reason="caller_hangup"),
    )

    assert bus.published == []
    assert hub.flows == {}


async def test_events_on_other_topics_are_not_call_events(hub: Hub, bus: MemoryBus) -> None:
    _, message = event("c1", m.CALL_OFFERED)

    await hub.on_message(topics.worker_replies("w1"), message)

    assert bus.published == []


async def test_key_0_publishes_agent_requested(hub: Hub, bus: MemoryBus) -> None:
    await offered(hub)
    await feed(
        hub,
        event("c1", m.CALL_ANSWERED),
        event("c1", m.PROMPT_FINISHED, prompt="greeting"),
        event("c1", m.DTMF, digit="0", method="rfc2833"),
    )

    (request,) = call_events(bus, "c1", m.AGENT_REQUESTED)
    assert request.data == {"call_id": "c1", "worker": "w1", "digit": "0"}
    assert commands_to(bus, "w1")[-2:] == [
        (m.STOP_LISTENING, {"call_id": "c1"}),
        (m.PLAY, {"call_id": "c1", "prompt": "agent_unavailable"}),
    ]


async def test_refused_command_is_logged(
    hub: Hub, bus: MemoryBus, caplog: pytest.LogCaptureFixture
) -> None:
    reply = Message(
        m.COMMAND_REPLY,
        {"command_id": "x", "command": m.PLAY, "call_id": "c1", "ok": False, "error": "no file"},
    )
    with caplog.at_level(logging.WARNING, logger="hub"):
        await hub.on_message(topics.worker_replies("w1"), reply)
        await hub.on_message(
            topics.worker_replies("w1"),
            Message(m.COMMAND_REPLY, {"command_id": "y", "command": m.ANSWER, "ok": True}),
        )

    assert [r.getMessage() for r in caplog.records] == ["worker refused a command"]
    assert bus.published == []


# ---- worker status ------------------------------------------------------------------------


def worker_up(worker: str, pid: int, calls: list[str]) -> tuple[str, Message]:
    topic, message = worker_status(
        worker, "up", [{"call_id": c, "state": "answered"} for c in calls]
    )
    message.data["pid"] = pid
    return topic, message


async def test_worker_down_ends_only_that_workers_calls_after_a_grace(
    hub: Hub, bus: MemoryBus, clock: FakeClock
) -> None:
    await feed(hub, worker_up("w1", 100, []), worker_up("w2", 200, []))
    await offered(hub, "c1", "w1")
    await offered(hub, "c2", "w1")
    await offered(hub, "c3", "w2")

    await feed(hub, worker_status("w1", "down"))  # its last will
    assert set(hub.flows) == {"c1", "c2", "c3"}  # maybe only its link went: not yet
    clock.advance(hub.worker_grace_s)
    await hub.tick()

    assert set(hub.flows) == {"c3"}
    for call_id in ("c1", "c2"):
        assert hub.finished[call_id].step is Step.ENDED
        assert hub.finished[call_id].end_reason == "worker_lost"
        assert call_events(bus, call_id, m.CALL_TRANSCRIPT)  # the lost call is reported
    assert not [k for k, _ in commands_to(bus, "w1") if k == m.HANGUP]  # nobody to command
    published = len(bus.published)
    await feed(hub, event("c1", m.CALL_ANSWERED))  # late events change nothing
    assert len(bus.published) == published


async def test_a_worker_that_comes_back_keeps_its_calls(hub: Hub, clock: FakeClock) -> None:
    """A broker going down sends every client's will: the worker was fine."""
    await feed(hub, worker_up("w1", 100, []))
    await offered(hub, "c1", "w1")
    await feed(hub, worker_status("w1", "down"))
    clock.advance(5)
    await feed(hub, worker_up("w1", 100, ["c1"]))  # reconnected, same process, same call
    clock.advance(hub.worker_grace_s)
    await hub.tick()
    assert "c1" in hub.flows


async def test_a_restarted_worker_process_ends_the_old_ones_calls_at_once(hub: Hub) -> None:
    await feed(hub, worker_up("w1", 100, []))
    await offered(hub, "c1", "w1")
    await feed(hub, worker_up("w1", 101, []))  # the supervisor restarted it: a new pid
    assert "c1" not in hub.flows and hub.finished["c1"].end_reason == "worker_lost"


async def test_answered_call_unknown_to_the_hub_is_adopted(hub: Hub, bus: MemoryBus) -> None:
    await feed(
        hub,
        worker_status(
            "w1",
            calls=[
                {"call_id": "old", "state": "answered", "caller": "13900139000", "since": 1.0},
                {"call_id": "new", "state": "offered", "caller": "13700137000", "since": 2.0},
            ],
        ),
    )

    assert commands_to(bus, "w1") == [
        (m.STOP_LISTENING, {"call_id": "old"}),
        (m.PLAY, {"call_id": "old", "prompt": "closing"}),
    ]
    assert set(hub.flows) == {"old"}
    assert hub.flows["old"].caller == "13900139000"
    assert hub.flows["old"].step is Step.CLOSING
    assert hub.workers["w1"]["capacity"] == 4

    # The adopted call then ends like any other.
    await feed(hub, event("old", m.PROMPT_FINISHED, prompt="closing"))
    assert commands_to(bus, "w1")[-1] == (m.HANGUP, {"call_id": "old", "reason": "flow_complete"})


async def test_calls_the_hub_knows_are_not_adopted_again(hub: Hub, bus: MemoryBus) -> None:
    await offered(hub, "c1", "w1")
    await offered(hub, "c2", "w1")
    await feed(hub, event("c2", m.CALL_ENDED, reason="caller_hangup"))
    published_before = len(bus.published)

    await feed(
        hub,
        worker_status(
            "w1",
            calls=[{"call_id": "c1", "state": "answered"}, {"call_id": "c2", "state": "answered"}],
        ),
    )

    assert len(bus.published) == published_before
    assert hub.flows["c1"].step is Step.ANSWERING


# ---- timers --------------------------------------------------------------------------------


async def test_tick_before_the_deadline_sends_nothing(
    hub: Hub, bus: MemoryBus, clock: FakeClock
) -> None:
    await offered(hub)
    published_before = len(bus.published)

    clock.advance(9.9)
    await hub.tick()

    assert len(bus.published) == published_before


async def test_tick_after_the_deadline_hangs_up(hub: Hub, bus: MemoryBus, clock: FakeClock) -> None:
    await offered(hub, "slow", "w1")
    clock.advance(5)
    await offered(hub, "fresh", "w2")
    clock.advance(5)  # "slow" waited 10 s for its answer, "fresh" only 5

    await hub.tick()

    assert commands_to(bus, "w1")[-1] == (
        m.HANGUP,
        {"call_id": "slow", "reason": "timeout_in_answering"},
    )
    assert commands_to(bus, "w2") == [(m.ANSWER, {"call_id": "fresh"})]
    assert call_events(bus, "slow", m.FLOW_STEP)[-1].data["step"] == "hanging_up"

    await hub.tick()  # once is enough
    assert len(commands_to(bus, "w1")) == 2


def test_status_lists_the_flows(hub: Hub) -> None:
    message = hub.status("up")

    assert message.type == m.HUB_STATUS
    assert message.data["state"] == "up"
    assert message.data["calls"] == 0
    assert message.node == NODE


async def test_status_lists_active_flows(hub: Hub) -> None:
    await offered(hub, "c1")

    assert hub.status("up").data["flows"] == {"c1": "answering"}


# ---- a whole call through the bus, against a fake worker ---------------------------------


async def until(condition: Callable[[], bool], timeout: float = 1.0) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.001)

    await asyncio.wait_for(wait(), timeout)


@pytest.mark.parametrize(
    ("caller", "expected", "end"),
    [
        (
            "speaks",
            ["answer", "play:greeting", "listen", "play:closing", "hangup"],
            "flow_complete",
        ),
        (
            "silent",
            [
                "answer",
                "play:greeting",
                "listen",
                "play:ask_again",
                "listen",
                "play:no_input",
                "hangup",
            ],
            "flow_complete",
        ),
        (
            "presses_0_in_greeting",
            ["answer", "play:greeting", "play:agent_unavailable", "hangup"],
            "flow_complete",
        ),
        (
            "presses_0_while_listening",
            [
                "answer",
                "play:greeting",
                "listen",
                "stop_listening",
                "play:agent_unavailable",
                "hangup",
            ],
            "flow_complete",
        ),
    ],
)
async def test_whole_call_against_a_fake_worker(
    bus: MemoryBus, hub: Hub, caller: str, expected: list[str], end: str
) -> None:
    worker = FakeWorker(bus, "w1", caller=caller)

    async with running(bus, hub, worker):
        await worker.offer("c1")
        await until(lambda: "c1" in hub.finished)

    assert worker.commands() == expected
    assert worker.ended == {"c1": end}
    assert hub.flows == {}
    assert hub.finished["c1"].end_reason == end
    assert hub.finished["c1"].agent_requested is caller.startswith("presses_0")
    # Every command the worker carried out, it acknowledged.
    replies = [msg for t, msg in bus.published if t == topics.worker_replies("w1")]
    assert [r.data["ok"] for r in replies] == [True] * len(expected)


async def test_two_workers_two_calls_at_once(bus: MemoryBus, hub: Hub) -> None:
    w1 = FakeWorker(bus, "w1", caller="speaks")
    w2 = FakeWorker(bus, "w2", caller="silent")

    async with running(bus, hub, w1, w2):
        await w1.offer("a")
        await w2.offer("b")
        await w1.offer("c")
        await until(lambda: {"a", "b", "c"} <= set(hub.finished))

    assert {msg.call_id for msg in w1.received} == {"a", "c"}
    assert {msg.call_id for msg in w2.received} == {"b"}
    assert "play:no_input" in w2.commands()
    assert "play:no_input" not in w1.commands()


async def test_hub_restart_adopts_the_call_from_the_retained_status(
    bus: MemoryBus, clock: FakeClock
) -> None:
    """The worker's retained status reaches a new hub, which closes the call politely."""
    worker = FakeWorker(bus, "w1")
    worker.calls["c-before"] = "answered"
    await bus.publish(
        *worker_status(
            "w1", calls=[{"call_id": "c-before", "state": "answered", "caller": "13800138000"}]
        ),
        retain=True,
    )
    hub = Hub(bus, NODE, clock=clock)

    async with running(bus, hub, worker):
        await until(lambda: "c-before" in hub.finished)

    assert worker.commands() == ["stop_listening", "play:closing", "hangup"]
    assert worker.ended == {"c-before": "flow_complete"}


async def test_worker_that_never_answers_is_hung_up_on_tick(
    bus: MemoryBus, hub: Hub, clock: FakeClock
) -> None:
    """A worker that stops replying mid-call: the hub's timers end the call."""
    worker = FakeWorker(bus, "w1", stuck=True)

    async with running(bus, hub, worker):
        await worker.offer("c1")
        await until(lambda: worker.commands() == ["answer"])
        await hub.tick()
        assert worker.commands() == ["answer"]

        clock.advance(10.0)
        await hub.tick()
        await until(lambda: "c1" in hub.finished)

    assert worker.commands() == ["answer", "hangup"]
    assert worker.ended == {"c1": "timeout_in_answering"}


async def test_barge_in_listens_during_the_greeting(bus: MemoryBus, clock: FakeClock) -> None:
    hub = Hub(bus, NODE, clock=clock, options=FlowOptions(barge_in=True))
    worker = FakeWorker(bus, "w1", caller="speaks")

    async with running(bus, hub, worker):
        await worker.offer("c1")
        await until(lambda: "c1" in hub.finished)

    assert worker.commands() == ["answer", "play:greeting", "listen", "play:closing", "hangup"]
    listen = next(c for c in worker.received if c.type == m.LISTEN)
    assert listen.data["barge_in"] is True and listen.data["turn"] == 1


async def test_transcript_is_published_and_saved_beside_the_recordings(
    hub: Hub, bus: MemoryBus, tmp_path: Path
) -> None:
    await offered(hub)
    await feed(
        hub,
        event("c1", m.CALL_ANSWERED),
        event("c1", m.PROMPT_FINISHED, prompt="greeting", interrupted=False),
        event("c1", m.ASR_STREAMING, turn=1),
        event(
            "c1",
            m.ASR_FINAL,
            leg="caller",
            turn=1,
            text="喂，我家楼下路灯坏了。",
            content="我家楼下路灯坏了",
            fillers=[[0, 1]],
            substantive=True,
            start_s=0.4,
            end_s=3.1,
            confidence=0.71,
            engine="whisper-base",
        ),
        event("c1", m.PROMPT_FINISHED, prompt="closing", interrupted=False),
        event("c1", m.CALL_ENDED, reason="local_hangup"),
    )
    (published,) = call_events(bus, "c1", m.CALL_TRANSCRIPT)
    assert published.data["understood"] is True
    assert published.data["lines"][0]["content"] == "我家楼下路灯坏了"

    await feed(hub, event("c1", m.RECORDING_SAVED, directory=str(tmp_path), status="complete"))
    saved = read_transcript(tmp_path)
    assert saved["call_id"] == "c1" and saved["end_reason"] == "local_hangup"
    (line,) = saved["lines"]
    assert (line["text"], line["start_s"], line["end_s"], line["confidence"]) == (
        "喂，我家楼下路灯坏了。",
        0.4,
        3.1,
        0.71,
    )
    assert line["fillers"] == [[0, 1]]


class YieldingBus(MemoryBus):
    """Publishing yields to the event loop, as a real broker client does."""

    async def publish(self, topic: str, message: Message, *, retain: bool = False) -> None:
        await asyncio.sleep(0)
        await super().publish(topic, message, retain=retain)


async def test_call_ended_while_the_tick_runs_is_finished_once(clock: FakeClock) -> None:
    """The tick and a call.ended may interleave at an await; neither may crash the hub."""
    bus = YieldingBus()
    hub = Hub(bus, NODE, clock=clock, options=FlowOptions(barge_in=False))
    await offered(hub)
    await feed(hub, event("c1", m.CALL_ANSWERED))
    topic, ended = event("c1", m.CALL_ENDED, reason="remote_hangup")
    await asyncio.gather(hub.on_message(topic, ended), hub.tick(), hub.tick())
    assert "c1" not in hub.flows and hub.finished["c1"].end_reason == "remote_hangup"
    assert len(call_events(bus, "c1", m.CALL_TRANSCRIPT)) == 1


async def test_the_hub_understands_what_the_caller_said_so_far(
    bus: MemoryBus, clock: FakeClock
) -> None:
    heard: list[str] = []

    def understand(text: str) -> Understanding:
        heard.append(text)
        return scripted(emergency="119", low_confidence=False, seat_group="城建")

    hub = Hub(bus, NODE, clock=clock, options=FlowOptions(barge_in=False), understand=understand)
    await offered(hub)
    await feed(
        hub,
        event("c1", m.CALL_ANSWERED),
        event("c1", m.PROMPT_FINISHED, prompt="greeting", interrupted=False),
        event("c1", m.ASR_FINAL, leg="caller", turn=1, text="喂？", content="", substantive=False),
        event(
            "c1",
            m.ASR_FINAL,
            leg="caller",
            turn=1,
            text="楼下着火了",
            content="楼下着火了",
            substantive=True,
        ),
    )
    assert heard == ["楼下着火了"], "fillers are not part of what the caller asks"
    (published,) = call_events(bus, "c1", m.CALL_UNDERSTOOD)
    assert published.data["emergency"] == "119"
    plays = [d["prompt"] for c, d in commands_to(bus, "w1") if c == m.PLAY]
    assert plays[-1] == "emergency_119"


async def test_a_failing_model_does_not_lose_the_call(bus: MemoryBus, clock: FakeClock) -> None:
    def understand(text: str) -> Understanding:
        raise RuntimeError("model broken")

    hub = Hub(bus, NODE, clock=clock, options=FlowOptions(barge_in=False), understand=understand)
    await offered(hub)
    await feed(
        hub,
        event("c1", m.CALL_ANSWERED),
        event("c1", m.PROMPT_FINISHED, prompt="greeting", interrupted=False),
        event("c1", m.ASR_FINAL, leg="caller", turn=1, text="路灯坏了", substantive=True),
    )
    plays = [d["prompt"] for c, d in commands_to(bus, "w1") if c == m.PLAY]
    assert plays[-1] == "closing"


def _understand_lights(text: str) -> Understanding:
    return scripted(
        request_type="投诉",
        domain="城乡建设",
        category={"code": "CX05", "name": "路灯照明"},
        seat_group="城建",
        departments=["城市管理和综合执法局", "住房和城乡建设局"],
        emergency=None,
        low_confidence=False,
        summary="投诉：小区门口路灯坏了",
        slots={"addresses": [{"address": "天河区幸福小区", "text": "幸福小区"}]},
    )


async def test_an_understood_call_gets_a_draft_ticket_before_it_is_queued(
    bus: MemoryBus, clock: FakeClock, tmp_path: Path
) -> None:
    from ivr.hub.call_tickets import CallTickets
    from tickets.store import TicketStore

    store = TicketStore(f"sqlite:///{tmp_path / 'tickets.db'}")
    hub = Hub(
        bus,
        NODE,
        clock=clock,
        options=FlowOptions(barge_in=False),
        understand=_understand_lights,
        tickets=CallTickets(store),
    )
    await offered(hub)
    await feed(
        hub,
        event("c1", m.CALL_ANSWERED),
        event("c1", m.PROMPT_FINISHED, prompt="greeting", interrupted=False),
        event(
            "c1",
            m.ASR_FINAL,
            leg="caller",
            turn=1,
            text="喂，我们小区门口的路灯坏了。",
            content="我们小区门口的路灯坏了",
            substantive=True,
        ),
    )
    (drafted,) = call_events(bus, "c1", m.TICKET_DRAFTED)
    number = drafted.data["number"]
    assert hub.flows["c1"].ticket == number and not drafted.data["needs_agent_review"]
    ticket = store.get(number)
    assert (ticket.domain, ticket.category_code, ticket.lead_department) == (
        "城乡建设",
        "CX05",
        "城市管理和综合执法局",
    )
    assert ticket.content == "我们小区门口的路灯坏了" and ticket.caller_number == "13800138000"
    assert ticket.address == "天河区幸福小区" and ticket.call_id == "c1"

    await feed(
        hub,
        event("c1", m.PROMPT_FINISHED, prompt="closing", interrupted=False),
        event("c1", m.CALL_ENDED, reason="local_hangup"),
        event("c1", m.RECORDING_SAVED, directory=str(tmp_path), status="complete"),
    )
    assert store.get(number).recording_dir == str(tmp_path)
    assert len(store.find()) == 1, "one ticket per call"


async def test_a_call_with_nothing_understood_still_gets_a_ticket_for_an_agent(
    bus: MemoryBus, clock: FakeClock, tmp_path: Path
) -> None:
    from ivr.hub.call_tickets import CallTickets
    from tickets.store import TicketStore

    store = TicketStore(f"sqlite:///{tmp_path / 'tickets.db'}")
    hub = Hub(
        bus, NODE, clock=clock, options=FlowOptions(barge_in=False), tickets=CallTickets(store)
    )
    await offered(hub)
    await feed(
        hub,
        event("c1", m.CALL_ANSWERED),
        event("c1", m.PROMPT_FINISHED, prompt="greeting", interrupted=False),
        event("c1", m.CALL_ENDED, reason="remote_hangup"),
    )
    (ticket,) = store.find()
    assert ticket.needs_agent_review and ticket.call_id == "c1" and ticket.content == ""


async def test_a_slow_model_for_one_call_does_not_hold_up_the_next_callers_answer(
    bus: MemoryBus, clock: FakeClock
) -> None:
    import threading

    release = threading.Event()

    def slow_understand(text: str) -> Understanding:
        release.wait(5)  # the model (or the ticket store) is slow for this call
        return scripted(emergency=None, low_confidence=False, seat_group="城建")

    hub = Hub(
        bus,
        NODE,
        clock=clock,
        options=FlowOptions(barge_in=False),
        understand=slow_understand,
        concurrent_calls=True,
    )
    await offered(hub, "slow")
    await feed(
        hub,
        event("slow", m.CALL_ANSWERED),
        event("slow", m.PROMPT_FINISHED, prompt="greeting", interrupted=False),
        event("slow", m.ASR_FINAL, leg="caller", turn=1, text="路灯坏了", substantive=True),
    )
    await offered(hub, "next")
    for _ in range(100):
        await asyncio.sleep(0.01)
        if (m.ANSWER, {"call_id": "next"}) in commands_to(bus, "w1"):
            break
    assert (m.ANSWER, {"call_id": "next"}) in commands_to(bus, "w1"), "answered meanwhile"
    assert hub.flows["slow"].step is Step.LISTENING, "still waiting for its understanding"
    release.set()
    await hub.settle()
    assert hub.flows["slow"].step is Step.CLOSING
    assert [c for c, d in commands_to(bus, "w1") if d["call_id"] == "slow"][-1] == m.PLAY


async def test_a_finished_call_is_catalogued_for_qa(
    bus: MemoryBus, clock: FakeClock, tmp_path: Path
) -> None:
    from recordings.catalog import CallCatalog
    from tests.support.calls import make_call

    root = tmp_path / "recordings"
    directory = make_call(root, "c1", caller="13912345678")
    catalog = CallCatalog(f"sqlite:///{tmp_path / 'calls.db'}")
    hub = Hub(bus, NODE, clock=clock, catalog=catalog, recordings_root=root)
    await offered(hub)
    await feed(
        hub,
        event("c1", m.CALL_ANSWERED),
        event("c1", m.CALL_ENDED, reason="remote_hangup"),
        event("c1", m.RECORDING_SAVED, directory=str(directory)),
    )
    assert catalog.get("c1").caller == "13912345678"
