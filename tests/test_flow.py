"""ivr.hub.flow: the call flow as pure logic, driven with virtual time."""

from __future__ import annotations

from typing import Any

import pytest

from events import messages as m
from ivr.hub.flow import CallFlow, Command, FlowOptions, FlowTimeouts, Step
from tests.support.understanding import scripted

TIMEOUTS = FlowTimeouts(answer_s=10.0, prompt_s=120.0, listen_s=150.0, hangup_s=15.0)


def play(prompt: str) -> Command:
    return Command(m.PLAY, {"prompt": prompt})


def hangup(reason: str) -> Command:
    return Command(m.HANGUP, {"reason": reason})


def listen(turn: int, barge_in: bool = False) -> Command:
    return Command(m.LISTEN, {"turn": turn, "barge_in": barge_in})


def new_flow(barge_in: bool = False, asks: int = 2) -> CallFlow:
    """Without barge-in the flow listens only after each prompt (the simplest shape)."""
    return CallFlow(
        "call-1", worker="w1", timeouts=TIMEOUTS, options=FlowOptions(barge_in=barge_in, asks=asks)
    )


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
    assert flow.on_event(m.PROMPT_FINISHED, {"prompt": "greeting"}, 6.0) == [listen(1)]
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


def test_listen_timeout_asks_again_then_plays_no_input() -> None:
    flow = listening(new_flow())

    assert flow.on_event(m.LISTEN_TIMEOUT, {}, 14.0) == [play("ask_again")]
    assert flow.step is Step.ASKING_AGAIN
    assert flow.on_event(m.PROMPT_FINISHED, {"prompt": "ask_again"}, 18.0) == [listen(2)]
    assert flow.on_event(m.LISTEN_TIMEOUT, {}, 26.0) == [play("no_input")]
    assert flow.step is Step.CLOSING
    assert flow.agent_offered == ""
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
    assert flow.agent_offered == "caller_pressed_0"
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


def final(text: str, turn: int = 1, substantive: bool | None = None, **extra: Any) -> dict:
    return {
        "leg": "caller",
        "turn": turn,
        "text": text,
        "substantive": bool(text) if substantive is None else substantive,
        **extra,
    }


def test_with_asr_the_turn_ends_on_the_transcript() -> None:
    flow = listening(new_flow())
    assert flow.on_event(m.ASR_STREAMING, {"turn": 1}, 12.0) == []
    data = final(
        "我家楼下路灯坏了", start_s=0.5, end_s=3.0, confidence=0.8, content="我家楼下路灯坏了"
    )
    commands = flow.on_event(m.ASR_FINAL, data, 15.0)
    assert commands == [Command(m.STOP_LISTENING), play("closing")]
    (line,) = flow.transcript
    assert (line["text"], line["start_s"], line["end_s"], line["confidence"], line["turn"]) == (
        "我家楼下路灯坏了",
        0.5,
        3.0,
        0.8,
        1,
    )
    assert flow.understood


def test_energy_end_waits_for_the_transcript_then_asks_again() -> None:
    flow = listening(new_flow())
    flow.on_event(m.ASR_STREAMING, {"turn": 1}, 12.0)
    assert flow.on_event(m.SPEECH_ENDED, {"speech_ms": 2500}, 16.0) == []
    assert flow.step is Step.TRANSCRIBING
    assert flow.on_tick(16.0 + flow.timeouts.transcript_s - 0.1) == []
    assert flow.on_tick(16.0 + flow.timeouts.transcript_s) == [play("ask_again")]
    assert flow.step is Step.ASKING_AGAIN
    assert flow.transcript == []


def test_fillers_only_do_not_end_the_turn_then_nothing_understood_asks_again() -> None:
    flow = listening(new_flow())
    flow.on_event(m.ASR_STREAMING, {"turn": 1}, 12.0)
    assert flow.on_event(m.ASR_FINAL, final("喂？", substantive=False), 13.0) == []
    assert flow.step is Step.LISTENING, "喂 is not what the caller wants"
    assert flow.on_event(m.SPEECH_ENDED, {"speech_ms": 600}, 14.0) == []
    assert flow.on_event(m.ASR_DONE, {"leg": "caller", "turn": 1, "finals": 1}, 14.5) == [
        play("ask_again")
    ]
    assert flow.transcript[0]["text"] == "喂？", "kept, but not acted on"


