"""ivr.flow: the call flow as pure logic, driven with virtual time."""

from __future__ import annotations

from typing import Any

import pytest

from events import messages as m
from ivr.flow import CallFlow, Command, FlowTimeouts, Step

TIMEOUTS = FlowTimeouts(answer_s=10.0, prompt_s=120.0, listen_s=150.0, hangup_s=15.0)


def play(prompt: str) -> Command:
    return Command(m.PLAY, {"prompt": prompt})


def hangup(reason: str) -> Command:
    return Command(m.HANGUP, {"reason": reason})


def new_flow() -> CallFlow:
    return CallFlow("call-1", worker="w1", timeouts=TIMEOUTS)


def drive(flow: CallFlow, *events: tuple[str, dict[str, Any], float]) -> list[Command]:
    commands: list[Command] = []
    for event, data, now in events:
        commands = flow.on_event(event, data, now)
    return commands


def greeting(flow: CallFlow) -> CallFlow:
    drive(
        flow,
        (m.CALL_OFFERED, {"caller": "13800138000", "called": "12345"}, 0.0),
        (m.CALL_ANSWERED, {}, 0.5),
    )
    assert flow.step is Step.GREETING
    return flow


def listening(flow: CallFlow) -> CallFlow:
    greeting(flow)
    flow.on_event(m.PROMPT_FINISHED, {"prompt": "greeting"}, 6.0)
    assert flow.step is Step.LISTENING
    return flow


def closing(flow: CallFlow) -> CallFlow:
    listening(flow)
    flow.on_event(m.SPEECH_ENDED, {"speech_ms": 4200}, 12.0)
    assert flow.step is Step.CLOSING
    return flow


# ---- the happy path ----------------------------------------------------------------------


def test_happy_path_step_by_step() -> None:
    flow = new_flow()

    assert flow.on_event(m.CALL_OFFERED, {"caller": "13800138000", "called": "12345"}, 0.0) == [
        Command(m.ANSWER)
    ]
    assert (flow.step, flow.caller, flow.called) == (Step.ANSWERING, "13800138000", "12345")
    assert flow.deadline == 10.0

    assert flow.on_event(m.CALL_ANSWERED, {}, 0.4) == [play("greeting")]
    assert flow.step is Step.GREETING
    assert flow.deadline == pytest.approx(120.4)

    assert flow.on_event(m.PROMPT_STARTED, {"prompt": "greeting"}, 0.5) == []
    assert flow.on_event(m.PROMPT_FINISHED, {"prompt": "greeting"}, 6.0) == [Command(m.LISTEN)]
    assert flow.step is Step.LISTENING
    assert flow.deadline == 156.0

    assert flow.on_event(m.SPEECH_STARTED, {}, 7.0) == []
    assert flow.on_event(m.SPEECH_ENDED, {"speech_ms": 4200}, 12.0) == [play("closing")]
    assert flow.step is Step.CLOSING
    assert flow.speech_ms == 4200

    assert flow.on_event(m.PROMPT_FINISHED, {"prompt": "closing"}, 16.0) == [
        hangup("flow_complete")
    ]
    assert flow.step is Step.HANGING_UP
    assert flow.deadline == 31.0

    assert flow.on_event(m.CALL_ENDED, {"reason": "local_hangup"}, 16.2) == []
    assert flow.step is Step.ENDED
    assert flow.end_reason == "local_hangup"
    assert flow.deadline is None
    assert [step for _, step in flow.history] == [
        "answering",
        "greeting",
        "listening",
        "closing",
        "hanging_up",
        "ended",
    ]


def test_nothing_happens_after_the_call_ended() -> None:
    flow = closing(new_flow())
    flow.on_event(m.CALL_ENDED, {"reason": "caller_hangup"}, 13.0)

    for event, data in [
        (m.PROMPT_FINISHED, {}),
        (m.DTMF, {"digit": "0"}),
        (m.CALL_ANSWERED, {}),
        (m.CALL_OFFERED, {}),
        (m.PROMPT_FAILED, {}),
    ]:
        assert flow.on_event(event, data, 14.0) == []
    assert flow.on_tick(10_000.0) == []
    assert flow.step is Step.ENDED
    assert flow.agent_requested is False


def test_caller_hanging_up_mid_greeting_ends_the_flow() -> None:
    flow = greeting(new_flow())

    assert flow.on_event(m.CALL_ENDED, {"reason": "caller_hangup"}, 2.0) == []
    assert flow.step is Step.ENDED
    assert flow.end_reason == "caller_hangup"


