"""sip_config.settings and sip_config.loading: defaults, sources and error sentences."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from sip_config import ConfigError, Settings, load_settings
from tts.catalogue import CatalogueError, load_catalogue


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No HOTLINE_* variable from the machine running the tests may leak in."""
    for name in list(os.environ):
        if name.upper().startswith("HOTLINE_"):
            monkeypatch.delenv(name)


def write_toml(tmp_path: Path, text: str, name: str = "hotline.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def only_problem(exc: pytest.ExceptionInfo[ConfigError]) -> str:
    assert len(exc.value.problems) == 1, exc.value.problems
    return exc.value.problems[0]


# ---- defaults ----------------------------------------------------------------------


def test_defaults_load_without_file_or_environment() -> None:
    settings = load_settings()

    assert isinstance(settings, Settings)
    assert settings.sip.listen == "127.0.0.1"
    assert settings.sip.port == 5060
    assert settings.sip.transports == ["udp", "tcp"]
    assert settings.sip.numbers == ["12345"]
    assert settings.sip.codecs == ["PCMA", "PCMU", "G722"]
    assert settings.workers.max_calls == 4
    assert settings.local_broker is True
    assert settings.prompts.texts == {}  # the texts come from the shipped catalogue
    assert settings.prompts.catalogue is None
    assert {"greeting", "closing", "no_input", "agent_unavailable"} <= set(
        load_catalogue(settings.prompts).prompts
    )


def test_derived_directories_follow_data_dir(tmp_path: Path) -> None:
    settings = load_settings(overrides={"node.data_dir": str(tmp_path)})

    assert settings.run_dir == tmp_path / "run"
    assert settings.log_dir == tmp_path / "logs"
    assert settings.prompts_dir == tmp_path / "prompts"
    assert settings.recordings_dir == tmp_path / "recordings"


def test_recordings_dir_can_be_set_apart_from_data_dir(tmp_path: Path) -> None:
    elsewhere = tmp_path / "nas"
    settings = load_settings(
        overrides={"node.data_dir": str(tmp_path / "data"), "recordings.dir": str(elsewhere)}
    )

    assert settings.recordings_dir == elsewhere


def test_settings_are_frozen() -> None:
    settings = load_settings()

    with pytest.raises(ValidationError, match="frozen"):
        settings.sip.port = 5070  # type: ignore[misc]


# ---- sources and their order -------------------------------------------------------


def test_file_values_are_read(tmp_path: Path) -> None:
    path = write_toml(
        tmp_path,
        """
[node]
name = "gz-tianhe"

[sip]
port = 5070
numbers = ["12345", "96128"]
codecs = ["PCMA"]

[workers]
count = 6
""",
    )

    settings = load_settings(path)

    assert settings.node.name == "gz-tianhe"
    assert settings.sip.port == 5070
    assert settings.sip.numbers == ["12345", "96128"]
    assert settings.sip.codecs == ["PCMA"]
    assert settings.workers.count == 6
    # Keys the file does not mention keep their defaults.
    assert settings.sip.listen == "127.0.0.1"


def test_chinese_prompt_texts_survive_the_file(tmp_path: Path) -> None:
    path = write_toml(
        tmp_path,
        """
[prompts.texts]
greeting = "您好，这里是12345热线。"
closing = "再见。"
""",
    )

    settings = load_settings(path)

    assert settings.prompts.texts == {"greeting": "您好，这里是12345热线。", "closing": "再见。"}


def test_environment_beats_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_toml(tmp_path, '[sip]\nport = 5070\nlisten = "127.0.0.2"\n')
    monkeypatch.setenv("HOTLINE_SIP__PORT", "5080")

    settings = load_settings(path)

    assert settings.sip.port == 5080
    # Other keys of the same section still come from the file (sections are merged).
    assert settings.sip.listen == "127.0.0.2"


def test_environment_lists_are_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_SIP__NUMBERS", '["12345", "96128"]')

    assert load_settings().sip.numbers == ["12345", "96128"]


def test_overrides_beat_the_environment_and_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_toml(tmp_path, "[sip]\nport = 5070\n[workers]\ncount = 3\n")
    monkeypatch.setenv("HOTLINE_SIP__PORT", "5080")
    monkeypatch.setenv("HOTLINE_WORKERS__COUNT", "5")

    settings = load_settings(path, overrides={"sip.port": 5090})

    assert settings.sip.port == 5090
    assert settings.workers.count == 5  # not overridden: the environment still wins


def test_settings_constructed_directly_read_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOTLINE_WORKERS__COUNT", "7")

    assert Settings().workers.count == 7


# ---- one sentence per bad value ------------------------------------------------------


def test_out_of_range_port_names_key_value_and_limit() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(overrides={"sip.port": 70000})

    problem = only_problem(exc)
    assert "sip.port = 70000" in problem
    assert "65535" in problem


def test_bad_port_from_the_environment_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_SIP__PORT", "five")

    with pytest.raises(ConfigError) as exc:
        load_settings()

    problem = only_problem(exc)
    assert "sip.port" in problem
    assert "'five'" in problem
    assert "integer" in problem


def test_unknown_codec_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(overrides={"sip.codecs": ["PCMA", "OPUS"]})

    problem = only_problem(exc)
    assert "sip.codecs" in problem
    assert "OPUS" in problem
    for codec in ("PCMA", "PCMU", "G722"):
        assert codec in problem


def test_unknown_key_lists_the_allowed_keys(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[sip]\nprot = 5070\n")

    with pytest.raises(ConfigError) as exc:
        load_settings(path)

    problem = only_problem(exc)
    assert str(path) in problem
    assert "sip.prot" in problem
    for key in ("port", "listen", "numbers", "codecs", "transports"):
        assert key in problem


def test_unknown_section_lists_the_sections(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[sipp]\nport = 5070\n")

    with pytest.raises(ConfigError) as exc:
        load_settings(path)

    problem = only_problem(exc)
    assert "'sipp'" in problem
    for section in ("node", "sip", "workers", "mqtt", "prompts", "recordings"):
        assert section in problem


def test_unknown_key_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_SIP__PROT", "5070")

    with pytest.raises(ConfigError) as exc:
        load_settings()

    problem = only_problem(exc)
    assert "sip.prot" in problem
    assert "port" in problem


def test_empty_numbers_list_is_refused_with_an_example() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(overrides={"sip.numbers": []})

    problem = only_problem(exc)
    assert "sip.numbers" in problem
    assert "[]" in problem
    assert "12345" in problem  # the example of what is allowed


@pytest.mark.parametrize("bad", ["12a45", "", "1" * 33, "123 45"])
def test_undialable_number_is_refused(bad: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(overrides={"sip.numbers": ["12345", bad]})

    problem = only_problem(exc)
    assert "sip.numbers" in problem
    assert repr(bad)[:20] in problem
    assert "digits, *, #, +" in problem


@pytest.mark.parametrize("good", ["12345", "*12345#", "+8612345", "0203"])
def test_dialable_numbers_are_accepted(good: str) -> None:
    assert load_settings(overrides={"sip.numbers": [good]}).sip.numbers == [good]


def test_listen_on_any_address_needs_an_advertised_address() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(overrides={"sip.listen": "0.0.0.0"})

    problem = only_problem(exc)
    assert "sip.listen" in problem
    assert "0.0.0.0" in problem
    assert "sip.advertised_address" in problem


def test_listen_on_any_address_with_advertised_address_is_fine() -> None:
    settings = load_settings(
        overrides={"sip.listen": "0.0.0.0", "sip.advertised_address": "192.0.2.10"}
    )

    assert settings.sip.advertised_address == "192.0.2.10"


def test_listen_must_be_an_ip_address() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(overrides={"sip.listen": "sip.example.org"})

    problem = only_problem(exc)
    assert "sip.listen" in problem
    assert "sip.example.org" in problem


def test_repeated_codec_is_refused() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(overrides={"sip.codecs": ["PCMA", "PCMA"]})

    problem = only_problem(exc)
    assert "sip.codecs" in problem
    assert "repeat" in problem


def test_more_than_four_calls_per_worker_is_refused() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(overrides={"workers.max_calls": 5})

    problem = only_problem(exc)
    assert "workers.max_calls = 5" in problem
    assert "less than or equal to 4" in problem


def test_bad_mqtt_url_shows_the_expected_form() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(overrides={"mqtt.url": "http://broker"})

    problem = only_problem(exc)
    assert "mqtt.url" in problem
    assert "http://broker" in problem
    assert "mqtt://host:1883" in problem


def test_greeting_prompt_must_have_a_text() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(overrides={"prompts.texts": {"greeting": "  ", "closing": "再见"}})

    problem = only_problem(exc)
    assert "prompts.texts" in problem
    assert "'greeting'" in problem


def test_prompt_catalogue_must_be_an_existing_file(tmp_path: Path) -> None:
    absent = tmp_path / "mine.toml"
    with pytest.raises(ConfigError) as exc:
        load_settings(overrides={"prompts.catalogue": str(absent)})

    problem = only_problem(exc)
    assert "prompts.catalogue" in problem
    assert str(absent) in problem
    assert "no such file" in problem and "remove the key" in problem


def test_recorded_prompts_folder_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(overrides={"prompts.recorded_dir": str(tmp_path / "absent")})

    problem = only_problem(exc)
    assert "prompts.recorded_dir" in problem and "not a folder" in problem


def test_prompt_text_ids_are_checked() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(overrides={"prompts.texts": {"Greeting": "您好"}})

    assert "prompt id 'Greeting' must be lower-case" in only_problem(exc)


def test_operator_catalogue_from_the_settings_file(tmp_path: Path) -> None:
    (tmp_path / "prompts.toml").write_text(
        '[greeting]\ntext = "您好，这里是一二三四五。"\n\n[holiday]\ntext = "节日快乐。"\n',
        encoding="utf-8",
    )
    path = write_toml(
        tmp_path,
        f'[prompts]\ncatalogue = "{tmp_path / "prompts.toml"}"\n\n'
        '[prompts.texts]\nclosing = "再见。"\n',
    )

    catalogue = load_catalogue(load_settings(path).prompts)

    assert catalogue["greeting"].text == "您好，这里是一二三四五。"
    assert catalogue["holiday"].text == "节日快乐。"
    assert catalogue["closing"].text == "再见。"
    assert "no_input" in catalogue


def test_malformed_operator_catalogue_names_file_prompt_key_and_fix(tmp_path: Path) -> None:
    mine = tmp_path / "prompts.toml"
    mine.write_text('[greeting]\ntext = "您好"\nrate = "fast"\n\n[extra]\nvoice = "cmn"\n')
    settings = load_settings(overrides={"prompts.catalogue": str(mine)})

    with pytest.raises(CatalogueError) as exc:
        load_catalogue(settings.prompts)

    rate, text = exc.value.problems
    assert rate.startswith(f"{mine}: prompt 'greeting', key 'rate' = 'fast'")
    assert "e.g. rate = 165" in rate
    assert text.startswith(f"{mine}: prompt 'extra', key 'text' is missing")
    assert 'text = "…"' in text
    assert exc.value.retryable is False


def test_long_bad_values_are_shortened() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(overrides={"node.name": "x" * 200})

    problem = only_problem(exc)
    assert "node.name" in problem
    assert "x" * 200 not in problem
    assert "..." in problem


def test_several_errors_in_one_file_are_all_reported(tmp_path: Path) -> None:
    path = write_toml(
        tmp_path,
        """
[sip]
port = 0
codecs = ["OPUS"]
colour = "blue"

[workers]
max_calls = 9
""",
    )

    with pytest.raises(ConfigError) as exc:
        load_settings(path)

    problems = exc.value.problems
    assert len(problems) == 4, problems
    assert all(problem.startswith(f"{path}: ") for problem in problems)
    joined = "\n".join(problems)
    for key in ("sip.port", "sip.codecs", "sip.colour", "workers.max_calls"):
        assert key in joined
    # The exception's text carries every sentence, one a line.
    assert str(exc.value) == joined


def test_config_error_is_not_retryable() -> None:
    assert ConfigError.retryable is False


# ---- files that cannot be read -------------------------------------------------------


def test_invalid_toml_syntax_names_the_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[sip\nport = 5070\n")

    with pytest.raises(ConfigError) as exc:
        load_settings(path)

    problem = only_problem(exc)
    assert str(path) in problem
    assert "not valid TOML" in problem
    assert "line 1" in problem  # tomllib's position is passed on


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"

    with pytest.raises(ConfigError) as exc:
        load_settings(path)

    problem = only_problem(exc)
    assert str(path) in problem
    assert "no such configuration file" in problem


def test_non_utf8_file_asks_for_utf8(tmp_path: Path) -> None:
    path = tmp_path / "gbk.toml"
    path.write_bytes('[prompts.texts]\ngreeting = "您好"\nclosing = "再见"\n'.encode("gbk"))

    with pytest.raises(ConfigError) as exc:
        load_settings(path)

    problem = only_problem(exc)
    assert str(path) in problem
    assert "UTF-8" in problem


def test_directory_instead_of_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(tmp_path)

    problem = only_problem(exc)
    assert str(tmp_path) in problem
    assert "cannot be read" in problem


def test_misspelled_environment_section_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("HOTLINE_SIPP__PORT", "5070")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    (problem,) = caught.value.problems
    assert "HOTLINE_SIPP__PORT" in problem and "sip" in problem