def test_second_failure_offers_a_human() -> None:
    flow = listening(new_flow())
    flow.on_event(m.ASR_STREAMING, {"turn": 1}, 12.0)
    assert flow.on_event(m.ASR_FAILED, {"leg": "caller", "turn": 1}, 13.0) == [
        Command(m.STOP_LISTENING),
        play("ask_again"),
    ]
    flow.on_event(m.PROMPT_FINISHED, {"prompt": "ask_again"}, 17.0)
    flow.on_event(m.ASR_STREAMING, {"turn": 2}, 17.2)
    flow.on_event(m.SPEECH_ENDED, {"speech_ms": 900}, 20.0)
    assert flow.on_event(m.ASR_FINAL, final("", turn=2), 20.5) == []
    assert flow.on_event(m.ASR_DONE, {"leg": "caller", "turn": 2}, 20.6) == [
        play("agent_unavailable")
    ]
    assert flow.agent_offered == "nothing_understood"
    assert flow.step is Step.CLOSING


def test_results_of_an_earlier_turn_are_kept_but_not_acted_on() -> None:
    flow = listening(new_flow())
    flow.on_event(m.LISTEN_TIMEOUT, {}, 14.0)
    flow.on_event(m.PROMPT_FINISHED, {"prompt": "ask_again"}, 18.0)
    assert flow.turn == 2
    assert flow.on_event(m.ASR_DONE, {"leg": "caller", "turn": 1}, 18.5) == []
    assert flow.on_event(m.ASR_FINAL, final("迟到的", turn=1), 18.6) == []
    assert flow.step is Step.LISTENING
    assert flow.on_event(m.ASR_FINAL, final("小区停水了", turn=2), 21.0)[-1] == play("closing")


def test_asr_unavailable_offers_a_human_after_the_caller_spoke() -> None:
    flow = listening(new_flow())
    flow.on_event(m.ASR_STREAMING, {"turn": 1}, 12.0)
    assert flow.on_event(m.ASR_UNAVAILABLE, {"reason": "busy", "turn": 1}, 13.0) == []
    assert flow.on_event(m.SPEECH_ENDED, {"speech_ms": 2000}, 16.0) == [play("agent_unavailable")]
    assert flow.agent_offered == "asr_unavailable"
    late = flow.on_event(m.ASR_FINAL, final("晚到"), 17.0)
    assert late == [] and flow.transcript[0]["text"] == "晚到", "a late text is still kept"


def test_asr_lost_while_transcribing_offers_a_human_at_once() -> None:
    flow = listening(new_flow())
    flow.on_event(m.ASR_STREAMING, {"turn": 1}, 12.0)
    flow.on_event(m.SPEECH_ENDED, {"speech_ms": 2000}, 16.0)
    assert flow.on_event(m.ASR_UNAVAILABLE, {"reason": "lost", "turn": 1}, 16.5) == [
        play("agent_unavailable")
    ]


def test_without_asr_the_recorded_words_are_closed_normally() -> None:
    flow = listening(new_flow())  # asr.enabled = false: no asr.* events at all
    assert flow.on_event(m.SPEECH_ENDED, {"speech_ms": 2000}, 16.0) == [play("closing")]


# ---- barge-in ------------------------------------------------------------------------------


def test_barge_in_listens_during_the_greeting_and_speech_moves_on() -> None:
    flow = new_flow(barge_in=True)
    flow.on_event(m.CALL_OFFERED, {}, 0.0)
    assert flow.on_event(m.CALL_ANSWERED, {}, 0.5) == [play("greeting"), listen(1, barge_in=True)]
    assert flow.step is Step.GREETING
    # the worker stopped the greeting itself; the interrupted prompt is no news
    assert flow.on_event(m.PROMPT_FINISHED, {"interrupted": True}, 2.0) == []
    assert flow.on_event(m.SPEECH_STARTED, {}, 2.0) == []
    assert flow.step is Step.LISTENING
    assert flow.deadline == 152.0
    assert flow.on_event(m.ASR_FINAL, final("我要投诉噪音"), 6.0) == [
        Command(m.STOP_LISTENING),
        play("closing"),
    ]


def test_barge_in_greeting_played_to_the_end_needs_no_second_listen() -> None:
    flow = new_flow(barge_in=True)
    flow.on_event(m.CALL_OFFERED, {}, 0.0)
    flow.on_event(m.CALL_ANSWERED, {}, 0.5)
    assert flow.on_event(m.PROMPT_FINISHED, {"prompt": "greeting"}, 6.0) == []
    assert flow.step is Step.LISTENING
    assert flow.on_event(m.LISTEN_TIMEOUT, {}, 14.0) == [
        play("ask_again"),
        listen(2, barge_in=True),
    ]


def test_one_ask_only_offers_a_human_at_once() -> None:
    flow = listening(new_flow(asks=1))
    flow.on_event(m.ASR_STREAMING, {"turn": 1}, 12.0)
    flow.on_event(m.SPEECH_ENDED, {"speech_ms": 2000}, 16.0)
    assert flow.on_tick(16.0 + flow.timeouts.transcript_s) == [play("agent_unavailable")]
    assert flow.agent_offered == "no_transcript"


# ---- understanding: emergencies, low confidence ----------------------------------------------