# ---- other paths ---------------------------------------------------------------------------


def test_listen_timeout_plays_no_input() -> None:
    flow = listening(new_flow())

    assert flow.on_event(m.LISTEN_TIMEOUT, {}, 14.0) == [play("no_input")]
    assert flow.step is Step.CLOSING
    assert flow.on_event(m.PROMPT_FINISHED, {"prompt": "no_input"}, 19.0) == [
        hangup("flow_complete")
    ]


def test_speech_and_timeouts_outside_listening_are_ignored() -> None:
    flow = greeting(new_flow())

    assert flow.on_event(m.SPEECH_ENDED, {"speech_ms": 900}, 1.0) == []
    assert flow.on_event(m.LISTEN_TIMEOUT, {}, 1.0) == []
    assert flow.step is Step.GREETING
    assert flow.speech_ms == 0


def test_answered_twice_plays_the_greeting_once() -> None:
    flow = greeting(new_flow())

    assert flow.on_event(m.CALL_ANSWERED, {}, 1.0) == []
    assert flow.step is Step.GREETING


@pytest.mark.parametrize("setup", [greeting, closing], ids=["greeting", "closing"])
def test_interrupted_prompt_finished_does_nothing(setup) -> None:
    flow = setup(new_flow())
    step = flow.step

    assert flow.on_event(m.PROMPT_FINISHED, {"interrupted": True}, 20.0) == []
    assert flow.step is step


@pytest.mark.parametrize("setup", [greeting, closing], ids=["greeting", "closing"])
def test_prompt_failed_hangs_up(setup) -> None:
    flow = setup(new_flow())

    assert flow.on_event(m.PROMPT_FAILED, {"error": "no file"}, 20.0) == [hangup("prompt_failed")]
    assert flow.step is Step.HANGING_UP


def test_unknown_events_do_nothing() -> None:
    flow = listening(new_flow())

    assert flow.on_event("asr.partial", {"text": "路灯"}, 8.0) == []
    assert flow.on_event(m.CALL_MEDIA, {"codec": "PCMA"}, 8.0) == []
    assert flow.step is Step.LISTENING


# ---- key 0 ---------------------------------------------------------------------------------


def test_key_0_during_greeting_tells_the_caller_no_agent_is_free() -> None:
    flow = greeting(new_flow())

    assert flow.on_event(m.DTMF, {"digit": "0"}, 2.0) == [play("agent_unavailable")]
    assert flow.agent_requested is True
    assert flow.step is Step.CLOSING


def test_key_0_while_listening_stops_listening_first() -> None:
    flow = listening(new_flow())

    assert flow.on_event(m.DTMF, {"digit": "0"}, 8.0) == [
        Command(m.STOP_LISTENING),
        play("agent_unavailable"),
    ]
    assert flow.agent_requested is True
    assert flow.step is Step.CLOSING


def test_key_0_counts_once_only() -> None:
    flow = listening(new_flow())
    flow.on_event(m.DTMF, {"digit": "0"}, 8.0)

    assert flow.on_event(m.DTMF, {"digit": "0"}, 8.5) == []
    assert flow.step is Step.CLOSING


def test_key_0_while_closing_is_noted_without_commands() -> None:
    flow = closing(new_flow())

    assert flow.on_event(m.DTMF, {"digit": "0"}, 13.0) == []
    assert flow.agent_requested is True
    assert flow.step is Step.CLOSING


@pytest.mark.parametrize("digit", ["1", "9", "*", "#", "", "00"])
def test_other_digits_do_nothing(digit: str) -> None:
    flow = listening(new_flow())

    assert flow.on_event(m.DTMF, {"digit": digit}, 8.0) == []
    assert flow.agent_requested is False
    assert flow.step is Step.LISTENING


# ---- timers ----------------------------------------------------------------------------


def test_tick_before_the_deadline_does_nothing() -> None:
    flow = new_flow()
    flow.on_event(m.CALL_OFFERED, {}, 100.0)

    assert flow.on_tick(100.0) == []
    assert flow.on_tick(109.999) == []
    assert flow.step is Step.ANSWERING


