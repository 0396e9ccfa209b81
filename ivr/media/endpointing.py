"""When the caller starts and stops talking: a level-based endpointer, as plain logic.

No pjsua2, no threads, no clock: the engine thread feeds one :class:`Endpointer`
per listening leg the caller's audio level at each poll (``now`` in seconds,
``level`` as pjmedia reports it, 0-255, and whether a prompt is playing) and
acts on the decisions it returns:

* speech starts once the level has reached ``speech_level`` for ``min_speech_ms``
  (from the first loud poll to the latest); a burst followed by more than
  :data:`NOISE_GAP_S` of quiet before that is forgotten (a click or a cough);
* with ``barge_in``, speech that starts over a prompt stops it first (:class:`BargeIn`);
* speech ends after ``end_silence_ms`` of quiet ("silence"), or ``max_speech_s``
  after it began ("max_speech");
* with no speech, the listen times out ``no_input_s`` after the prompt finished
  (the clock is held while a prompt plays).

After an end or a timeout the endpointer is :attr:`~Endpointer.done` and decides
nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.media.engine_config import ListenParams

NOISE_GAP_S = 0.3  # quiet that forgets a burst too short to be speech


@dataclass(frozen=True)
class BargeIn:
    """The caller talks over the prompt: stop it (comes just before :class:`SpeechStart`)."""


@dataclass(frozen=True)
class SpeechStart:
    """The caller started talking."""


@dataclass(frozen=True)
class SpeechEnd:
    """The caller stopped talking (``reason``: "silence" or "max_speech"); the listen is over."""

    speech_ms: int
    reason: str


@dataclass(frozen=True)
class NoInput:
    """The caller said nothing in time; the listen is over."""


Decision = BargeIn | SpeechStart | SpeechEnd | NoInput


class Endpointer:
    """One listen on one leg, fed the caller's level every poll."""

    def __init__(self, params: ListenParams, started: float) -> None:
        self.params = params
        self.started = started  # the no-input clock (moved on while a prompt plays)
        self.speech_since: float | None = None  # the first loud poll of the current burst
        self.last_voice: float | None = None  # the latest loud poll
        self.speaking = False  # speech start was decided
        self.done = False  # ended or timed out: nothing more to decide

    def feed(self, now: float, level: int, playing: bool) -> list[Decision]:
        """One poll: the caller's ``level`` at ``now``; ``playing``: a prompt is playing."""
        if self.done:
            return []
        p = self.params
        decisions: list[Decision] = []
        if level >= p.speech_level:
            self.last_voice = now
            if self.speech_since is None:
                self.speech_since = now
        since = self.speech_since
        last = now if self.last_voice is None else self.last_voice  # set whenever ``since`` is
        if since is not None and not self.speaking and last - since >= p.min_speech_ms / 1000:
            self.speaking = True
            if p.barge_in and playing:
                decisions.append(BargeIn())  # the prompt gives way at once
            decisions.append(SpeechStart())
        if self.speaking:
            assert since is not None
            speech_ms = int((last - since) * 1000)
            if now - last >= p.end_silence_ms / 1000:
                self.done = True
                decisions.append(SpeechEnd(speech_ms, "silence"))
            elif now - since >= p.max_speech_s:
                self.done = True
                decisions.append(SpeechEnd(speech_ms, "max_speech"))
        elif playing:
            self.started = now  # the no-input clock starts once the prompt is over
        elif now - self.started >= p.no_input_s:
            self.done = True
            decisions.append(NoInput())
        elif since is not None and now - last > NOISE_GAP_S:
            self.speech_since = None  # a click or a cough, not speech
        return decisions
