"""The media engine's endpointer on virtual time: levels in, decisions out.

Levels come every ``POLL_MS`` as the engine polls them; the thresholds are the
ones the node listens with by default (``listen`` in the settings).  A decision
is allowed one poll of lateness after its threshold (the engine compares float
seconds), never earlier.
"""

from __future__ import annotations

import pytest

from ivr.media.endpointing import (
    NOISE_GAP_S,
    BargeIn,
    Decision,
    Endpointer,
    NoInput,
    SpeechEnd,
    SpeechStart,
)
from ivr.media.engine_config import POLL_MS, ListenParams
from sip_config.settings import ListenSection

LISTEN = ListenSection()
LOUD = LISTEN.speech_level  # at the threshold counts as voice
QUIET = LISTEN.speech_level - 1
NOISE_GAP_MS = round(NOISE_GAP_S * 1000)
START = 7_000_000  # ms: the engine's clock is time.monotonic(), far from zero


def params(**changes: object) -> ListenParams:
    values: dict[str, object] = {
        "listen_id": "listen-1",
        "speech_level": LISTEN.speech_level,
        "no_input_s": LISTEN.no_input_s,
        "end_silence_ms": LISTEN.end_silence_ms,
        "min_speech_ms": LISTEN.min_speech_ms,
        "max_speech_s": LISTEN.max_speech_s,
        "barge_in": LISTEN.barge_in,
    }
    values.update(changes)
    return ListenParams(**values)  # type: ignore[arg-type]


class Line:
    """A listening leg polled every POLL_MS; ``heard`` keeps (ms since start, decision)."""

    def __init__(self, listen: ListenParams | None = None) -> None:
        self.ms = 0
        self.endpointer = Endpointer(listen or params(), started=START / 1000)
        self.heard: list[tuple[int, Decision]] = []
        self.loud: list[int] = []  # when a loud poll came

    def run(self, duration_ms: int, level: int, playing: bool = False) -> list[Decision]:
        decided: list[Decision] = []
        end = self.ms + duration_ms
        while self.ms < end:
            self.ms += POLL_MS
            if level >= self.endpointer.params.speech_level:
                self.loud.append(self.ms)
            for decision in self.endpointer.feed((START + self.ms) / 1000, level, playing):
                decided.append(decision)
                self.heard.append((self.ms, decision))
        return decided

    def when(self, kind: type) -> int:
        (ms,) = [ms for ms, decision in self.heard if isinstance(decision, kind)]
        return ms

    def kinds(self) -> list[type]:
        return [type(decision) for _, decision in self.heard]

    def end(self) -> SpeechEnd:
        (end,) = [decision for _, decision in self.heard if isinstance(decision, SpeechEnd)]
        return end


def within_a_poll(elapsed_ms: int, threshold_ms: float) -> bool:
    return threshold_ms <= elapsed_ms <= threshold_ms + POLL_MS


def test_speech_starts_once_the_caller_was_loud_for_min_speech() -> None:
    line = Line()
    line.run(1_000, QUIET)
    line.run(LISTEN.min_speech_ms + 5 * POLL_MS, LOUD)
    assert line.kinds() == [SpeechStart]
    assert within_a_poll(line.when(SpeechStart) - line.loud[0], LISTEN.min_speech_ms)
    assert not line.endpointer.done


def test_a_level_under_speech_level_is_silence() -> None:
    line = Line()
    line.run(round(LISTEN.no_input_s * 1000) + 1_000, QUIET)
    assert line.kinds() == [NoInput]


def test_speech_ends_after_the_trailing_silence() -> None:
    line = Line()
    line.run(500, QUIET)
    line.run(1_000, LOUD)
    line.run(LISTEN.end_silence_ms + 1_000, QUIET)
    assert line.kinds() == [SpeechStart, SpeechEnd]
    assert line.end().reason == "silence"
    assert within_a_poll(line.when(SpeechEnd) - line.loud[-1], LISTEN.end_silence_ms)
    assert abs(line.end().speech_ms - (line.loud[-1] - line.loud[0])) <= 1  # first to last loud
    assert line.endpointer.done
    assert line.run(10_000, LOUD) == []  # the listen is over: nothing more is decided


def test_a_pause_shorter_than_end_silence_does_not_end_the_speech() -> None:
    line = Line()
    line.run(600, LOUD)
    line.run(LISTEN.end_silence_ms - 2 * POLL_MS, QUIET)
    line.run(600, LOUD)
    line.run(LISTEN.end_silence_ms + POLL_MS, QUIET)
    assert line.kinds() == [SpeechStart, SpeechEnd]
    assert line.end().reason == "silence"
    assert abs(line.end().speech_ms - (line.loud[-1] - line.loud[0])) <= 1


def test_speech_ends_at_max_speech() -> None:
    line = Line()
    line.run(200, QUIET)
    line.run(round(LISTEN.max_speech_s * 1000) + 1_000, LOUD)
    assert line.kinds() == [SpeechStart, SpeechEnd]
    assert line.end().reason == "max_speech"
    assert within_a_poll(line.when(SpeechEnd) - line.loud[0], LISTEN.max_speech_s * 1000)
    assert abs(line.end().speech_ms - LISTEN.max_speech_s * 1000) <= POLL_MS + 1
    assert line.endpointer.done


