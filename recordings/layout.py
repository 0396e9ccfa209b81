"""Where a call's recordings live: ``<root>/<yyyy>/<mm>/<dd>/<call-id>/``."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

MANIFEST = "manifest.json"
CHAIN = "chain.jsonl"
_CALL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def call_dir(root: Path, call_id: str, started: datetime) -> Path:
    if not _CALL_ID.match(call_id):
        raise ValueError(f"unsafe call id for a path: {call_id!r}")
    return root / f"{started:%Y}" / f"{started:%m}" / f"{started:%d}" / call_id


def leg_file(directory: Path, leg: str) -> Path:
    return directory / f"{leg}.wav"


def manifests(root: Path) -> list[Path]:
    """Every manifest under ``root``, oldest day first."""
    return sorted(root.glob(f"[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/*/{MANIFEST}"))