@pytest.mark.parametrize(
    ("setup", "late", "step"),
    [
        (lambda f: f.on_event(m.CALL_OFFERED, {}, 0.0), 10.0, "answering"),
        (greeting, 0.5 + 120.0, "greeting"),
        (listening, 6.0 + 150.0, "listening"),
        (closing, 12.0 + 120.0, "closing"),
    ],
    ids=["answering", "greeting", "listening", "closing"],
)
def test_tick_after_the_deadline_hangs_up(setup, late: float, step: str) -> None:
    flow = new_flow()
    setup(flow)

    assert flow.on_tick(late - 0.01) == []
    assert flow.on_tick(late) == [hangup(f"timeout_in_{step}")]
    assert flow.step is Step.HANGING_UP


def test_hangup_timeout_gives_up_without_repeating() -> None:
    flow = closing(new_flow())
    flow.on_event(m.PROMPT_FINISHED, {}, 20.0)

    assert flow.on_tick(35.0) == []  # the worker never confirmed: nothing more to send
    assert flow.deadline is None
    assert flow.on_tick(1000.0) == []


def test_each_step_restarts_the_deadline() -> None:
    flow = greeting(new_flow())
    flow.on_event(m.PROMPT_FINISHED, {}, 100.0)  # a long greeting, still within its limit

    assert flow.on_tick(200.0) == []  # past the greeting's deadline, inside listening's
    assert flow.deadline == 250.0


# ---- adoption ------------------------------------------------------------------------------


def test_adopt_closes_politely() -> None:
    flow = CallFlow("call-9", worker="w2", timeouts=TIMEOUTS)

    commands = flow.adopt(50.0)

    assert commands == [Command(m.STOP_LISTENING), play("closing")]
    assert flow.step is Step.CLOSING
    assert flow.deadline == 170.0
    assert flow.history[0] == (50.0, "adopted")
    assert flow.on_event(m.PROMPT_FINISHED, {"prompt": "closing"}, 55.0) == [
        hangup("flow_complete")
    ]


def test_unconfirmed_hangup_ends_the_flow_after_its_deadline() -> None:
    flow = CallFlow("c1", "w1")
    flow.on_event(m.CALL_OFFERED, {}, 0.0)
    flow.on_event(m.CALL_ANSWERED, {}, 1.0)
    (hangup,) = flow.on_tick(1.0 + flow.timeouts.prompt_s)
    assert hangup.type == m.HANGUP
    assert flow.on_tick(1.0 + flow.timeouts.prompt_s + flow.timeouts.hangup_s - 0.1) == []
    assert flow.step is not Step.ENDED
    flow.on_tick(1.0 + flow.timeouts.prompt_s + flow.timeouts.hangup_s)
    assert flow.step is Step.ENDED and flow.end_reason == "hangup_unconfirmed"


def test_with_asr_the_turn_ends_on_the_transcript() -> None:
    flow = listening(new_flow())
    assert flow.on_event(m.ASR_STREAMING, {}, 12.0) == []
    final = {
        "leg": "caller",
        "text": "我家楼下路灯坏了",
        "start_s": 0.5,
        "end_s": 3.0,
        "confidence": 0.8,
    }
    commands = flow.on_event(m.ASR_FINAL, final, 15.0)
    assert commands == [Command(m.STOP_LISTENING), play("closing")]
    assert flow.transcript == [
        {"text": "我家楼下路灯坏了", "start_s": 0.5, "end_s": 3.0, "confidence": 0.8}
    ]


def test_energy_end_waits_for_the_transcript_then_gives_up() -> None:
    flow = listening(new_flow())
    flow.on_event(m.ASR_STREAMING, {}, 12.0)
    assert flow.on_event(m.SPEECH_ENDED, {"speech_ms": 2500}, 16.0) == []
    assert flow.step is Step.TRANSCRIBING
    assert flow.on_tick(16.0 + flow.timeouts.transcript_s - 0.1) == []
    assert flow.on_tick(16.0 + flow.timeouts.transcript_s) == [
        Command(m.STOP_LISTENING),
        play("closing"),
    ]
    assert flow.transcript == []


def test_asr_unavailable_falls_back_to_energy_end_of_speech() -> None:
    flow = listening(new_flow())
    flow.on_event(m.ASR_STREAMING, {}, 12.0)
    assert flow.on_event(m.ASR_UNAVAILABLE, {"reason": "busy"}, 13.0) == []
    assert flow.on_event(m.SPEECH_ENDED, {"speech_ms": 2000}, 16.0) == [play("closing")]
    late = flow.on_event(m.ASR_FINAL, {"leg": "caller", "text": "晚到"}, 17.0)
    assert late == [] and flow.transcript[0]["text"] == "晚到", "a late text is still kept"
