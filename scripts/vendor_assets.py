"""Front-end libraries the consoles serve themselves (offline, no CDN), fetched
once from the npm registry at a pinned version and checked against the
registry's own SHA-512 before anything is unpacked.

    .venv/bin/python scripts/vendor_assets.py      # the setup command runs it

Apache ECharts (Apache-2.0) draws the 数据分析 console's charts; its minified
build lands in web/static/vendor/ (not in git) and the tarball is kept in
~/.cache/hotline/vendor so that a re-run downloads nothing.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "web" / "static" / "vendor"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hotline" / "vendor"
# name, version, the registry's integrity (sha512), files: member of the tarball → file name
ASSETS = (
    (
        "echarts",
        "6.1.0",
        "sha512-q0yaFPggC9FUdsWH4blavRWFmxdrIodbkoKNAjJudAI6CA9gNPxHtV2RcZNEepZVlk4yvBYkOkbk6HIVpIyHZA==",
        {"package/dist/echarts.min.js": "echarts.min.js", "package/LICENSE": "echarts.LICENSE"},
    ),
)
REGISTRY = os.environ.get("NPM_REGISTRY", "https://registry.npmjs.org")


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _tarball(name: str, version: str, integrity: str) -> bytes:
    cached = CACHE / f"{name}-{version}.tgz"
    if cached.is_file() and _integrity(cached.read_bytes()) == integrity:
        return cached.read_bytes()
    url = f"{REGISTRY}/{name}/-/{name}-{version}.tgz"
    print(f"fetching {name} {version} from the npm registry", file=sys.stderr)
    with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 (a pinned https URL)
        data = response.read()
    if _integrity(data) != integrity:
        raise SystemExit(f"{url}: the download does not match its pinned SHA-512; not installed")
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(data)
    return data


def main() -> None:
    TARGET.mkdir(parents=True, exist_ok=True)
    for name, version, integrity, files in ASSETS:
        stamp = TARGET / f".{name}-{version}"
        if stamp.exists() and all((TARGET / out).is_file() for out in files.values()):
            continue
        with tarfile.open(fileobj=io.BytesIO(_tarball(name, version, integrity))) as archive:
            for member, out in files.items():
                extracted = archive.extractfile(member)
                if extracted is None:
                    raise SystemExit(f"{name} {version}: {member} is not in the package")
                (TARGET / out).write_bytes(extracted.read())
        for old in TARGET.glob(f".{name}-*"):
            old.unlink()
        stamp.touch()
        print(f"{name} {version} → {TARGET.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
