"""16-bit mono PCM WAV in and out, resampled to the call rates."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import soxr


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """A 16-bit PCM WAV file as mono samples (channels averaged) and its rate.

    ``ValueError`` says what is wrong with a file that is not such a WAV.
    """
    try:
        with wave.open(str(path)) as source:
            if source.getsampwidth() != 2:
                raise ValueError("not 16-bit PCM; save it as 16-bit PCM WAV")
            rate, channels = source.getframerate(), source.getnchannels()
            samples = np.frombuffer(source.readframes(source.getnframes()), dtype="<i2")
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"not a readable WAV file ({exc})") from None
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples, rate


def mono_wav_bytes(samples: np.ndarray, rate: int, sample_rate: int) -> bytes:
    """Mono samples at ``rate`` as 16-bit PCM WAV bytes at ``sample_rate``."""
    audio = samples.astype(np.float32)
    if rate != sample_rate:
        audio = soxr.resample(audio, rate, sample_rate, quality="HQ")
    pcm = np.clip(np.round(audio), -32768, 32767).astype(np.int16)
    out = io.BytesIO()
    with wave.open(out, "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(2)
        target.setframerate(sample_rate)
        target.writeframes(pcm.tobytes())
    return out.getvalue()


def write_wav(path: Path, wav_bytes: bytes) -> None:
    """Write atomically: a media worker never plays a half-written prompt."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(wav_bytes)
    tmp.replace(path)