def understood(text: str, turn: int = 1, **understanding: Any) -> dict:
    base: dict[str, Any] = {"emergency": None, "low_confidence": False, "seat_group": "环保"}
    return final(text, turn=turn, understanding=scripted(**{**base, **understanding}))


def test_an_emergency_is_told_and_transferred_at_once() -> None:
    flow = listening(new_flow())
    commands = flow.on_event(m.ASR_FINAL, understood("楼下着火了好大的烟", emergency="119"), 9.0)
    assert commands == [Command(m.STOP_LISTENING), play("emergency_119")]
    assert flow.step is Step.EMERGENCY and flow.emergency == "119"
    assert flow.on_event(m.PROMPT_FINISHED, {"prompt": "emergency_119"}, 12.0) == [
        Command(m.TRANSFER, {"number": "119"})
    ]
    assert flow.on_event(m.TRANSFER_STATUS, {"code": 100, "final": False}, 12.1) == []
    assert flow.on_event(m.TRANSFER_STATUS, {"code": 200, "final": True}, 13.0) == [
        hangup("transferred")
    ]


def test_a_refused_or_unanswered_transfer_tells_the_caller_to_dial() -> None:
    flow = listening(new_flow())
    flow.on_event(m.ASR_FINAL, understood("有人要跳楼", emergency="110"), 9.0)
    flow.on_event(m.PROMPT_FINISHED, {"prompt": "emergency_110"}, 12.0)
    assert flow.on_event(m.TRANSFER_STATUS, {"code": 603, "final": True}, 12.5) == [
        play("emergency_dial_110")
    ]
    other = listening(new_flow())
    other.on_event(m.ASR_FINAL, understood("我老公倒在地上叫不醒", emergency="120"), 9.0)
    other.on_event(m.PROMPT_FINISHED, {"prompt": "emergency_120"}, 12.0)
    assert other.on_tick(12.0 + other.timeouts.transfer_s) == [play("emergency_dial_120")]


def test_low_confidence_asks_for_details_once_then_goes_on() -> None:
    flow = listening(new_flow())
    data = understood("那个事情你们管一下", low_confidence=True, general_seat_group="综合")
    assert flow.on_event(m.ASR_FINAL, data, 9.0) == [
        Command(m.STOP_LISTENING),
        play("ask_detail"),
    ]
    flow.on_event(m.PROMPT_FINISHED, {"prompt": "ask_detail"}, 12.0)
    again = understood("还是那个事", turn=2, low_confidence=True, general_seat_group="综合")
    assert flow.on_event(m.ASR_FINAL, again, 15.0)[-1] == play("closing")
    assert flow.seat_group == "综合", "unsure twice: the general seat group"


def test_a_clear_request_goes_to_its_seat_group() -> None:
    flow = listening(new_flow())
    flow.on_event(m.ASR_FINAL, understood("楼下工地晚上施工太吵"), 9.0)
    assert flow.step is Step.CLOSING and flow.seat_group == "环保"
    assert flow.understanding is not None and flow.understanding.seat_group == "环保"


def test_transcript_lines_say_where_in_the_recording_they_were_said() -> None:
    flow = listening(new_flow())
    drive(
        flow,
        (m.ASR_STREAMING, {"turn": 1, "leg": "caller", "offset_s": 2.5}, 3.0),
        (m.ASR_FINAL, {"turn": 1, "text": "路灯坏了。", "start_s": 1.25, "end_s": 2.0}, 5.0),
    )
    assert flow.transcript[-1]["call_s"] == 3.75  # 2.5 s into the recording + 1.25 s
    flow.on_event(m.ASR_STREAMING, {"turn": 0, "leg": "agent", "offset_s": 20.0}, 21.0)
    flow.on_event(m.ASR_FINAL, {"turn": 0, "leg": "agent", "text": "您好", "start_s": 0.5}, 22.0)
    assert flow.transcript[-1]["leg"] == "agent" and flow.transcript[-1]["call_s"] == 20.5
    flow.on_event(m.ASR_FINAL, {"turn": 7, "text": "无从定位", "start_s": 1.0}, 23.0)
    assert "call_s" not in flow.transcript[-1]  # no stream start known: no position


# ---- every way out of asking again, once the caller has said something -------------------


def unsure_then_asked(seats: bool) -> CallFlow:
    """The reported call: the first turn understood at low confidence (公安), the caller
    asked for details."""
    flow = CallFlow(
        "call-1", worker="w1", timeouts=TIMEOUTS, options=FlowOptions(barge_in=False, seats=seats)
    )
    listening(flow)
    first = understood(
        "我家门口有人一直在那里", low_confidence=True, seat_group="公安", general_seat_group="综合"
    )
    assert flow.on_event(m.ASR_FINAL, first, 9.0)[-1] == play("ask_detail")
    flow.on_event(m.PROMPT_FINISHED, {"prompt": "ask_detail"}, 12.0)
    assert flow.step is Step.LISTENING and flow.turn == 2
    return flow


