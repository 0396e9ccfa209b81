"""The prompt catalogue rendered once into a cache at the call sample rates.

``<prompts_dir>/<rate>/<id>.wav`` is what media workers play.  A prompt is
re-rendered only when its text, voice or speed changes (a ``.key`` file beside
the WAV remembers what it was made from).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from tts.espeak import synthesize, write_wav


def prompt_path(prompts_dir: Path, sample_rate: int, prompt_id: str) -> Path:
    return prompts_dir / str(sample_rate) / f"{prompt_id}.wav"


def render_catalogue(
    texts: dict[str, str],
    prompts_dir: Path,
    sample_rates: list[int],
    voice: str,
    words_per_minute: int,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Render every prompt at every rate that is missing or stale; returns the paths."""
    paths = []
    for prompt_id, text in sorted(texts.items()):
        for rate in sample_rates:
            path = prompt_path(prompts_dir, rate, prompt_id)
            key = hashlib.sha256(f"{voice}|{words_per_minute}|{rate}|{text}".encode()).hexdigest()
            key_file = path.with_suffix(".key")
            if not (path.exists() and key_file.exists() and key_file.read_text() == key):
                if progress is not None:
                    progress(f"{prompt_id}@{rate}")
                write_wav(path, synthesize(text, voice, words_per_minute, rate))
                key_file.write_text(key)
            paths.append(path)
    return paths
