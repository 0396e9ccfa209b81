"""An append-only hash chain over all finalised manifests.

Each line of ``<root>/chain.jsonl`` holds a manifest's SHA-256 and a hash over
the previous line's hash and this entry, so a removed, reordered or edited
manifest breaks the chain.  Writers on several processes serialise with a lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from pathlib import Path

from recordings.layout import CHAIN

GENESIS = "0" * 64


def entry_hash(prev: str, manifest_sha256: str, path: str) -> str:
    return hashlib.sha256(f"{prev}|{manifest_sha256}|{path}".encode()).hexdigest()


def append_to_chain(root: Path, manifest_path: Path) -> str:
    root.mkdir(parents=True, exist_ok=True)
    relative = str(manifest_path.relative_to(root))
    digest = hashlib.sha256(manifest_path.read_bytes()).hexdigest()
    with (root / CHAIN).open("a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        prev = GENESIS
        for line in handle:
            if line.strip():
                prev = json.loads(line)["hash"]
        value = entry_hash(prev, digest, relative)
        handle.write(
            json.dumps({"manifest": relative, "sha256": digest, "prev": prev, "hash": value}) + "\n"
        )
        handle.flush()
        os.fsync(handle.fileno())
    return value


def verify_chain(root: Path) -> list[str]:
    """Problems in the chain (empty: every link and every manifest hash holds).

    A manifest finalised twice (e.g. repaired) appears twice; only its latest
    entry must match the file.
    """
    path = root / CHAIN
    if not path.exists():
        return []
    problems, prev, latest = [], GENESIS, {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        entry = json.loads(line)
        if (
            entry["prev"] != prev
            or entry_hash(prev, entry["sha256"], entry["manifest"]) != entry["hash"]
        ):
            problems.append(f"line {number}: broken link")
        prev = entry["hash"]
        latest[entry["manifest"]] = entry["sha256"]
    for relative, digest in latest.items():
        manifest = root / relative
        if not manifest.exists():
            problems.append(f"{relative}: manifest missing")
        elif hashlib.sha256(manifest.read_bytes()).hexdigest() != digest:
            problems.append(f"{relative}: manifest changed after it was chained")
    return problems
