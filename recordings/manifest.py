"""A call's recording manifest: what was recorded, by whom, and its hashes.

The worker writes the manifest when recording starts (``status: recording``),
and finalises it when the call ends (``complete``), adding durations and the
SHA-256 of each file.  A worker that died leaves ``recording`` manifests
behind; :func:`repair_unfinished` fixes their WAV headers and marks them
``incomplete`` so nothing recorded is lost.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recordings.chain import append_to_chain
from recordings.layout import MANIFEST, manifests
from recordings.wav import header_is_consistent, read_summary, repair_file

log = logging.getLogger(__name__)

RECORDING = "recording"
COMPLETE = "complete"
INCOMPLETE = "incomplete"


@dataclass
class LegRecording:
    """One WAV of the call: ``caller`` (what the caller sent, mono), ``played`` (what
    the node played, mono), ``agent`` (what the agent sent, mono) or ``qa`` (caller
    left, agent right: ``channels`` 2).  ``offset_s``: where in the call the file
    starts (the agent's leg begins when the agent answers)."""

    leg: str
    file: str
    channels: int = 1
    sample_rate: int = 0
    duration_s: float = 0.0
    bytes: int = 0
    sha256: str = ""
    offset_s: float = 0.0


@dataclass
class Manifest:
    call_id: str
    sip_call_id: str
    node: str
    worker: str
    caller: str
    called: str
    started_at: str
    sample_rate: int
    legs: list[LegRecording]
    codec: str = ""
    codec_rate: int = 0
    answered_at: str = ""
    ended_at: str = ""
    end_reason: str = ""
    ticket: str = ""  # the work order (工单) number
    agent: str = ""  # the agent id who took the call
    status: str = RECORDING
    notes: list[str] = field(default_factory=list)
    media: dict[str, int] = field(default_factory=dict)  # RTP receive statistics
    schema: int = 1

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Also reads manifests written before a field existed (its default applies)."""
        raw: dict[str, Any] = json.loads(text)
        raw["legs"] = [LegRecording(**leg) for leg in raw.get("legs", [])]
        return cls(**raw)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def write(directory: Path, manifest: Manifest) -> Path:
    """Write atomically (temp file + rename) so a crash never leaves half a manifest."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MANIFEST
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(manifest.to_json(), encoding="utf-8")
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def read(directory: Path) -> Manifest:
    return Manifest.from_json((directory / MANIFEST).read_text(encoding="utf-8"))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def finalise(
    directory: Path, manifest: Manifest, status: str, root: Path, settle_s: float = 0.0
) -> Manifest:
    """Measure and hash every leg, write the manifest and append it to the chain.

    ``settle_s``: how long to wait for a recorder that is still closing its file
    (its header sizes not yet written) before the file is repaired instead.
    """
    deadline = time.monotonic() + settle_s
    for leg in manifest.legs:
        path = directory / leg.file
        while path.exists() and not _final(path) and time.monotonic() < deadline:
            time.sleep(0.02)
        if not path.exists():
            manifest.notes.append(f"{leg.file} is missing")
            status = INCOMPLETE
            continue
        try:
            if repair_file(path):
                manifest.notes.append(f"{leg.file}: WAV header repaired")
            summary = read_summary(path)
            leg.sample_rate = summary.sample_rate
            leg.channels = summary.channels
            leg.duration_s = round(summary.duration_s, 3)
        except ValueError as exc:
            manifest.notes.append(f"{leg.file}: unreadable WAV ({exc})")
            status = INCOMPLETE
        leg.bytes = path.stat().st_size
        leg.sha256 = sha256_file(path)
    manifest.status = status
    if not manifest.ended_at:
        manifest.ended_at = now_iso()
    manifest_path = write(directory, manifest)
    append_to_chain(root, manifest_path)
    return manifest


def _final(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
        return header_is_consistent(head, path.stat().st_size)
    except (OSError, ValueError):
        return False


def repair_unfinished(root: Path, worker: str) -> list[Manifest]:
    """Finalise as ``incomplete`` every manifest ``worker`` left in ``recording``."""
    repaired = []
    for path in manifests(root):
        try:
            manifest = read(path.parent)
        except (OSError, ValueError, TypeError) as exc:
            log.warning("unreadable manifest %s: %s", path, exc)
            continue
        if manifest.status != RECORDING or manifest.worker != worker:
            continue
        manifest.end_reason = manifest.end_reason or "worker_lost"
        manifest.notes.append("the media worker stopped during the call; recording cut short")
        repaired.append(finalise(path.parent, manifest, INCOMPLETE, root))
    return repaired


def verify(directory: Path) -> list[str]:
    """Problems found when checking files against the manifest (empty: intact)."""
    manifest = read(directory)
    problems = []
    for leg in manifest.legs:
        path = directory / leg.file
        if not path.exists():
            problems.append(f"{leg.file}: missing")
        elif leg.sha256 and sha256_file(path) != leg.sha256:
            problems.append(f"{leg.file}: SHA-256 does not match the manifest")
    return problems
