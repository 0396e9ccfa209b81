"""A call's transcript beside its recordings: ``<call dir>/transcript.json``.

Written by the hub once the call has ended and its recordings are saved: what
the caller said, turn by turn, with times (seconds from the start of the turn's
audio), the engine's confidence and the fillers marked, plus how the flow
ended (understood, a human offered and why).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

TRANSCRIPT = "transcript.json"


def write_transcript(directory: Path, record: dict[str, Any]) -> Path:
    """Write atomically (temp file + rename); the directory must exist."""
    if not directory.is_dir():
        raise FileNotFoundError(f"no recordings directory {directory}")
    path = directory / TRANSCRIPT
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def read_transcript(directory: Path) -> dict[str, Any]:
    return json.loads((directory / TRANSCRIPT).read_text(encoding="utf-8"))
