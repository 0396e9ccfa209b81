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
