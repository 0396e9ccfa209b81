"""The prompt catalogue rendered once into a cache at the call sample rates.

``<prompts_dir>/<rate>/<id>.wav`` is what media workers play.  A recording of a
voice talent, ``<recorded_dir>/<id>.wav`` (any rate, 16-bit PCM), overrides
synthesis for that prompt, as real hotlines use recorded voices.  A prompt is
rendered again only when its text, voice, speed or recording changes (a
``.key`` file beside the WAV remembers what it was made from).
"""

from __future__ import annotations

import hashlib
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tts.espeak import SynthesisError, mono_wav_bytes, synthesize, write_wav


def prompt_path(prompts_dir: Path, sample_rate: int, prompt_id: str) -> Path:
    return prompts_dir / str(sample_rate) / f"{prompt_id}.wav"


def render_catalogue(
    texts: dict[str, str],
    prompts_dir: Path,
    sample_rates: list[int],
    voice: str,
    words_per_minute: int,
    progress: Callable[[str], None] | None = None,
    recorded_dir: Path | None = None,
) -> list[Path]:
    """Render every prompt at every rate that is missing or stale; returns the paths."""
    paths = []
    for prompt_id, text in sorted(texts.items()):
        recording = recorded_dir / f"{prompt_id}.wav" if recorded_dir else None
        if recording is not None and not recording.exists():
            recording = None
        source = (
            f"recorded:{hashlib.sha256(recording.read_bytes()).hexdigest()}"
            if recording
            else f"{voice}|{words_per_minute}|{text}"
        )
        for rate in sample_rates:
            path = prompt_path(prompts_dir, rate, prompt_id)
            key = hashlib.sha256(f"{source}|{rate}".encode()).hexdigest()
            key_file = path.with_suffix(".key")
            if path.exists() and key_file.exists() and key_file.read_text() == key:
                paths.append(path)
                continue
            if progress is not None:
                progress(f"{prompt_id}@{rate}" + (" (recorded)" if recording else ""))
            if recording is not None:
                audio = convert_recording(recording, rate)
            else:
                audio = synthesize(text, voice, words_per_minute, rate)
            write_wav(path, audio)
            key_file.write_text(key)
            paths.append(path)
    return paths


def convert_recording(path: Path, sample_rate: int) -> bytes:
    """A recorded prompt as 16-bit mono PCM WAV bytes at ``sample_rate``."""
    try:
        with wave.open(str(path)) as source:
            if source.getsampwidth() != 2:
                raise SynthesisError(f"{path}: recorded prompts must be 16-bit PCM WAV")
            rate, channels = source.getframerate(), source.getnchannels()
            samples = np.frombuffer(source.readframes(source.getnframes()), dtype="<i2")
    except (wave.Error, EOFError) as exc:
        raise SynthesisError(f"{path}: not a readable WAV file ({exc})") from None
    audio = samples.reshape(-1, channels).mean(axis=1) if channels > 1 else samples
    return mono_wav_bytes(audio, rate, sample_rate)
