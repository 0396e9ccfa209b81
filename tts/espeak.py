"""Speech synthesis with espeak-ng (Debian ``espeak-ng``), offline.

Debian 12's plain ``cmn`` voice reads many characters as pinyin with English
tone numbers; ``cmn-latn-pinyin`` speaks Mandarin (DESIGN.md, "Models").
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
import soxr


class SynthesisError(Exception):
    """Text could not be synthesized; retrying will not help."""

    retryable = False


def espeak_binary() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise SynthesisError(
            "espeak-ng is not installed: run `apt-get install espeak-ng` "
            "(the setup script does this)"
        )
    return path


def check_voice(voice: str) -> None:
    listing = subprocess.run(
        [espeak_binary(), "--voices"], capture_output=True, text=True, timeout=10, check=False
    ).stdout
    names = {line.split()[1] for line in listing.splitlines()[1:] if len(line.split()) > 1}
    if voice not in names:
        raise SynthesisError(
            f"espeak-ng has no voice {voice!r}; install espeak-ng-data or set "
            f"prompts.voice to one of: {', '.join(sorted(n for n in names if 'cmn' in n))}"
        )


def synthesize(text: str, voice: str, words_per_minute: int, sample_rate: int) -> bytes:
    """16-bit mono PCM WAV bytes at ``sample_rate``."""
    if not text.strip():
        raise SynthesisError("nothing to say: the text is empty")
    with tempfile.TemporaryDirectory(prefix="hotline-tts-") as tmp:
        raw = Path(tmp) / "speech.wav"
        result = subprocess.run(
            [espeak_binary(), "-v", voice, "-s", str(words_per_minute), "-w", str(raw), text],
            capture_output=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0 or not raw.exists():
            message = result.stderr.decode(errors="replace").strip()
            raise SynthesisError(f"espeak-ng failed: {message}")
        with wave.open(str(raw)) as source:
            rate = source.getframerate()
            samples = np.frombuffer(source.readframes(source.getnframes()), dtype=np.int16)
    return mono_wav_bytes(samples, rate, sample_rate)


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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(wav_bytes)
    tmp.replace(path)
