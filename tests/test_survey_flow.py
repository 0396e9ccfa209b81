"""The 回访 survey call flow, event by event with virtual time: keys, words,
repeats, answering machines, wrong people, a citizen who declines or asks for a
person, and calls that never connect."""

from __future__ import annotations

from typing import Any

import pytest

from events import messages as m
from ivr.hub.flow import Command
from ivr.hub.survey_flow import SurveyFlow, SurveyStep, SurveyTimeouts, dial_outcome
from tickets.model import Rating, Resolution
from tickets.verification_tasks import AnswerSource, AttemptOutcome, TaskReason
from verification import survey_script as script
from verification.survey_script import SurveyScript


class Call:
    """A survey flow and a clock; ``send`` feeds one worker event."""

    def __init__(self, **options: Any) -> None:
        self.flow = SurveyFlow(
            "c1", "w1", 7, "GD12345-20261201-000001", "13800138000", "intro", "summary", **options
        )
        self.now = 0.0
        self.flow.dial(self.now)
        self.sent: list[Command] = []

    def send(self, event: str, after_s: float = 1.0, **data: Any) -> list[Command]:
        self.now += after_s
        commands = self.flow.on_event(event, {"turn": self.flow.turn, **data}, self.now)
        self.sent += commands
        return commands

    def finish(self, prompt: str) -> list[Command]:
        return self.send(m.PROMPT_FINISHED, prompt=prompt)

    def answered_and_introduced(self) -> None:
        listen = self.send(m.CALL_ANSWERED)
        assert [c.type for c in listen] == [m.LISTEN] and listen[0].data["barge_in"] is False
        assert self.send(m.LISTEN_TIMEOUT) == [Command(m.PLAY, {"prompt": "intro"})]
        assert self.finish("intro") == [Command(m.PLAY, {"prompt": "summary"})]
        asked = self.finish("summary")
        assert asked[0] == Command(m.PLAY, {"prompt": script.ASK_SOLVED})
        assert asked[1].type == m.LISTEN and asked[1].data["barge_in"] is True

    def ended(self, reason: str = "local_hangup") -> None:
        self.send(m.CALL_ENDED, reason=reason, answered=True)
        assert self.flow.step is SurveyStep.ENDED


def prompts(commands: list[Command]) -> list[str]:
    return [str(c.data["prompt"]) for c in commands if c.type == m.PLAY]


def test_keys_one_then_four_and_a_comment_complete_the_survey() -> None:
    call = Call()
    call.answered_and_introduced()
    rating = call.send(m.DTMF, digit="1")
    assert rating[0].type == m.STOP_PLAYBACK  # answered over the question
    assert prompts(rating) == [script.ASK_RATING]
    comment = call.send(m.DTMF, digit="4")
    assert prompts(comment) == [script.ASK_COMMENT]
    call.send(m.SPEECH_STARTED)
    call.send(m.SPEECH_ENDED, speech_ms=2000)
    assert prompts(call.send(m.ASR_FINAL, text="处理得挺快的，谢谢")) == [script.THANKS]
    assert call.finish(script.THANKS) == [Command(m.HANGUP, {"reason": "survey_complete"})]
    call.ended()
    result = call.flow.result()
    assert result.outcome is AttemptOutcome.COMPLETED
    assert (result.resolution, result.resolution_source) == (Resolution.SOLVED, AnswerSource.KEY)
    assert (result.rating, result.rating_source) == (Rating.SATISFIED, AnswerSource.KEY)
    assert result.comment == "处理得挺快的，谢谢"
    assert result.needs_person is None and not result.disputed


def test_spoken_answers_count_as_voice_and_a_bad_rating_needs_a_person() -> None:
    call = Call()
    call.answered_and_introduced()
    call.send(m.SPEECH_ENDED, speech_ms=900)
    assert prompts(call.send(m.ASR_FINAL, text="还没有解决")) == [script.ASK_RATING]
    call.send(m.SPEECH_ENDED, speech_ms=900)
    call.send(m.ASR_FINAL, text="不满意")
    call.send(m.LISTEN_TIMEOUT)  # no comment
    call.finish(script.THANKS)
    call.ended()
    result = call.flow.result()
    assert result.resolution is Resolution.UNSOLVED and result.rating is Rating.DISSATISFIED
    assert result.resolution_source is result.rating_source is AnswerSource.VOICE
    assert result.disputed
    assert result.needs_person is TaskReason.BAD_RATING  # a named citizen's 差评


def test_silence_repeats_the_question_once_then_the_next_one_is_asked() -> None:
    call = Call()
    call.answered_and_introduced()
    again = call.send(m.LISTEN_TIMEOUT, after_s=8)
    assert prompts(again) == [script.NOT_HEARD]
    repeated = call.finish(script.NOT_HEARD)
    assert prompts(repeated) == [script.ASK_SOLVED]
    assert any(c.type == m.LISTEN for c in repeated)
    assert prompts(call.send(m.LISTEN_TIMEOUT, after_s=8)) == [script.ASK_RATING]
    call.send(m.DTMF, digit="5")
    call.send(m.DTMF, digit="#")  # no comment: # ends it
    call.finish(script.THANKS)
    call.ended()
    result = call.flow.result()
    assert result.resolution is None and result.rating is Rating.VERY_SATISFIED
    assert result.outcome is AttemptOutcome.COMPLETED
    assert result.needs_person is TaskReason.UNCLEAR  # one answer missing: a person asks


