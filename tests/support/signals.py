"""Constructed 8 kHz int16 audio for end-of-turn tests: a tone, silence, and a plain
energy classifier for 20 ms frames."""

from __future__ import annotations

import numpy as np

RATE = 8000


def tone(seconds: float, amplitude: float = 8000.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.int16)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.int16)


def energy(frame: bytes) -> bool:
    samples = np.frombuffer(frame, np.int16).astype(np.float64)
    return bool(np.sqrt((samples**2).mean()) > 500)
