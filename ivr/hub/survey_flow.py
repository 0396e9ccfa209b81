"""The hub's 回访 survey call, as pure logic.

A :class:`SurveyFlow` takes a survey call's worker events and the time and
returns the commands to send, like :class:`ivr.hub.flow.CallFlow` does for a
citizen's own call.  The script (:mod:`verification.survey_script`):

dialling → the citizen answers → a short listen for their 喂 (a long stretch of
speech, or a carrier's announcement, is an answering machine: hang up) → who is
calling and about what, and the department's answer → "解决了吗" (keys 1/2/3 or
words) → "满意吗" (keys 5…1 or words) → an optional comment → thanks → hang up.

A question is asked once more on silence or an unclear answer; still unclear,
the survey goes on and a person follows up.  At any question "打错了", "不是我"
end the call politely (wrong person); "不需要回访" ends it (declined); a wish to
talk to a person or an emergency hands the call to an agent (:attr:`to_agent`).
The answers and how the attempt ended are in :meth:`SurveyFlow.result`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from events import messages as m
from ivr.hub.flow import Command
from tickets.model import Rating, Resolution
from tickets.verification_tasks import AnswerSource, AttemptOutcome, TaskReason
from verification import survey_script as script
from verification.survey_answers import (
    Interruption,
    comment_disputes,
    interruption,
    rating_answer,
    resolution_answer,
)


class SurveyStep(enum.Enum):
    DIALLING = "dialling"
    GREETING = "greeting"  # listening for the citizen's first words
    INTRO = "intro"  # who calls, about what, the department's answer
    ASKING = "asking"  # a question is played (the citizen may answer over it)
    LISTENING = "listening"  # the question was played; waiting for the answer
    TRANSCRIBING = "transcribing"  # the citizen stopped speaking; the text is coming
    CLOSING = "closing"  # thanks (or sorry) before the hang-up
    TO_AGENT = "to_agent"  # handed to seat allocation
    HANGING_UP = "hanging_up"
    ENDED = "ended"


QUESTIONS = ("resolution", "rating", "comment")
_QUESTION_PROMPTS = {
    "resolution": script.ASK_SOLVED,
    "rating": script.ASK_RATING,
    "comment": script.ASK_COMMENT,
}


@dataclass(frozen=True, slots=True)
class SurveyTimeouts:
    dial_s: float = 45.0  # ringing this long is a ring-no-answer
    prompt_s: float = 90.0
    listen_s: float = 60.0
    transcript_s: float = 5.0
    hangup_s: float = 15.0


@dataclass(frozen=True, slots=True)
class SurveyResult:
    """What one attempt gave: how it ended and what the citizen said."""

    outcome: AttemptOutcome
    resolution: Resolution | None = None
    resolution_source: AnswerSource | None = None
    rating: Rating | None = None
    rating_source: AnswerSource | None = None
    comment: str = ""
    needs_person: TaskReason | None = None
    detail: str = ""  # the SIP status, or what was heard
    emergency: bool = False
    do_not_call: bool = False  # 别再打了

    @property
    def disputed(self) -> bool:
        unsolved = self.resolution in (Resolution.UNSOLVED, Resolution.PARTLY)
        return unsolved or (self.rating is not None and self.rating.is_bad)


def dial_outcome(code: int, reason: str = "") -> AttemptOutcome:
    """How a call that was never answered ended, from its SIP status."""
    if code in (486, 600):
        return AttemptOutcome.BUSY
    if code in (603, 403):
        return AttemptOutcome.REJECTED
    if code in (408, 480, 487) or reason in ("no_answer", "ring_timeout"):
        return AttemptOutcome.NO_ANSWER
    return AttemptOutcome.UNREACHABLE


@dataclass
class SurveyFlow:
    """One survey call's state (kept by the hub's survey calls, keyed by call id).

    ``intro`` and ``summary`` are prompt ids rendered for this call (the summary
    may be empty)."""

    call_id: str
    worker: str
    task_id: int
    ticket: str
    number: str
    intro: str
    summary: str = ""
    script: script.SurveyScript = field(default_factory=script.SurveyScript)
    timeouts: SurveyTimeouts = field(default_factory=SurveyTimeouts)
    step: SurveyStep = SurveyStep.DIALLING
    deadline: float | None = None
    question: str = ""  # resolution, rating or comment
    asked: int = 0  # times the current question was asked
    turn: int = 0
    listening: bool = False
    prompt: str = ""  # the prompt last sent to play
    waiting: list[list[Command]] = field(default_factory=list)  # to send as prompts end
    answered: bool = False
    to_agent: bool = False  # the hub hands the call to seat allocation
    answers: dict[str, tuple[Any, AnswerSource, str]] = field(default_factory=dict)
    unclear: set[str] = field(default_factory=set)
    comment: list[str] = field(default_factory=list)
    heard: list[dict[str, Any]] = field(default_factory=list)  # every final, in order
    outcome: AttemptOutcome | None = None
    detail: str = ""
    complaint: bool = False
    do_not_call: bool = False  # 别再打了: the task is skipped as do-not-call
    emergency: bool = False
    history: list[tuple[float, str]] = field(default_factory=list)

    # ---- the start ------------------------------------------------------------
    def dial(self, now: float) -> None:
        self._go(SurveyStep.DIALLING, now, self.timeouts.dial_s)

    # ---- inputs ---------------------------------------------------------------
    def on_event(self, event: str, data: dict[str, Any], now: float) -> list[Command]:
        if self.step is SurveyStep.ENDED:
            return []
        match event:
            case m.CALL_ANSWERED if self.step is SurveyStep.DIALLING:
                self.answered = True
                self.turn += 1
                self.listening = True
                listen = {
                    "turn": self.turn,
                    "no_input_s": self.script.greeting_listen_s,
                    "end_silence_ms": 600,
                    "barge_in": False,
                }
                return self._go(
                    SurveyStep.GREETING, now, self.timeouts.listen_s, Command(m.LISTEN, listen)
                )
            case m.SPEECH_ENDED if self.step is SurveyStep.GREETING:
                self.listening = False
                if int(data.get("speech_ms", 0)) >= self.script.machine_speech_ms:
                    return self._end(now, AttemptOutcome.ANSWERING_MACHINE, "long greeting")
                return self._intro(now)
            case m.LISTEN_TIMEOUT if self.step is SurveyStep.GREETING:
                self.listening = False
                return self._intro(now)
            case m.PROMPT_FINISHED | m.PROMPT_FAILED:
                return self._prompt_done(str(data.get("prompt", "")), data, now)
            case m.SPEECH_STARTED if self.step is SurveyStep.ASKING and self._this_turn(data):
                return self._go(SurveyStep.LISTENING, now, self.timeouts.listen_s)  # barge-in
            case m.SPEECH_ENDED if self._asking() and self._this_turn(data):
                self.listening = False
                return self._go(SurveyStep.TRANSCRIBING, now, self.timeouts.transcript_s)
            case m.LISTEN_TIMEOUT if self._asking() and self._this_turn(data):
                self.listening = False
                return self._not_answered(now, "no_input")
            case m.ASR_FINAL if data.get("leg", "caller") == "caller":
                return self._on_final(data, now)
            case m.ASR_FAILED | m.ASR_UNAVAILABLE if self._this_turn(data):
                if self.step in (SurveyStep.LISTENING, SurveyStep.TRANSCRIBING):
                    return self._not_answered(now, "asr_failed")
                return []
            case m.ASR_DONE if self._this_turn(data) and self.step is SurveyStep.TRANSCRIBING:
                return self._not_answered(now, "nothing_heard")
            case m.DTMF:
                return self._on_digit(str(data.get("digit", "")), now)
            case m.CALL_ENDED:
                if self.outcome is None:
                    reason = str(data.get("reason", ""))
                    if not self.answered:
                        code = int(data.get("status_code", 0) or 0)
                        self.outcome = dial_outcome(code, reason)
                        self.detail = f"{code} {reason}".strip()
                    elif reason in ("worker_lost", "lost"):
                        self.outcome = AttemptOutcome.LOST
                    else:
                        self.outcome = self._answered_outcome()
                self._go(SurveyStep.ENDED, now, None)
                return []
            case _:
                return []

    def on_tick(self, now: float) -> list[Command]:
        if self.deadline is None or now < self.deadline:
            return []
        if self.step is SurveyStep.DIALLING:
            self.outcome = AttemptOutcome.NO_ANSWER
            self.detail = "ring timeout"
            return self._hang_up(now, "no_answer")
        if self.step is SurveyStep.TRANSCRIBING:
            return self._not_answered(now, "no_transcript")
        if self.step is SurveyStep.HANGING_UP:
            self._go(SurveyStep.ENDED, now, None)
            return []
        if self.step is SurveyStep.TO_AGENT:
            return []
        return self._hang_up(now, f"timeout_in_{self.step.value}")

    # ---- what it gave -----------------------------------------------------------
    def result(self) -> SurveyResult:
        outcome = self.outcome or self._answered_outcome()
        resolution = self.answers.get("resolution")
        rating = self.answers.get("rating")
        comment = "，".join(part for part in self.comment if part)
        needs = None
        if outcome is AttemptOutcome.COMPLETED:
            rated_bad = rating is not None and rating[0].is_bad
            if self.complaint:
                needs = TaskReason.COMPLAINT
            elif rated_bad:
                needs = TaskReason.BAD_RATING  # a named citizen's 差评: a person follows up
            elif resolution is None or rating is None:
                needs = TaskReason.UNCLEAR
        elif self.complaint:
            needs = TaskReason.COMPLAINT
        return SurveyResult(
            outcome=outcome,
            resolution=resolution[0] if resolution else None,
            resolution_source=resolution[1] if resolution else None,
            rating=rating[0] if rating else None,
            rating_source=rating[1] if rating else None,
            comment=comment,
            needs_person=needs,
            detail=self.detail,
            emergency=self.emergency,
            do_not_call=self.do_not_call,
        )

    @property
    def comment_disputes(self) -> bool:
        return any(comment_disputes(part) for part in self.comment)

    # ---- steps ------------------------------------------------------------------
    def _answered_outcome(self) -> AttemptOutcome:
        if self.to_agent:
            return AttemptOutcome.TO_AGENT
        if "resolution" in self.answers or "rating" in self.answers:
            return AttemptOutcome.COMPLETED
        return AttemptOutcome.INCOMPLETE

    def _play(self, prompt: str) -> Command:
        self.prompt = prompt
        return Command(m.PLAY, {"prompt": prompt})

    def _intro(self, now: float) -> list[Command]:
        self.waiting = [[Command(m.PLAY, {"prompt": self.summary})]] if self.summary else []
        return self._go(SurveyStep.INTRO, now, self.timeouts.prompt_s, self._play(self.intro))

    def _prompt_done(self, prompt: str, data: dict[str, Any], now: float) -> list[Command]:
        """A prompt ended: the next one queued behind it, else the step's next move.
        (A worker plays one prompt at a time: a new one replaces the one playing.)"""
        if data.get("interrupted") or prompt != self.prompt:
            return []  # stopped for an answer given over it, or an earlier prompt
        if self.waiting:
            batch = self.waiting.pop(0)
            for command in batch:
                if command.type == m.PLAY:
                    self.prompt = str(command.data["prompt"])
                if command.type == m.LISTEN:
                    self.listening = True
            return batch
        if self.step is SurveyStep.INTRO:
            return self._ask(QUESTIONS[0], now)
        if self.step is SurveyStep.ASKING:
            return self._go(SurveyStep.LISTENING, now, self.timeouts.listen_s)
        if self.step is SurveyStep.CLOSING:
            return self._hang_up(now, "survey_complete")
        return []

    def _ask(self, question: str, now: float, again: bool = False) -> list[Command]:
        if question == "comment" and not self.script.comment:
            return self._close(now, script.THANKS, AttemptOutcome.COMPLETED)
        if question != self.question:
            self.question, self.asked = question, 0
        self.asked += 1
        self.turn += 1
        listen: dict[str, Any] = {"turn": self.turn, "barge_in": True}
        if question == "comment":
            listen |= {"no_input_s": self.script.comment_listen_s, "end_silence_ms": 2000}
        else:
            listen |= {"no_input_s": self.script.answer_listen_s}
        ask = [Command(m.PLAY, {"prompt": _QUESTION_PROMPTS[question]}), Command(m.LISTEN, listen)]
        if again:  # "没有听清" first, then the question once more
            self.waiting = [ask]
            return self._go(
                SurveyStep.ASKING, now, self.timeouts.prompt_s, self._play(script.NOT_HEARD)
            )
        self.waiting = []
        self.prompt = _QUESTION_PROMPTS[question]
        self.listening = True
        return self._go(SurveyStep.ASKING, now, self.timeouts.prompt_s, *ask)

    def _next(self, now: float) -> list[Command]:
        after = QUESTIONS.index(self.question) + 1
        if after >= len(QUESTIONS):
            return self._close(now, script.THANKS, AttemptOutcome.COMPLETED)
        return self._ask(QUESTIONS[after], now)

    def _not_answered(self, now: float, why: str) -> list[Command]:
        self.history.append((now, why))
        if self.question == "comment":
            return self._close(now, script.THANKS, self._answered_outcome())
        if self.asked <= self.script.repeats:
            return self._ask(self.question, now, again=True)
        self.unclear.add(self.question)
        if self.question == QUESTIONS[1] and not self.answers:
            # Nothing understood to either question: a person calls again.
            return self._close(now, script.UNCLEAR_BYE, AttemptOutcome.INCOMPLETE)
        return self._next(now)

    def _on_digit(self, digit: str, now: float) -> list[Command]:
        if self.step in (SurveyStep.GREETING, SurveyStep.INTRO):
            # A citizen who knows the survey answers the first question at once.
            if resolution_answer(digit=digit) is None:
                return []
            self.history.append((now, "answered_early"))
            stop = self._stop()
            self.question, self.asked = QUESTIONS[0], 1
            return stop + self._answered(resolution_answer(digit=digit), AnswerSource.KEY, now)
        if self.step not in (SurveyStep.ASKING, SurveyStep.LISTENING, SurveyStep.TRANSCRIBING):
            return []
        stop = self._stop()
        if self.question == "comment":
            if digit == "#":
                return stop + self._close(now, script.THANKS, AttemptOutcome.COMPLETED)
            return []
        answer = (
            resolution_answer(digit=digit)
            if self.question == "resolution"
            else rating_answer(digit=digit)
        )
        if answer is None:
            return stop + self._not_answered(now, f"key {digit}")
        return stop + self._answered(answer, AnswerSource.KEY, now)

    def _answered(self, answer: Any, source: AnswerSource, now: float) -> list[Command]:
        self.answers[self.question] = (answer.value, source, answer.heard)
        return self._next(now)

    def _on_final(self, data: dict[str, Any], now: float) -> list[Command]:
        text = str(data.get("content") or data.get("text", "")).strip()
        if text:
            self.heard.append({"question": self.question or self.step.value, "text": text})
        if not self._this_turn(data) or not text:
            if self.step is SurveyStep.TRANSCRIBING and self._this_turn(data):
                return self._not_answered(now, "nothing_heard")
            return []
        if self.step in (SurveyStep.GREETING, SurveyStep.INTRO):
            # The first words, or an announcement heard while the intro plays.
            kind = interruption(text)
            if kind is Interruption.ANSWERING_MACHINE:
                return self._end(now, AttemptOutcome.ANSWERING_MACHINE, text)
            return self._interrupted(kind, text, now) if kind else []
        if self.step not in (SurveyStep.ASKING, SurveyStep.LISTENING, SurveyStep.TRANSCRIBING):
            return []
        kind = interruption(text)
        if kind is not None:
            handled = self._interrupted(kind, text, now)
            if handled is not None:
                return handled
        if self.question == "comment":
            self.comment.append(text)
            return self._stop() + self._close(now, script.THANKS, AttemptOutcome.COMPLETED)
        answer = (
            resolution_answer(text=text)
            if self.question == "resolution"
            else rating_answer(text=text)
        )
        if answer is None:
            return self._stop() + self._not_answered(now, "unclear")
        return self._stop() + self._answered(answer, AnswerSource.VOICE, now)

    def _interrupted(self, kind: Interruption, text: str, now: float) -> list[Command] | None:
        """What an interruption does; None: go on with the question (a complaint
        about the survey is noted and the survey goes on)."""
        stop = self._stop()
        match kind:
            case Interruption.ANSWERING_MACHINE:
                return stop + self._end(now, AttemptOutcome.ANSWERING_MACHINE, text)
            case Interruption.WRONG_PERSON:
                self.detail = text
                return stop + self._close(now, script.SORRY, AttemptOutcome.WRONG_PERSON)
            case Interruption.DECLINES | Interruption.DO_NOT_CALL:
                self.detail = text
                self.do_not_call = kind is Interruption.DO_NOT_CALL
                return stop + self._close(now, script.SORRY, AttemptOutcome.DECLINED)
            case Interruption.NOT_NOW:  # tried again later, like a busy line
                self.detail = text
                return stop + self._close(now, script.SORRY, AttemptOutcome.INCOMPLETE)
            case Interruption.WANTS_HUMAN | Interruption.EMERGENCY:
                # The hub hands the call to seat allocation, which tells the citizen.
                self.emergency = kind is Interruption.EMERGENCY
                self.detail = text
                self.outcome = AttemptOutcome.TO_AGENT
                self.to_agent = True
                return stop + self._go(SurveyStep.TO_AGENT, now, None)
            case Interruption.COMPLAINS_ABOUT_SURVEY:
                self.complaint = True
                return None
        return None

    def _stop(self) -> list[Command]:
        """Stop what the worker is doing for this question (the prompt may still be
        playing when the citizen answers over it)."""
        commands = []
        self.waiting = []
        if self.step in (SurveyStep.ASKING, SurveyStep.INTRO):
            commands.append(Command(m.STOP_PLAYBACK))
        if self.listening:
            commands.append(Command(m.STOP_LISTENING))
            self.listening = False
        return commands

    def _close(self, now: float, prompt: str, outcome: AttemptOutcome) -> list[Command]:
        self.outcome = outcome
        self.waiting = []
        return self._go(SurveyStep.CLOSING, now, self.timeouts.prompt_s, self._play(prompt))

    def _end(self, now: float, outcome: AttemptOutcome, detail: str) -> list[Command]:
        self.outcome, self.detail = outcome, detail
        return self._hang_up(now, outcome.value)

    def _hang_up(self, now: float, reason: str) -> list[Command]:
        return self._go(
            SurveyStep.HANGING_UP,
            now,
            self.timeouts.hangup_s,
            Command(m.HANGUP, {"reason": reason}),
        )

    def _asking(self) -> bool:
        return self.listening and self.step in (SurveyStep.ASKING, SurveyStep.LISTENING)

    def _this_turn(self, data: dict[str, Any]) -> bool:
        return int(data.get("turn", self.turn) or self.turn) == self.turn

    def _go(
        self, step: SurveyStep, now: float, limit: float | None, *commands: Command
    ) -> list[Command]:
        self.step = step
        self.deadline = None if limit is None else now + limit
        self.history.append((now, step.value))
        return list(commands)
