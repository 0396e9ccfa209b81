"""The speech gate: what a line carries that is not speech never reaches a decoder."""

from __future__ import annotations

import numpy as np
import pytest

from asr.audio import read_wav
from asr.speech_gate import GateConfig, assess, webrtc_gate
from tests.support import nonspeech
from tests.support.nodes import SPEECH
from tests.support.nonspeech import NOT_SPEECH

CLIPS = sorted(SPEECH.glob("*.wav"))


def _assess(samples: np.ndarray, rate: int):
    return assess(samples, rate, webrtc_gate()(rate))


@pytest.mark.parametrize("rate", [8000, 16000])
@pytest.mark.parametrize("sound", list(NOT_SPEECH))
def test_non_speech_has_no_speech(sound: str, rate: int) -> None:
    evidence = _assess(NOT_SPEECH[sound](rate), rate)
    assert not evidence.has_speech and evidence.reason
    assert evidence.speech_s < GateConfig().min_speech_s


@pytest.mark.parametrize("clip", CLIPS, ids=lambda p: p.name)
def test_recorded_mandarin_is_speech(clip) -> None:
    samples, rate = read_wav(clip)
    evidence = _assess(samples, rate)
    assert evidence.has_speech, evidence
    assert 0.5 * evidence.voiced_s <= evidence.speech_s <= evidence.voiced_s <= evidence.audio_s


@pytest.mark.parametrize("clip", CLIPS[:2], ids=lambda p: p.name)
def test_speech_over_hiss_and_after_a_tone_is_still_speech(clip) -> None:
    samples, rate = read_wav(clip)
    hiss = nonspeech.white_noise(rate, -45, seconds=len(samples) / rate)[: len(samples)]
    with_tone = np.concatenate([nonspeech.tone(rate, 450, seconds=2.0), samples])
    assert _assess(samples + hiss, rate).has_speech
    evidence = _assess(with_tone, rate)
    assert evidence.has_speech and evidence.speech_s >= 0.5 * _assess(samples, rate).speech_s


def test_reasons_say_what_was_heard() -> None:
    assert _assess(nonspeech.silence(8000), 8000).reason == "no voiced frames"
    assert _assess(nonspeech.white_noise(8000, -20), 8000).reason == "noise"
    assert _assess(nonspeech.hold_music(8000), 8000).reason == "tones or music"
    assert _assess(np.zeros(10, np.float32), 8000).reason == "no audio"


def test_the_verdict_does_not_depend_on_what_was_assessed_before() -> None:
    gate = webrtc_gate()
    noise = nonspeech.comfort_noise(8000)
    first = assess(noise, 8000, gate(8000))
    assess(nonspeech.white_noise(8000, -20), 8000, gate(8000))
    assert assess(noise, 8000, gate(8000)) == first
