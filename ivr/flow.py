"""The hub's call flow for a 12345 call, as pure logic.

A :class:`CallFlow` takes worker events and the current time and returns the
commands to send; it never touches the bus, sockets or clocks itself, so it is
tested with virtual time.  The flow today: answer → greeting → listen until the
caller stops talking → closing prompt → hang up.  Key 0 at any time asks for a
human; until seat allocation exists, the caller is told no agent is available.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from events import messages as m


class Step(enum.Enum):
    OFFERED = "offered"
    ANSWERING = "answering"
    GREETING = "greeting"
    LISTENING = "listening"
    TRANSCRIBING = "transcribing"  # the caller stopped; the transcript is on its way
    CLOSING = "closing"
    HANGING_UP = "hanging_up"
    ENDED = "ended"


@dataclass(frozen=True)
class Command:
    type: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FlowTimeouts:
    """How long each step may wait for the worker before the flow gives up."""

    answer_s: float = 10.0
    prompt_s: float = 120.0
    listen_s: float = 150.0
    transcript_s: float = 4.0  # after the caller stopped, how long to wait for the text
    hangup_s: float = 15.0


@dataclass
class CallFlow:
    """Call flow state for one call (stored by the hub, keyed by call id)."""

    call_id: str
    worker: str
    caller: str = ""
    called: str = ""
    step: Step = Step.OFFERED
    deadline: float | None = None
    agent_requested: bool = False
    speech_ms: int = 0
    end_reason: str = ""
    asr_active: bool = False
    transcript: list[dict[str, Any]] = field(default_factory=list)
    timeouts: FlowTimeouts = field(default_factory=FlowTimeouts)
    history: list[tuple[float, str]] = field(default_factory=list)

    # ---- inputs ---------------------------------------------------------------
    def on_event(self, event: str, data: dict[str, Any], now: float) -> list[Command]:
        if self.step is Step.ENDED:
            return []
        match event:
            case m.CALL_OFFERED:
                self.caller = str(data.get("caller", ""))
                self.called = str(data.get("called", ""))
                return self._go(Step.ANSWERING, now, self.timeouts.answer_s, Command(m.ANSWER))
            case m.CALL_ANSWERED if self.step in (Step.OFFERED, Step.ANSWERING):
                return self._go(Step.GREETING, now, self.timeouts.prompt_s, _play("greeting"))
            case m.PROMPT_FINISHED if self.step is Step.GREETING:
                if data.get("interrupted"):
                    return []
                return self._go(Step.LISTENING, now, self.timeouts.listen_s, Command(m.LISTEN))
            case m.PROMPT_FAILED if self.step in (Step.GREETING, Step.CLOSING):
                # Without prompts the node cannot talk to the caller: end the call.
                return self._hang_up(now, "prompt_failed")
            case m.ASR_STREAMING:
                self.asr_active = True
                return []
            case m.ASR_UNAVAILABLE:
                self.asr_active = False
                if self.step is Step.TRANSCRIBING:
                    return self._close(now, "closing")
                return []
            case m.ASR_FINAL if data.get("leg", "caller") == "caller":
                self.transcript.append(
                    {k: data.get(k) for k in ("text", "start_s", "end_s", "confidence")}
                )
                if self.step in (Step.LISTENING, Step.TRANSCRIBING):
                    return [Command(m.STOP_LISTENING), *self._close(now, "closing")]
                return []
            case m.SPEECH_ENDED if self.step is Step.LISTENING:
                self.speech_ms = int(data.get("speech_ms", 0))
                if self.asr_active:
                    return self._go(Step.TRANSCRIBING, now, self.timeouts.transcript_s)
                return self._close(now, "closing")
            case m.LISTEN_TIMEOUT if self.step is Step.LISTENING:
                return self._close(now, "no_input")
            case m.DTMF:
                return self._on_digit(str(data.get("digit", "")), now)
            case m.PROMPT_FINISHED if self.step is Step.CLOSING:
                if data.get("interrupted"):
                    return []
                return self._hang_up(now, "flow_complete")
            case m.CALL_ENDED:
                self.end_reason = str(data.get("reason", ""))
                self._go(Step.ENDED, now, None)
                return []
            case _:
                return []

    def on_tick(self, now: float) -> list[Command]:
        """Called periodically: a step the worker never finished ends the call."""
        if self.deadline is None or now < self.deadline:
            return []
        if self.step is Step.TRANSCRIBING:
            return [Command(m.STOP_LISTENING), *self._close(now, "closing")]  # no text came
        if self.step is Step.HANGING_UP:
            # The worker never confirmed the hang-up: the call is gone for the flow.
            self.end_reason = "hangup_unconfirmed"
            self._go(Step.ENDED, now, None)
            return []
        return self._hang_up(now, f"timeout_in_{self.step.value}")

    def adopt(self, now: float) -> list[Command]:
        """A call found on a worker after a hub restart: close it politely."""
        self.history.append((now, "adopted"))
        return [Command(m.STOP_LISTENING), *self._close(now, "closing")]

    # ---- steps ----------------------------------------------------------------
    def _on_digit(self, digit: str, now: float) -> list[Command]:
        if digit != "0" or self.agent_requested:
            return []
        self.agent_requested = True
        listening = self.step in (Step.LISTENING, Step.TRANSCRIBING)
        commands = [Command(m.STOP_LISTENING)] if listening else []
        if self.step in (Step.GREETING, Step.LISTENING, Step.TRANSCRIBING):
            # No seat allocation yet: tell the caller, then close.
            return commands + self._close(now, "agent_unavailable")
        return commands

    def _close(self, now: float, prompt: str) -> list[Command]:
        return self._go(Step.CLOSING, now, self.timeouts.prompt_s, _play(prompt))

    def _hang_up(self, now: float, reason: str) -> list[Command]:
        return self._go(
            Step.HANGING_UP, now, self.timeouts.hangup_s, Command(m.HANGUP, {"reason": reason})
        )

    def _go(self, step: Step, now: float, limit: float | None, *commands: Command) -> list[Command]:
        self.step = step
        self.deadline = None if limit is None else now + limit
        self.history.append((now, step.value))
        return list(commands)


def _play(prompt: str) -> Command:
    return Command(m.PLAY, {"prompt": prompt})
