"""Sounds a telephone line carries that are not a person speaking, made reproducibly.

Each returns mono float32 in [-1, 1]; noise is seeded, so every machine hears
the same samples.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

DTMF = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "4": (770, 1209),
    "5": (770, 1336), "6": (770, 1477), "7": (852, 1209), "8": (852, 1336),
    "9": (852, 1477), "0": (941, 1336), "*": (941, 1209), "#": (941, 1477),
}  # fmt: skip


def at_level(samples: np.ndarray, dbfs: float) -> np.ndarray:
    """Scaled so its RMS is ``dbfs`` relative to full scale."""
    rms = float(np.sqrt(np.mean(np.square(samples)))) or 1.0
    return (samples / rms * 10 ** (dbfs / 20)).astype(np.float32)


def silence(rate: int, seconds: float = 5.0) -> np.ndarray:
    return np.zeros(int(rate * seconds), np.float32)


def dithered_silence(rate: int, seconds: float = 5.0, seed: int = 1) -> np.ndarray:
    """±1 LSB, like sox's dithered silence or a quiet digital line."""
    rng = np.random.default_rng(seed)
    return (rng.integers(-1, 2, int(rate * seconds)) / 32768).astype(np.float32)


def white_noise(rate: int, dbfs: float, seconds: float = 5.0, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return at_level(rng.standard_normal(int(rate * seconds)), dbfs)


def comfort_noise(rate: int, dbfs: float = -50, seconds: float = 5.0, seed: int = 3) -> np.ndarray:
    """Low, spectrally tilted background noise, as RFC 3389 comfort noise is played."""
    rng = np.random.default_rng(seed)
    return at_level(lfilter([1.0], [1.0, -0.97], rng.standard_normal(int(rate * seconds))), dbfs)


def tone(rate: int, hz: float = 1000, seconds: float = 5.0, dbfs: float = -10) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return at_level(np.sin(2 * np.pi * hz * t), dbfs)


def dtmf(
    rate: int, digits: str = "13800138000#", on_s: float = 0.1, off_s: float = 0.1
) -> np.ndarray:
    """A phone number keyed in: 100 ms tone pairs with 100 ms gaps."""
    pieces = []
    for digit in digits:
        low, high = DTMF[digit]
        t = np.arange(int(rate * on_s)) / rate
        pieces += [np.sin(2 * np.pi * low * t) + np.sin(2 * np.pi * high * t)]
        pieces += [np.zeros(int(rate * off_s))]
    keyed = np.concatenate(pieces)
    return (keyed / np.max(np.abs(keyed)) * 0.3).astype(np.float32)


def hold_music(rate: int, seconds: float = 8.0, dbfs: float = -18) -> np.ndarray:
    """A plucked melody with harmonics over a bass line, 0.4 s a note."""
    notes = [261.6, 329.6, 392.0, 523.3, 392.0, 329.6, 293.7, 349.2, 440.0, 587.3, 440.0]
    t = np.arange(int(rate * 0.4)) / rate
    played = []
    for i in range(int(seconds / 0.4)):
        f = notes[i % len(notes)]
        chord = sum(
            a * np.sin(2 * np.pi * f * h * t) for h, a in [(1, 1), (2, 0.5), (3, 0.3), (4, 0.2)]
        )
        played.append((chord + 0.6 * np.sin(np.pi * f * t)) * np.exp(-3 * t))
    return at_level(np.concatenate(played), dbfs)


# Every sound above, by name, at a given sample rate: none of it is a person speaking.
NOT_SPEECH = {
    "digital silence": silence,
    "dithered silence": dithered_silence,
    "white noise -40 dBFS": lambda rate: white_noise(rate, -40),
    "white noise -30 dBFS": lambda rate: white_noise(rate, -30),
    "white noise -20 dBFS": lambda rate: white_noise(rate, -20),
    "comfort noise": comfort_noise,
    "1 kHz tone": tone,
    "450 Hz ringback tone": lambda rate: tone(rate, 450),
    "2100 Hz fax answer tone": lambda rate: tone(rate, 2100),
    "DTMF": dtmf,
    "hold music": hold_music,
}
