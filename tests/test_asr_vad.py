"""End of turn on constructed audio (asr/vad.py): frames in, events out."""

from __future__ import annotations

import numpy as np
import pytest

from asr.audio import read_wav
from asr.vad import EndpointConfig, Endpointer, SpeechEnd, SpeechStart, webrtc_classifier
from tests.support.nodes import SPEECH
from tests.support.signals import RATE, energy, silence, tone

FRAME = RATE // 50


def run(audio: np.ndarray, config: EndpointConfig, classify=energy) -> list:
    endpointer = Endpointer(config, classify)
    events = []
    for start in range(0, len(audio) - FRAME + 1, FRAME):
        events += endpointer.feed(audio[start : start + FRAME].tobytes())
    return events + endpointer.flush()


CONFIG = EndpointConfig(sample_rate=RATE, min_speech_ms=200, end_silence_ms=800)


def test_a_short_pause_keeps_one_turn() -> None:
    audio = np.concatenate([silence(0.5), tone(1.0), silence(0.3), tone(1.0), silence(1.0)])
    events = run(audio, CONFIG)
    assert [type(e) for e in events] == [SpeechStart, SpeechEnd]
    start, end = events
    assert start.at_s == pytest.approx(0.5, abs=0.05)
    assert end.reason == "silence" and end.end_s == pytest.approx(2.8, abs=0.05)
    assert len(end.audio) / 2 / RATE == pytest.approx(2.3 + 0.2, abs=0.1)  # with pre-roll


def test_a_long_pause_ends_the_turn() -> None:
    audio = np.concatenate([tone(1.0), silence(1.2), tone(0.6), silence(1.0)])
    events = run(audio, CONFIG)
    assert [type(e) for e in events] == [SpeechStart, SpeechEnd, SpeechStart, SpeechEnd]
    assert events[1].end_s == pytest.approx(1.0, abs=0.05)
    assert events[2].at_s == pytest.approx(2.2, abs=0.05)


def test_clicks_shorter_than_min_speech_are_not_speech() -> None:
    audio = np.concatenate([silence(0.3), tone(0.1), silence(0.5), tone(0.1), silence(0.5)])
    assert run(audio, CONFIG) == []


def test_long_talk_is_cut_at_max_utterance_and_flush_finishes_a_turn() -> None:
    config = EndpointConfig(sample_rate=RATE, max_utterance_s=2.0)
    events = run(tone(3.0), config)
    ends = [e for e in events if isinstance(e, SpeechEnd)]
    assert [e.reason for e in ends] == ["max_utterance", "flush"]


def test_wrong_frame_size_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="expected 320 bytes"):
        Endpointer(CONFIG, energy).feed(b"\0" * 100)


@pytest.mark.parametrize(
    "name", ["aishell1_BAC009S0764W0121_8k_ulaw_sim.wav", "aishell1_BAC009S0764W0121.wav"]
)
def test_webrtc_vad_finds_real_speech_and_ignores_line_noise(name: str) -> None:
    samples, rate = read_wav(SPEECH / name)
    pcm = (samples * 32767).astype(np.int16)
    config = EndpointConfig(sample_rate=rate, end_silence_ms=800)
    frame = rate // 50
    lead = np.zeros(rate // 2, np.int16)
    audio = np.concatenate([lead, pcm, np.zeros(rate * 2, np.int16)])
    endpointer = Endpointer(config, webrtc_classifier(rate))
    events = []
    for start in range(0, len(audio) - frame + 1, frame):
        events += endpointer.feed(audio[start : start + frame].tobytes())
    starts = [e for e in events if isinstance(e, SpeechStart)]
    ends = [e for e in events if isinstance(e, SpeechEnd)]
    assert len(starts) == len(ends) >= 1
    assert starts[0].at_s < 1.0 and ends[-1].end_s > 0.5 + len(pcm) / rate - 1.0
    rng = np.random.default_rng(1)
    hiss = rng.normal(0, 60, rate * 3).astype(np.int16)  # a quiet telephone line
    endpointer = Endpointer(config, webrtc_classifier(rate))
    for start in range(0, len(hiss) - frame + 1, frame):
        assert endpointer.feed(hiss[start : start + frame].tobytes()) == []