def test_an_unknown_key_is_no_answer_and_the_question_comes_again() -> None:
    call = Call()
    call.answered_and_introduced()
    assert prompts(call.send(m.DTMF, digit="7")) == [script.NOT_HEARD]
    call.finish(script.NOT_HEARD)
    assert prompts(call.send(m.DTMF, digit="3")) == [script.ASK_RATING]
    assert call.flow.answers["resolution"][0] is Resolution.PARTLY


def test_nothing_understood_to_either_question_ends_politely_as_incomplete() -> None:
    call = Call()
    call.answered_and_introduced()
    for _ in range(2):
        call.send(m.SPEECH_ENDED, speech_ms=800)
        call.send(m.ASR_FINAL, text="嗯嗯那个啥")
        if call.flow.prompt == script.NOT_HEARD:
            call.finish(script.NOT_HEARD)
    for _ in range(2):
        call.send(m.LISTEN_TIMEOUT, after_s=8)
        if call.flow.prompt == script.NOT_HEARD:
            call.finish(script.NOT_HEARD)
    assert call.flow.prompt == script.UNCLEAR_BYE
    call.finish(script.UNCLEAR_BYE)
    call.ended()
    assert call.flow.result().outcome is AttemptOutcome.INCOMPLETE


def test_a_long_greeting_is_an_answering_machine() -> None:
    call = Call()
    call.send(m.CALL_ANSWERED)
    call.send(m.SPEECH_STARTED)
    hang_up = call.send(m.SPEECH_ENDED, after_s=6, speech_ms=6000)
    assert hang_up == [Command(m.HANGUP, {"reason": "answering_machine"})]
    call.ended()
    assert call.flow.result().outcome is AttemptOutcome.ANSWERING_MACHINE


def test_a_carrier_announcement_heard_during_the_intro_is_an_answering_machine() -> None:
    call = Call()
    call.send(m.CALL_ANSWERED)
    call.send(m.SPEECH_ENDED, speech_ms=1500)  # short: looks like a person at first
    hang_up = call.send(m.ASR_FINAL, text="您好，您拨打的用户暂时无法接通，请稍后再拨")
    assert Command(m.HANGUP, {"reason": "answering_machine"}) in hang_up
    call.ended()
    assert call.flow.result().outcome is AttemptOutcome.ANSWERING_MACHINE


def test_wrong_person_ends_the_call_with_an_apology() -> None:
    call = Call()
    call.answered_and_introduced()
    call.send(m.SPEECH_ENDED, speech_ms=1000)
    assert prompts(call.send(m.ASR_FINAL, text="你打错了吧，我没反映过什么问题")) == [script.SORRY]
    call.finish(script.SORRY)
    call.ended()
    assert call.flow.result().outcome is AttemptOutcome.WRONG_PERSON


def test_a_citizen_who_declines_is_not_asked_further() -> None:
    call = Call()
    call.answered_and_introduced()
    call.send(m.SPEECH_ENDED, speech_ms=1000)
    assert prompts(call.send(m.ASR_FINAL, text="我现在没空，不需要回访")) == [script.SORRY]
    call.finish(script.SORRY)
    call.ended()
    assert call.flow.result().outcome is AttemptOutcome.DECLINED


@pytest.mark.parametrize(
    ("said", "emergency"), [("我要转人工", False), ("楼下着火了，有人被困", True)]
)
def test_asking_for_a_person_or_an_emergency_hands_the_call_to_an_agent(
    said: str, emergency: bool
) -> None:
    call = Call()
    call.answered_and_introduced()
    call.send(m.SPEECH_ENDED, speech_ms=1000)
    stopped = call.send(m.ASR_FINAL, text=said)
    assert call.flow.to_agent and call.flow.step is SurveyStep.TO_AGENT
    assert m.HANGUP not in [c.type for c in stopped]  # the call goes on, with a person
    assert call.flow.emergency is emergency
    assert call.flow.result().outcome is AttemptOutcome.TO_AGENT
    assert call.flow.on_tick(call.now + 3600) == []  # seat allocation keeps the time now


def test_a_complaint_about_the_survey_is_noted_and_the_survey_goes_on() -> None:
    call = Call()
    call.answered_and_introduced()
    call.send(m.SPEECH_ENDED, speech_ms=1500)
    call.send(m.ASR_FINAL, text="你们天天打电话烦不烦，解决了")
    assert call.flow.answers["resolution"][0] is Resolution.SOLVED
    call.send(m.DTMF, digit="4")
    call.send(m.DTMF, digit="#")
    call.finish(script.THANKS)
    call.ended()
    assert call.flow.result().needs_person is TaskReason.COMPLAINT


