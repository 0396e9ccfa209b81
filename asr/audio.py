"""Reading audio files for recognition: mono float32 at the file's rate."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Samples in [-1, 1] and the sample rate; ``ValueError`` says what is wrong."""
    try:
        with wave.open(str(path)) as source:
            width, channels = source.getsampwidth(), source.getnchannels()
            rate = source.getframerate()
            raw = source.readframes(source.getnframes())
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"{path}: not a readable PCM WAV file ({exc})") from None
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    if width != 2:
        raise ValueError(f"{path}: {8 * width}-bit samples; 16-bit PCM is needed")
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples, rate
