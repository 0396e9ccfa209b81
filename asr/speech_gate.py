"""How much of a stretch of audio is a person speaking: the gate before every decode.

Whisper always writes *something*: given silence, line hiss, a held call, a fax
tone or DTMF it invents fluent sentences ("我以为你对我…", "再次再次…"), and
which ones depends on the CPU's int8 kernels.  So no audio reaches the decoder
unless this module finds speech in it, and the finding is deterministic
(integer VAD and float64 FFTs), the same on every machine.

A 20 ms frame counts as speech when all of these hold:

- WebRTC's VAD calls it voiced (the node's classifier, injected);
- it is not noise: the spectral flatness of the 64 ms window starting there,
  over 100–3800 Hz, is below :attr:`GateConfig.max_flatness` (white noise and
  hiss are flat, about 0.56; voiced speech is below 0.25);
- it is not a machine sound: in the second around it, fewer than half of the
  voiced frames are *steady* (spectrum unchanged 100 ms later: tones, call
  progress and fax tones, held notes of hold music) or *DTMF* (nearly all power
  at one low-group and one high-group DTMF frequency).  Speech changes within
  100 ms: at most about one frame in six is steady in real Mandarin.

Pure functions over samples; no I/O, no clocks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from asr.vad import FRAME_MS, Classifier

DTMF_LOW = (697.0, 770.0, 852.0, 941.0)
DTMF_HIGH = (1209.0, 1336.0, 1477.0, 1633.0)


@dataclass(frozen=True)
class GateConfig:
    min_speech_s: float = 0.15  # less than this is not worth decoding ("嗯" is about 0.2 s)
    max_flatness: float = 0.4  # above: noise-like frame
    steady_similarity: float = 0.9  # spectrum this similar 100 ms later: a steady sound
    machine_share: float = 0.5  # this share of steady/DTMF frames in a second: not a person
    dtmf_share: float = 0.8  # power at one DTMF pair for a frame to be a key tone


@dataclass(frozen=True)
class SpeechEvidence:
    """What the gate found; ``speech_s`` is the part a decoder may turn into words."""

    audio_s: float
    voiced_s: float  # WebRTC VAD alone
    speech_s: float  # voiced, not noise, not a machine sound
    reason: str  # why there is no speech, or "" when there is

    @property
    def has_speech(self) -> bool:
        return not self.reason


_WINDOW_S = 0.064
_LAG_FRAMES = 5  # 100 ms
_NEIGHBOURHOOD = 25  # frames either side: about a second in all


def assess(
    samples: np.ndarray,
    sample_rate: int,
    classify: Classifier,
    config: GateConfig = GateConfig(),
) -> SpeechEvidence:
    """The speech in ``samples`` (mono float in [-1, 1]), judged frame by frame."""
    frame = sample_rate * FRAME_MS // 1000
    audio = np.asarray(samples, dtype=np.float64)
    count = len(audio) // frame
    audio_s = round(len(audio) / sample_rate, 3)
    if count == 0:
        return SpeechEvidence(audio_s, 0.0, 0.0, "no audio")
    pcm = (np.clip(audio[: count * frame], -1.0, 1.0) * 32767).astype("<i2")
    voiced = np.fromiter(
        (classify(pcm[i * frame : (i + 1) * frame].tobytes()) for i in range(count)),
        dtype=bool,
        count=count,
    )
    voiced_s = _seconds(int(voiced.sum()))
    if not voiced.any():
        return SpeechEvidence(audio_s, 0.0, 0.0, "no voiced frames")
    spectra, freqs = _spectra(audio, sample_rate, count, frame)
    noisy = _flatness(spectra) > config.max_flatness
    machine = _steady(spectra, config.steady_similarity) | _dtmf(spectra, freqs, config)
    machine_region = _share_around(machine & voiced, voiced) >= config.machine_share
    speech = voiced & ~noisy & ~machine_region
    speech_s = _seconds(int(speech.sum()))
    if speech_s >= config.min_speech_s:
        return SpeechEvidence(audio_s, voiced_s, speech_s, "")
    if (voiced & ~noisy).sum() <= (voiced & noisy).sum():
        reason = "noise"
    elif machine_region[voiced].mean() >= 0.5:
        reason = "tones or music"
    else:
        reason = "too little speech"
    return SpeechEvidence(audio_s, voiced_s, speech_s, reason)


def _seconds(frames: int) -> float:
    return round(frames * FRAME_MS / 1000, 3)


def _spectra(audio: np.ndarray, rate: int, count: int, frame: int) -> tuple[np.ndarray, np.ndarray]:
    """Power spectra (100–3800 Hz) of the 64 ms window starting at each frame."""
    size = int(rate * _WINDOW_S)
    padded = np.concatenate([audio, np.zeros(size)])
    starts = np.arange(count) * frame
    windows = padded[starts[:, None] + np.arange(size)[None, :]] * np.hanning(size)
    nfft = 1 << (4 * size - 1).bit_length()  # zero-padded to a few Hz per bin
    freqs = np.fft.rfftfreq(nfft, 1 / rate)
    band = (freqs >= 100) & (freqs <= 3800)
    power = np.abs(np.fft.rfft(windows, nfft, axis=1)[:, band]) ** 2
    return power + 1e-18, freqs[band]


def _flatness(spectra: np.ndarray) -> np.ndarray:
    return np.exp(np.mean(np.log(spectra), axis=1)) / np.mean(spectra, axis=1)


def _steady(spectra: np.ndarray, threshold: float) -> np.ndarray:
    now, later = spectra[:-_LAG_FRAMES], spectra[_LAG_FRAMES:]
    similarity = (now * later).sum(axis=1) / np.sqrt(
        (now * now).sum(axis=1) * (later * later).sum(axis=1)
    )
    steady = np.zeros(len(spectra), dtype=bool)
    steady[: len(similarity)] = similarity > threshold
    return steady


def _dtmf(spectra: np.ndarray, freqs: np.ndarray, config: GateConfig) -> np.ndarray:
    def near(tones: tuple[float, ...]) -> list[np.ndarray]:
        return [np.abs(freqs - tone) <= 25 for tone in tones]

    total = spectra.sum(axis=1)
    low = np.max([spectra[:, m].sum(axis=1) for m in near(DTMF_LOW)], axis=0)
    high = np.max([spectra[:, m].sum(axis=1) for m in near(DTMF_HIGH)], axis=0)
    return (low + high) / total >= config.dtmf_share


def _share_around(marked: np.ndarray, among: np.ndarray) -> np.ndarray:
    """For each frame: marked frames / ``among`` frames within about a second."""
    kernel = np.ones(2 * _NEIGHBOURHOOD + 1)
    hits = np.convolve(marked.astype(float), kernel, mode="same")
    base = np.convolve(among.astype(float), kernel, mode="same")
    return np.divide(hits, base, out=np.zeros_like(hits), where=base > 0)


def webrtc_gate(aggressiveness: int = 2) -> Callable[[int], Classifier]:
    """Classifier factory for :func:`assess`: a new WebRTC VAD for each assessment.

    A fresh one every time: WebRTC's VAD adapts to the noise it has heard, so one
    shared across utterances would judge each by the ones before it.
    """
    from asr.vad import webrtc_classifier

    return lambda rate: webrtc_classifier(rate, aggressiveness)