def test_a_comment_that_disputes_the_result_is_seen() -> None:
    call = Call()
    call.answered_and_introduced()
    call.send(m.DTMF, digit="1")
    call.send(m.DTMF, digit="4")
    call.send(m.SPEECH_ENDED, speech_ms=3000)
    call.send(m.ASR_FINAL, text="其实根本没人来处理，就是走形式")
    call.finish(script.THANKS)
    call.ended()
    assert call.flow.comment_disputes


def test_hanging_up_after_the_first_answer_keeps_it() -> None:
    call = Call()
    call.answered_and_introduced()
    call.send(m.DTMF, digit="2")
    call.ended("remote_hangup")
    result = call.flow.result()
    assert result.outcome is AttemptOutcome.COMPLETED and result.resolution is Resolution.UNSOLVED
    assert result.needs_person is TaskReason.UNCLEAR


def test_hanging_up_before_any_answer_is_incomplete() -> None:
    call = Call()
    call.answered_and_introduced()
    call.ended("remote_hangup")
    assert call.flow.result().outcome is AttemptOutcome.INCOMPLETE


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (486, AttemptOutcome.BUSY),
        (600, AttemptOutcome.BUSY),
        (603, AttemptOutcome.REJECTED),
        (480, AttemptOutcome.NO_ANSWER),
        (408, AttemptOutcome.NO_ANSWER),
        (404, AttemptOutcome.UNREACHABLE),
        (503, AttemptOutcome.UNREACHABLE),
    ],
)
def test_a_call_never_answered_is_counted_by_its_sip_status(
    code: int, outcome: AttemptOutcome
) -> None:
    assert dial_outcome(code) is outcome
    call = Call()
    call.send(m.CALL_ENDED, status_code=code, reason="remote", answered=False)
    assert call.flow.result().outcome is outcome
    assert str(code) in call.flow.result().detail


def test_ringing_too_long_hangs_up_as_no_answer() -> None:
    call = Call(timeouts=SurveyTimeouts(dial_s=30))
    assert call.flow.on_tick(29) == []
    assert call.flow.on_tick(31) == [Command(m.HANGUP, {"reason": "no_answer"})]
    call.send(m.CALL_ENDED, status_code=487, reason="local_hangup", answered=False)
    assert call.flow.result().outcome is AttemptOutcome.NO_ANSWER


def test_a_worker_lost_mid_survey_is_a_lost_attempt() -> None:
    call = Call()
    call.answered_and_introduced()
    call.send(m.CALL_ENDED, reason="worker_lost")
    assert call.flow.result().outcome is AttemptOutcome.LOST


def test_without_a_comment_question_the_survey_thanks_after_the_rating() -> None:
    call = Call(script=SurveyScript(comment=False))
    call.answered_and_introduced()
    call.send(m.DTMF, digit="1")
    assert prompts(call.send(m.DTMF, digit="5")) == [script.THANKS]


def test_an_old_prompt_ending_late_does_not_move_the_survey_on() -> None:
    call = Call()
    call.answered_and_introduced()
    call.send(m.DTMF, digit="1")  # the rating question is now playing
    assert call.finish(script.ASK_SOLVED) == []  # the first question's end, late
    assert call.flow.step is SurveyStep.ASKING
    assert call.send(m.PROMPT_FINISHED, prompt=script.ASK_RATING, interrupted=True) == []


def test_a_key_pressed_during_the_introduction_answers_the_first_question() -> None:
    call = Call()
    call.send(m.CALL_ANSWERED)
    call.send(m.LISTEN_TIMEOUT)
    assert call.send(m.DTMF, digit="9") == []  # no answer: the introduction goes on
    early = call.send(m.DTMF, digit="1")
    assert early[0].type == m.STOP_PLAYBACK
    assert prompts(early) == [script.ASK_RATING]
    assert call.flow.answers["resolution"][:2] == (Resolution.SOLVED, AnswerSource.KEY)
    assert call.finish("summary") == []  # the stopped introduction does not come back


def test_a_citizen_busy_now_is_called_again_later() -> None:
    call = Call()
    call.answered_and_introduced()
    call.send(m.SPEECH_ENDED, speech_ms=1000)
    assert prompts(call.send(m.ASR_FINAL, text="我在开会，晚点再打吧")) == [script.SORRY]
    call.finish(script.SORRY)
    call.ended()
    outcome = call.flow.result().outcome
    assert outcome is AttemptOutcome.INCOMPLETE and outcome.worth_retrying


def test_do_not_call_again_is_noted() -> None:
    call = Call()
    call.answered_and_introduced()
    call.send(m.SPEECH_ENDED, speech_ms=1000)
    call.send(m.ASR_FINAL, text="以后别再打了")
    call.finish(script.SORRY)
    call.ended()
    assert call.flow.result().outcome is AttemptOutcome.DECLINED and call.flow.do_not_call
