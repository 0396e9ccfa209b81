"""The hub's call flow for a 12345 call, as pure logic.

A :class:`CallFlow` takes worker events and the current time and returns the
commands to send; it never touches the bus, sockets or clocks itself, so it is
tested with virtual time.  The flow today: answer → greeting (the caller may
talk over it: barge-in) → listen until the caller has said what is wrong →
closing prompt → hang up, or, with seat allocation (agents configured), →
"正在为您转接人工服务" → queued for the seat group → bridged with an agent →
closing prompt once the agent hangs up.  A turn with nothing understood
(silence, only fillers, a failed or missing transcript) asks once more, then
offers a human; key 0 at any time asks for a human.  Without agents "a human"
means the caller is told none is free and the call, recorded, is closed.

No caller with a problem is hung up on: once any turn of the call said something
(say the first turn was understood at low confidence and the caller was asked for
details), silence, an unclear turn, a failed or missing transcript in the turns
that follow never end the call.  With agents the call is queued (to the general
seat group when the understanding was unsure; seat allocation diverts it to a
voice message when no group is open); without agents it is closed as after a
clear request, its draft ticket holding the words already said.  Only a caller
who never said anything hears "没有听到您的声音" after the last ask.  While
the call waits, the hub's seat allocation (``ivr/seating.py``) decides what the
caller hears and when the call leaves the queue.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from call_routing.understanding import Understanding
from events import messages as m


class Step(enum.Enum):
    OFFERED = "offered"
    ANSWERING = "answering"
    GREETING = "greeting"
    ASKING_AGAIN = "asking_again"  # nothing understood: the caller is asked once more
    LISTENING = "listening"
    TRANSCRIBING = "transcribing"  # the caller stopped; the transcript is on its way
    EMERGENCY = "emergency"  # told it is urgent, then handed to 119/110/120
    TRANSFERRING = "transferring"
    QUEUED = "queued"  # waiting for an agent (hold music, announcements)
    CONNECTED = "connected"  # talking with an agent
    VOICEMAIL = "voicemail"  # after hours or overload: the caller leaves a message
    CLOSING = "closing"
    HANGING_UP = "hanging_up"
    ENDED = "ended"


@dataclass(frozen=True)
class Command:
    type: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FlowOptions:
    """What the operator configures about the flow (``[listen]`` in node.toml)."""

    barge_in: bool = True  # the caller may talk over prompts; the prompt stops
    asks: int = 2  # how often the caller is asked to speak before a human is offered
    seats: bool = False  # agents are configured: calls are queued to them
    priority_key: str = ""  # a key that marks the caller for priority (elderly, …)


@dataclass(frozen=True)
class FlowTimeouts:
    """How long each step may wait for the worker before the flow gives up."""

    answer_s: float = 10.0
    prompt_s: float = 120.0
    listen_s: float = 150.0
    transcript_s: float = 4.0  # after the caller stopped, how long to wait for the text
    transfer_s: float = 15.0  # the network's answer to a transfer (REFER)
    hangup_s: float = 15.0


@dataclass
class CallFlow:
    """Call flow state for one call (stored by the hub, keyed by call id)."""

    call_id: str
    worker: str
    caller: str = ""
    called: str = ""
    remote_uri: str = ""  # the caller's SIP URI (its host is their gateway)
    step: Step = Step.OFFERED
    deadline: float | None = None
    agent_requested: bool = False
    agent_offered: str = ""  # why the flow offered a human ("" if it did not)
    speech_ms: int = 0
    end_reason: str = ""
    turn: int = 0  # the current listening turn (1, 2, …); ASR results carry it
    listening: bool = False  # a LISTEN of this turn is running on the worker
    asr_active: bool = False
    asr_lost: bool = False
    understood: bool = False  # the caller said something substantive this call
    understanding: Understanding | None = None  # the hub's, from the caller's words
    emergency: str = ""  # the number the call is handed to (119, 110, 120)
    seat_group: str = ""  # where the call queues for an agent
    wants_agent: bool = False  # the flow handed the call to seat allocation
    agent_id: str = ""  # the agent the caller talks with
    callback_reason: str = ""  # "voicemail" or "queue": the ticket gets a callback task
    marked: bool = False  # the caller pressed the priority key
    ticket: str = ""  # the draft work order's number, once the hub opened it
    answered: bool = False
    transcript: list[dict[str, Any]] = field(default_factory=list)
    options: FlowOptions = field(default_factory=FlowOptions)
    timeouts: FlowTimeouts = field(default_factory=FlowTimeouts)
    history: list[tuple[float, str]] = field(default_factory=list)
    _voicemail_listen: dict[str, Any] = field(default_factory=dict, repr=False)
    # Where each ASR stream (leg, turn) starts in the recording, for lines' call_s.
    _stream_offsets: dict[tuple[str, int], float] = field(default_factory=dict, repr=False)

    def said(self) -> str:
        """Everything the caller said so far, as the understanding and the ticket read it."""
        return "，".join(line["content"] for line in self.transcript if line.get("content"))

    def understanding_data(self) -> dict[str, Any] | None:
        """The understanding in its bus form (events, consoles, the transcript file)."""
        return self.understanding.as_dict() if self.understanding is not None else None

    # ---- inputs ---------------------------------------------------------------
    def on_event(self, event: str, data: dict[str, Any], now: float) -> list[Command]:
        if self.step is Step.ENDED:
            return []
        if event == m.ASR_STREAMING and "offset_s" in data:
            key = (str(data.get("leg", "caller")), int(data.get("turn", 0) or 0))
            self._stream_offsets[key] = float(data["offset_s"])
        prompting = self.step in (Step.GREETING, Step.ASKING_AGAIN)
        match event:
            case m.CALL_OFFERED:
                self.caller = str(data.get("caller", ""))
                self.called = str(data.get("called", ""))
                self.remote_uri = str(data.get("remote_uri", ""))
                return self._go(Step.ANSWERING, now, self.timeouts.answer_s, Command(m.ANSWER))
            case m.CALL_ANSWERED if self.step in (Step.OFFERED, Step.ANSWERING):
                self.answered = True
                return self._prompt_then_listen(Step.GREETING, "greeting", now)
            case m.PROMPT_FINISHED if prompting:
                if data.get("interrupted"):
                    return []  # barge-in: speech.started moves the flow on
                if self.listening:
                    return self._go(Step.LISTENING, now, self.timeouts.listen_s)
                return self._listen(now)
            case m.PROMPT_FAILED if self.step in (Step.GREETING, Step.ASKING_AGAIN, Step.CLOSING):
                # Without prompts the node cannot talk to the caller: end the call.
                return self._hang_up(now, "prompt_failed")
            case m.SPEECH_STARTED if prompting and self.listening:
                return self._go(Step.LISTENING, now, self.timeouts.listen_s)  # barge-in
            case m.ASR_STREAMING if self._this_turn(data):
                self.asr_active = True
                return []
            case m.ASR_UNAVAILABLE if self._this_turn(data):
                self.asr_active, self.asr_lost = False, True
                if self.step is Step.TRANSCRIBING:
                    return self._offer_agent(now, "asr_unavailable")
                return []
            case m.ASR_FINAL if data.get("leg", "caller") == "caller":
                return self._on_final(data, now)
            case m.ASR_FAILED if data.get("leg", "caller") == "caller" and self._this_turn(data):
                if self.step in (Step.LISTENING, Step.TRANSCRIBING) or prompting:
                    return self._try_again(now, "asr_failed")
                return []
            case m.ASR_DONE if self._this_turn(data) and self.step is Step.TRANSCRIBING:
                return self._try_again(now, "nothing_understood")  # no substantive final came
            case m.SPEECH_ENDED if self.step is Step.LISTENING or (prompting and self.listening):
                self.listening = False
                self.speech_ms = int(data.get("speech_ms", 0))
                if self.asr_active:
                    return self._go(Step.TRANSCRIBING, now, self.timeouts.transcript_s)
                if self.asr_lost:
                    return self._offer_agent(now, "asr_unavailable")
                return self._close(now, "closing")  # no ASR: the recording holds the words
            case m.LISTEN_TIMEOUT if self.step is Step.LISTENING:
                self.listening = False
                return self._try_again(now, "no_input")
            case m.DTMF:
                return self._on_digit(str(data.get("digit", "")), now)
            case m.PROMPT_FINISHED if self.step is Step.EMERGENCY:
                return self._go(
                    Step.TRANSFERRING,
                    now,
                    self.timeouts.transfer_s,
                    Command(m.TRANSFER, {"number": self.emergency}),
                )
            case m.PROMPT_FAILED if self.step is Step.EMERGENCY:
                return self._go(  # no prompt: transfer all the same
                    Step.TRANSFERRING,
                    now,
                    self.timeouts.transfer_s,
                    Command(m.TRANSFER, {"number": self.emergency}),
                )
            case m.TRANSFER_STATUS if self.step is Step.TRANSFERRING:
                code = int(data.get("code", 0))
                if not data.get("final"):
                    return []
                if 200 <= code < 300:
                    return self._hang_up(now, "transferred")
                # The network refused the transfer: tell the caller to dial it.
                return self._close(now, f"emergency_dial_{self.emergency}")
            case m.PROMPT_FINISHED if self.step is Step.CLOSING:
                if data.get("interrupted"):
                    return []
                return self._hang_up(now, "flow_complete")
            case m.PROMPT_FINISHED if (
                self.step is Step.VOICEMAIL
                and not self.listening
                and not data.get("interrupted")
                and data.get("prompt") in ("voicemail", "voicemail_busy")
            ):
                self.turn += 1
                self.listening = True
                self.asr_active = False
                return [Command(m.LISTEN, {"turn": self.turn, **self._voicemail_listen})]
            case m.SPEECH_ENDED | m.LISTEN_TIMEOUT if self.step is Step.VOICEMAIL:
                self.listening = False
                return self._close(now, "voicemail_saved")
            case m.AGENT_ANSWERED if self.step is Step.QUEUED:
                self.agent_id = str(data.get("agent_id", ""))
                return self._go(Step.CONNECTED, now, None)
            case m.AGENT_HUNGUP if self.step is Step.CONNECTED:
                return self._close(now, "closing")  # the agent finished with the caller
            case m.ASR_FINAL if data.get("leg") == "agent":
                self.transcript.append(self._line(data, "agent"))
                return []
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
            return self._try_again(now, "no_transcript")  # the text never came
        if self.step is Step.TRANSFERRING:
            return self._close(now, f"emergency_dial_{self.emergency}")
        if self.step in (Step.QUEUED, Step.CONNECTED):
            return []  # seat allocation keeps the time while the caller waits or talks
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

    def leave_queue(self, now: float, prompt: str) -> list[Command]:
        """Seat allocation gave up on the call (wait limit, callback booked, queue
        full): say ``prompt`` and hang up."""
        if self.step is not Step.QUEUED:
            return []
        return [Command(m.STOP_PLAYBACK), *self._close(now, prompt)]

    def take_over(self, now: float, why: str) -> list[Command]:
        """A call the node placed itself (a 回访 survey) whose citizen wants a person:
        answered already, it goes to seat allocation like a caller's own call."""
        self.answered = True
        self.history.append((now, f"taken_over:{why}"))
        return self._offer_agent(now, why)

    def late_final(self, data: dict[str, Any]) -> None:
        """A transcript that came after the call ended (the last utterance is decoded
        once the audio stops): kept for the transcript, nothing else happens."""
        if data.get("text"):
            self.transcript.append(self._line(data, str(data.get("leg", "caller"))))

    def _line(self, data: dict[str, Any], leg: str) -> dict[str, Any]:
        line = _line(data, self.turn, leg)
        offset = self._stream_offsets.get((leg, int(data.get("turn", self.turn) or 0)))
        start = data.get("start_s")
        if offset is not None and isinstance(start, int | float):
            line["call_s"] = round(offset + start, 2)  # where in the recording it was said
        return line

    def voicemail(self, now: float, max_s: float, prompt: str = "voicemail") -> list[Command]:
        """After hours or overload: the caller is asked to leave a message (recorded
        and transcribed); the ticket gets a callback task."""
        self.callback_reason = "voicemail"
        self._voicemail_listen = {
            "max_speech_s": max_s,
            "no_input_s": 10.0,
            "end_silence_ms": 3000,
            "barge_in": False,
        }
        stop = [Command(m.STOP_LISTENING)] if self.listening else []
        self.listening = False
        self.wants_agent = False
        return stop + self._go(Step.VOICEMAIL, now, max_s + self.timeouts.prompt_s, _play(prompt))

    def requeue(self, now: float, group: str) -> list[Command]:
        """The agent transferred the caller to another seat group: they wait again."""
        if self.step is not Step.CONNECTED:
            return []
        self.seat_group, self.agent_id = group, ""
        return self._go(Step.QUEUED, now, None, _play("transfer_agent"))

    def agent_lost(self, now: float) -> list[Command]:
        """The agent's leg failed after the caller was connected (or no agent is left
        to take the call): the caller is told and the call ends, recorded."""
        if self.step not in (Step.QUEUED, Step.CONNECTED):
            return []
        return self._close(now, "agent_unavailable")

    # ---- steps ----------------------------------------------------------------
    def _on_final(self, data: dict[str, Any], now: float) -> list[Command]:
        text = str(data.get("text", ""))
        substantive = bool(data.get("substantive", bool(text.strip())))
        self.transcript.append(self._line(data, "caller"))
        if self.step in (Step.QUEUED, Step.CONNECTED, Step.VOICEMAIL):
            return []  # words said while waiting, to the agent or as a message: kept
        if not substantive or not self._this_turn(data):
            return []  # 喂？ or a result of an earlier turn: keep listening
        self.understood = True
        if self.step not in (Step.LISTENING, Step.TRANSCRIBING, Step.GREETING, Step.ASKING_AGAIN):
            return []
        commands = [Command(m.STOP_LISTENING)] if self.listening else []
        self.listening = False
        understanding = data.get("understanding")
        if isinstance(understanding, Understanding):
            self.understanding = understanding
            self.seat_group = understanding.seat_group
            number = understanding.emergency.number if understanding.emergency else ""
            if number:
                self.emergency = number
                return commands + self._go(
                    Step.EMERGENCY, now, self.timeouts.prompt_s, _play(f"emergency_{number}")
                )
            if understanding.low_confidence and self.turn < self.options.asks:
                # Not sure what it is about: once more, with a hint of what helps.
                return commands + self._prompt_then_listen(Step.ASKING_AGAIN, "ask_detail", now)
            if understanding.low_confidence:
                self.seat_group = understanding.general_seat_group or self.seat_group
        if self.options.seats:
            return commands + self._queue(now)
        return commands + self._close(now, "closing")

    def _try_again(self, now: float, why: str) -> list[Command]:
        """Nothing understood this turn: ask once more, then offer a human."""
        stop = [Command(m.STOP_LISTENING)] if self.listening else []
        self.listening = False
        self.history.append((now, f"turn_{self.turn}_{why}"))
        if self.turn < self.options.asks:
            return stop + self._prompt_then_listen(Step.ASKING_AGAIN, "ask_again", now)
        if self.understood:
            return stop + self._go_on_with_what_was_said(now, why)
        if why == "no_input":
            return stop + self._close(now, "no_input")
        return stop + self._offer_agent(now, why)

    def _go_on_with_what_was_said(self, now: float, why: str) -> list[Command]:
        """An earlier turn said something, this one added nothing: on to a human
        (the general seat group if that turn was unsure), never the end of the call."""
        if self.understanding is not None and self.understanding.low_confidence:
            self.seat_group = self.understanding.general_seat_group or self.seat_group
        if self.options.seats:
            self.agent_offered = why
            return self._queue(now)
        return self._close(now, "closing")

    def _offer_agent(self, now: float, why: str) -> list[Command]:
        self.agent_offered = why
        if self.options.seats:
            return self._queue(now)
        return self._close(now, "agent_unavailable")  # no agents configured

    def _queue(self, now: float) -> list[Command]:
        """Hand the call to seat allocation: the caller hears that a human comes."""
        self.wants_agent = True
        return self._go(Step.QUEUED, now, None, _play("transfer_agent"))

    def _prompt_then_listen(self, step: Step, prompt: str, now: float) -> list[Command]:
        commands = [_play(prompt)]
        if self.options.barge_in:
            commands.append(self._listen_command(barge_in=True))
        return self._go(step, now, self.timeouts.prompt_s, *commands)

    def _listen(self, now: float) -> list[Command]:
        return self._go(Step.LISTENING, now, self.timeouts.listen_s, self._listen_command())

    def _listen_command(self, barge_in: bool = False) -> Command:
        self.turn += 1
        self.listening = True
        self.asr_active = False
        return Command(m.LISTEN, {"turn": self.turn, "barge_in": barge_in})

    def _this_turn(self, data: dict[str, Any]) -> bool:
        return int(data.get("turn", self.turn) or self.turn) == self.turn

    def _on_digit(self, digit: str, now: float) -> list[Command]:
        if digit and digit == self.options.priority_key and not self.wants_agent:
            self.marked = True
            return []
        if digit != "0" or self.agent_requested:
            return []
        self.agent_requested = True
        commands = [Command(m.STOP_LISTENING)] if self.listening else []
        self.listening = False
        if self.step in (Step.GREETING, Step.ASKING_AGAIN, Step.LISTENING, Step.TRANSCRIBING):
            return commands + self._offer_agent(now, "caller_pressed_0")
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


def _line(data: dict[str, Any], turn: int = 0, leg: str = "caller") -> dict[str, Any]:
    text = str(data.get("text", ""))
    return {
        "leg": leg,
        "turn": data.get("turn", turn),
        "text": text,
        "content": str(data.get("content", text)),
        "fillers": data.get("fillers", []),
        "start_s": data.get("start_s"),
        "end_s": data.get("end_s"),
        "confidence": data.get("confidence"),
        "engine": data.get("engine", ""),
    }


def _play(prompt: str) -> Command:
    return Command(m.PLAY, {"prompt": prompt})
