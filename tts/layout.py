"""Where a rendered prompt lives in the cache (no synthesis imports: media workers
only look prompts up)."""

from __future__ import annotations

from pathlib import Path


def prompt_path(prompts_dir: Path, sample_rate: int, prompt_id: str) -> Path:
    return prompts_dir / str(sample_rate) / f"{prompt_id}.wav"