def test_no_input_times_out_after_no_input_s() -> None:
    line = Line()
    assert line.run(round(LISTEN.no_input_s * 1000) - POLL_MS, QUIET) == []
    line.run(1_000, QUIET)
    assert line.kinds() == [NoInput]
    assert within_a_poll(line.when(NoInput), LISTEN.no_input_s * 1000)
    assert line.endpointer.done
    assert line.run(2_000, LOUD) == []


def test_the_no_input_clock_starts_when_the_prompt_is_over() -> None:
    line = Line()
    prompt_ms = round(LISTEN.no_input_s * 1000) + 4_000  # longer than no_input_s itself
    assert line.run(prompt_ms, QUIET, playing=True) == []
    line.run(round(LISTEN.no_input_s * 1000) + 1_000, QUIET)
    assert line.kinds() == [NoInput]
    assert within_a_poll(line.when(NoInput) - prompt_ms, LISTEN.no_input_s * 1000)


def test_speech_that_started_is_never_timed_out() -> None:
    line = Line()
    line.run(round(LISTEN.no_input_s * 1000) - 500, QUIET)
    line.run(2_000, LOUD)  # goes on past no_input_s
    line.run(LISTEN.end_silence_ms + POLL_MS, QUIET)
    assert line.kinds() == [SpeechStart, SpeechEnd]


def test_short_noise_bursts_are_not_speech() -> None:
    line = Line()
    burst_ms = LISTEN.min_speech_ms - 2 * POLL_MS  # loud, but not for min_speech_ms
    gap_ms = NOISE_GAP_MS + 5 * POLL_MS  # long enough to forget the burst
    while line.ms < LISTEN.no_input_s * 1000 - (burst_ms + gap_ms):
        line.run(burst_ms, LOUD)
        line.run(gap_ms, QUIET)
    assert len(line.loud) > 2 * LISTEN.min_speech_ms // POLL_MS  # plenty of noise, in all
    line.run(burst_ms + gap_ms + 1_000, QUIET)
    assert line.kinds() == [NoInput]  # and the bursts did not hold the no-input clock
    assert within_a_poll(line.when(NoInput), LISTEN.no_input_s * 1000)


@pytest.mark.parametrize(
    ("gap_ms", "speech"),
    [(NOISE_GAP_MS - 2 * POLL_MS, True), (NOISE_GAP_MS + 2 * POLL_MS, False)],
)
def test_bursts_closer_than_the_noise_gap_add_up_to_speech(gap_ms: int, speech: bool) -> None:
    line = Line()
    burst_ms = LISTEN.min_speech_ms // 2  # each too short alone
    line.run(burst_ms, LOUD)
    line.run(gap_ms, QUIET)
    second_burst = line.ms + POLL_MS
    line.run(burst_ms, LOUD)
    assert line.kinds() == ([SpeechStart] if speech else [])
    if speech:  # counted from the first burst: at the second burst's first poll that
        # is min_speech_ms after the first burst began
        first = line.loud[0]
        due = [ms for ms in line.loud if ms >= second_burst and ms - first >= LISTEN.min_speech_ms]
        assert line.when(SpeechStart) == due[0]


def test_barge_in_stops_the_prompt_just_before_speech_starts() -> None:
    line = Line(params(barge_in=True))
    line.run(500, QUIET, playing=True)
    decided = line.run(LISTEN.min_speech_ms + 2 * POLL_MS, LOUD, playing=True)
    assert decided == [BargeIn(), SpeechStart()]
    assert line.heard[0][0] == line.heard[1][0]  # in the same poll
    assert within_a_poll(line.when(SpeechStart) - line.loud[0], LISTEN.min_speech_ms)


@pytest.mark.parametrize(("barge_in", "playing"), [(False, True), (True, False)])
def test_no_barge_in_without_both_barge_in_and_a_prompt(barge_in: bool, playing: bool) -> None:
    line = Line(params(barge_in=barge_in))
    line.run(LISTEN.min_speech_ms + 2 * POLL_MS, LOUD, playing=playing)
    line.run(LISTEN.end_silence_ms + POLL_MS, QUIET, playing=playing)
    assert line.kinds() == [SpeechStart, SpeechEnd]  # a prompt still playing ends nothing


def test_each_listen_uses_its_own_thresholds() -> None:
    listen = params(speech_level=40, min_speech_ms=100, end_silence_ms=400, no_input_s=2.0)
    line = Line(listen)
    line.run(500, 39)  # loud enough for the defaults, not for this listen
    quiet_until = line.ms
    line.run(200, 40)
    line.run(600, 0)
    assert line.kinds() == [SpeechStart, SpeechEnd]
    assert line.loud[0] == quiet_until + POLL_MS
    assert within_a_poll(line.when(SpeechStart) - line.loud[0], 100)
    assert within_a_poll(line.when(SpeechEnd) - line.loud[-1], 400)
    short = Line(listen)
    short.run(3_000, 39)
    assert within_a_poll(short.when(NoInput), 2_000)