def _transcribing(flow: CallFlow, now: float) -> None:
    flow.on_event(m.ASR_STREAMING, {"turn": 2}, now)
    flow.on_event(m.SPEECH_ENDED, {"speech_ms": 1500}, now + 1)
    assert flow.step is Step.TRANSCRIBING


def _silence(flow: CallFlow) -> list[Command]:
    return flow.on_event(m.LISTEN_TIMEOUT, {}, 20.0)


def _empty_final(flow: CallFlow) -> list[Command]:
    _transcribing(flow, 13.0)
    flow.on_event(m.ASR_FINAL, final("", turn=2), 15.0)
    return flow.on_event(m.ASR_DONE, {"turn": 2}, 15.1)


def _only_fillers(flow: CallFlow) -> list[Command]:
    _transcribing(flow, 13.0)
    flow.on_event(m.ASR_FINAL, final("喂，嗯", turn=2, substantive=False), 15.0)
    return flow.on_event(m.ASR_DONE, {"turn": 2}, 15.1)


def _asr_failed(flow: CallFlow) -> list[Command]:
    _transcribing(flow, 13.0)
    return flow.on_event(m.ASR_FAILED, {"turn": 2, "leg": "caller"}, 15.0)


def _no_transcript(flow: CallFlow) -> list[Command]:
    _transcribing(flow, 13.0)
    return flow.on_tick(14.0 + flow.timeouts.transcript_s)


def _unsure_again(flow: CallFlow) -> list[Command]:
    again = understood("就是那个事情", turn=2, low_confidence=True, general_seat_group="综合")
    return flow.on_event(m.ASR_FINAL, again, 15.0)


NOTHING_NEW = {
    "silence": _silence,
    "empty final": _empty_final,
    "only fillers": _only_fillers,
    "ASR failed": _asr_failed,
    "no transcript in time": _no_transcript,
    "unsure again": _unsure_again,
}


@pytest.mark.parametrize("path", list(NOTHING_NEW))
def test_after_words_nothing_new_queues_the_caller_for_an_agent(path: str) -> None:
    flow = unsure_then_asked(seats=True)
    commands = NOTHING_NEW[path](flow)
    assert commands[-1] == play("transfer_agent") and flow.step is Step.QUEUED
    assert flow.wants_agent and flow.seat_group == "综合", "unsure: the general seat group"
    assert flow.transcript[0]["text"] == "我家门口有人一直在那里"  # the ticket keeps the words
    assert hangup("flow_complete") not in commands and play("no_input") not in commands


@pytest.mark.parametrize("path", list(NOTHING_NEW))
def test_after_words_without_agents_the_call_closes_as_a_request(path: str) -> None:
    flow = unsure_then_asked(seats=False)
    commands = NOTHING_NEW[path](flow)
    assert commands[-1] == play("closing") and flow.step is Step.CLOSING
    assert play("no_input") not in commands


def test_out_of_asking_again_a_clear_answer_goes_to_its_group() -> None:
    flow = unsure_then_asked(seats=True)
    flow.on_event(m.ASR_FINAL, understood("有人在我家门口撬锁", turn=2, seat_group="公安"), 15.0)
    assert flow.step is Step.QUEUED and flow.seat_group == "公安"


def test_out_of_asking_again_key_0_an_emergency_or_a_hang_up() -> None:
    keyed = unsure_then_asked(seats=True)
    assert keyed.on_event(m.DTMF, {"digit": "0"}, 14.0)[-1] == play("transfer_agent")
    assert keyed.agent_offered == "caller_pressed_0"
    urgent = unsure_then_asked(seats=True)
    urgent.on_event(m.ASR_FINAL, understood("他拿着刀", turn=2, emergency="110"), 15.0)
    assert urgent.step is Step.EMERGENCY
    gone = unsure_then_asked(seats=True)
    gone.on_event(m.CALL_ENDED, {"reason": "caller_hangup"}, 14.0)
    assert gone.step is Step.ENDED and gone.on_tick(500.0) == []


def test_a_caller_who_never_spoke_still_hears_no_input_after_the_last_ask() -> None:
    flow = CallFlow(
        "call-1", worker="w1", timeouts=TIMEOUTS, options=FlowOptions(barge_in=False, seats=True)
    )
    listening(flow)
    flow.on_event(m.LISTEN_TIMEOUT, {}, 20.0)
    flow.on_event(m.PROMPT_FINISHED, {"prompt": "ask_again"}, 24.0)
    assert flow.on_event(m.LISTEN_TIMEOUT, {}, 40.0) == [play("no_input")]
