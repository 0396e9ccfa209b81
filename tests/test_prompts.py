"""Prompt catalogue (tts/catalogue.py), synthesis (tts/pyttsx.py, tts/espeak.py),
the render cache (tts/prompts.py) and dynamic prompt texts (tts/dynamic.py)."""

from __future__ import annotations

import logging
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from sip_config import load_settings
from sip_config.settings import PromptsSection
from tests.support.nodes import HOTLINE, SPEECH
from tts.catalogue import DEFAULT_CATALOGUE, CatalogueError, load_catalogue
from tts.dynamic import count, digit_by_digit, minutes_to_wait, queue_position, ticket_number
from tts.espeak import EspeakCliSynthesizer
from tts.prompts import prompt_path, render_catalogue, render_text
from tts.pyttsx import PyttsxSynthesizer
from tts.pyttsx_child import VoiceInfo, find_voice
from tts.synth import FallbackSynthesizer, SynthesisError, Utterance

HUMAN_VOICE = SPEECH / "aishell1_BAC009S0002W0123.wav"  # a recorded Mandarin speaker, 16 kHz


def _audio(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16), w.getframerate()


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt((samples.astype(float) ** 2).mean()))


def _spoken_characters(text: str) -> int:
    """Characters that take time to say: hanzi, letters, digits (not punctuation)."""
    return sum(1 for char in text if char.isalnum())


def _catalogue(tmp_path: Path, toml: str = "", **settings: object):
    if toml:
        operator = tmp_path / "operator.toml"
        operator.write_text(toml, encoding="utf-8")
        settings["catalogue"] = operator
    return load_catalogue(PromptsSection(**settings))


SHIPPED = len(load_catalogue(PromptsSection()))  # prompts in tts/catalogue.toml


# ---- the shipped catalogue, rendered -----------------------------------------------


def test_every_shipped_prompt_renders_to_plausible_non_silent_audio(tmp_path: Path) -> None:
    catalogue = load_catalogue(load_settings().prompts)
    assert {"greeting", "closing", "no_input", "agent_unavailable", "ask_again"} <= set(
        catalogue.prompts
    )
    assert "transfer_agent" in catalogue

    rendered = render_catalogue(catalogue, tmp_path, [8000, 16000])

    assert len(rendered) == 2 * len(catalogue)
    assert {item.backend for item in rendered} == {"pyttsx3"}, "pyttsx3 made them"
    for prompt in catalogue:
        for rate in (8000, 16000):
            samples, actual_rate = _audio(prompt_path(tmp_path, rate, prompt.id))
            per_char = len(samples) / actual_rate / _spoken_characters(prompt.text)
            assert actual_rate == rate
            assert 0.12 < per_char < 0.6, (prompt.id, rate, per_char)
            assert _rms(samples) > 300, f"{prompt.id}@{rate} is silent"


def test_rendering_is_cached_until_text_voice_or_rate_changes(tmp_path: Path) -> None:
    def render(**settings: object) -> list[str]:
        """The prompts made anew; every one is reported to ``progress``."""
        catalogue = _catalogue(tmp_path, "", **settings)
        seen: list[str] = []
        rendered = render_catalogue(
            catalogue, tmp_path / "cache", [8000], lambda item: seen.append(item.prompt_id)
        )
        assert sorted(seen) == sorted(catalogue.prompts)
        return [item.prompt_id for item in rendered if item.fresh]

    assert len(render()) == SHIPPED
    assert render() == []
    assert render(texts={"closing": "谢谢，再见。"}) == ["closing"]
    assert len(render(texts={"closing": "谢谢，再见。"}, words_per_minute=140)) == SHIPPED
    assert render(texts={"closing": "谢谢，再见。"}, words_per_minute=140) == []


# ---- synthesis: pyttsx3 on libespeak-ng ---------------------------------------------


def test_pyttsx3_speaks_with_the_mandarin_pinyin_voice() -> None:
    text = "您好，欢迎致电一二三四五政务服务便民热线。"
    (ours,) = PyttsxSynthesizer().synthesize([Utterance(text, "cmn-latn-pinyin", 165)])
    (cli,) = EspeakCliSynthesizer().synthesize([Utterance(text, "cmn-latn-pinyin", 165)])
    (plain,) = EspeakCliSynthesizer().synthesize([Utterance(text, "cmn", 165)])

    assert ours.backend == "pyttsx3"
    assert _rms(ours.samples) > 300
    assert 0.12 < ours.seconds / _spoken_characters(text) < 0.6
    # The same voice as `espeak-ng -v cmn-latn-pinyin`, not the pinyin-spelling `cmn`.
    assert ours.sample_rate == cli.sample_rate
    assert np.array_equal(ours.samples, cli.samples)
    assert not np.array_equal(
        ours.samples[: len(plain.samples)], plain.samples[: len(ours.samples)]
    )


def test_speaking_rate_changes_the_length() -> None:
    text = "您的来电已记录，我们会尽快处理。"
    slow, normal, fast = PyttsxSynthesizer().synthesize(
        [Utterance(text, "cmn-latn-pinyin", wpm) for wpm in (110, 165, 250)]
    )
    assert slow.seconds > 1.2 * normal.seconds > 1.2 * 1.2 * fast.seconds


def test_voices_are_found_by_espeak_name_id_or_language() -> None:
    voices = [
        VoiceInfo("sit/cmn", "Chinese (Mandarin, latin as English)", ("cmn",)),
        VoiceInfo(
            "sit/cmn-latn-pinyin", "Chinese (Mandarin, latin as Pinyin)", ("cmn-latn-pinyin",)
        ),
        VoiceInfo("sit/yue", "Chinese (Cantonese)", ("yue",)),
    ]
    assert find_voice(voices, "cmn-latn-pinyin") == "sit/cmn-latn-pinyin"
    assert find_voice(voices, "sit/cmn") == "sit/cmn"
    assert find_voice(voices, "CMN") == "sit/cmn"
    assert find_voice(voices, "Chinese (Cantonese)") == "sit/yue"
    assert find_voice(voices, "cmn-latn-pinyin+f3") == "sit/cmn-latn-pinyin+f3"
    with pytest.raises(LookupError, match="cmn-latn-pinyin"):
        find_voice(voices, "klingon")


def test_an_unknown_voice_is_refused_not_replaced() -> None:
    synth = FallbackSynthesizer([PyttsxSynthesizer(), EspeakCliSynthesizer()])
    with pytest.raises(SynthesisError, match="no voice 'cmn-nonexistent'"):
        synth.synthesize([Utterance("您好", "cmn-nonexistent", 165)])


def test_falls_back_to_the_espeak_ng_program_when_pyttsx3_cannot_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = PyttsxSynthesizer(python="/nonexistent/python")
    hung = PyttsxSynthesizer(timeout_s=0.001)
    for primary in (broken, hung):
        synth = FallbackSynthesizer([primary, EspeakCliSynthesizer()])
        with caplog.at_level(logging.WARNING, logger="tts"):
            (speech,) = synth.synthesize([Utterance("再见。", "cmn-latn-pinyin", 165)])
        assert speech.backend == "espeak-ng"
        assert _rms(speech.samples) > 300
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all("using espeak-ng instead" in w for w in warnings)
    assert "cannot start" in warnings[0] and "did not finish" in warnings[1]


def test_empty_text_is_refused() -> None:
    with pytest.raises(SynthesisError, match="empty"):
        PyttsxSynthesizer().synthesize([Utterance("  ", "cmn-latn-pinyin", 165)])


# ---- recordings override synthesis -------------------------------------------------


def test_a_recorded_prompt_overrides_synthesis_and_is_redone_when_it_changes(
    tmp_path: Path,
) -> None:
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    shutil.copy(HUMAN_VOICE, recorded / "greeting.wav")
    cache = tmp_path / "cache"

    catalogue = _catalogue(tmp_path, recorded_dir=recorded)
    assert catalogue["greeting"].source == "recorded"
    assert catalogue["closing"].source == "synth"
    first = {i.prompt_id: i for i in render_catalogue(catalogue, cache, [8000])}
    assert first["greeting"].backend == "recording"
    assert first["closing"].backend == "pyttsx3"
    greeting, rate = _audio(prompt_path(cache, 8000, "greeting"))
    original, original_rate = _audio(HUMAN_VOICE)
    assert rate == 8000
    assert len(greeting) / rate == pytest.approx(len(original) / original_rate, abs=0.01)

    again = render_catalogue(_catalogue(tmp_path, recorded_dir=recorded), cache, [8000])
    assert not any(item.fresh for item in again)

    other = SPEECH / "aishell1_BAC009S0002W0122.wav"
    shutil.copy(other, recorded / "greeting.wav")
    redone = render_catalogue(_catalogue(tmp_path, recorded_dir=recorded), cache, [8000])
    assert [i.prompt_id for i in redone if i.fresh] == ["greeting"]
    greeting, _ = _audio(prompt_path(cache, 8000, "greeting"))
    other_samples, other_rate = _audio(other)
    assert len(greeting) / 8000 == pytest.approx(len(other_samples) / other_rate, abs=0.01)


def test_a_catalogue_recording_is_relative_to_the_catalogue_file(tmp_path: Path) -> None:
    (tmp_path / "voice").mkdir()
    shutil.copy(HUMAN_VOICE, tmp_path / "voice" / "closing.wav")
    catalogue = _catalogue(tmp_path, '[closing]\nrecording = "voice/closing.wav"\n')

    assert catalogue["closing"].recording == tmp_path / "voice" / "closing.wav"
    assert catalogue["closing"].text == load_catalogue(PromptsSection())["closing"].text
    (item,) = [
        i for i in render_catalogue(catalogue, tmp_path / "c", [16000]) if i.prompt_id == "closing"
    ]
    assert item.source == "recorded" and item.backend == "recording"


# ---- the operator's catalogue ------------------------------------------------------


def test_an_operator_catalogue_overrides_defaults_key_by_key_and_adds_prompts(
    tmp_path: Path,
) -> None:
    catalogue = _catalogue(
        tmp_path,
        """
[greeting]
text = "您好，这里是某市一二三四五热线。"
rate = 150

[holiday]
text = "春节期间热线正常服务。"
voice = "cmn"
note = "played during the Spring Festival"
""",
        words_per_minute=170,
    )

    greeting = catalogue["greeting"]
    assert greeting.text == "您好，这里是某市一二三四五热线。"
    assert greeting.words_per_minute == 150
    assert greeting.voice == "cmn-latn-pinyin"
    assert greeting.origin.endswith("operator.toml")
    assert catalogue["closing"].words_per_minute == 170  # the settings' default
    assert catalogue["holiday"].voice == "cmn"
    assert catalogue["holiday"].note == "played during the Spring Festival"
    assert len(catalogue) == SHIPPED + 1


def test_node_toml_texts_override_the_catalogue(tmp_path: Path) -> None:
    catalogue = _catalogue(
        tmp_path, '[closing]\ntext = "再见。"\n', texts={"closing": "感谢来电，再见。"}
    )
    assert catalogue["closing"].text == "感谢来电，再见。"
    assert catalogue["closing"].origin == "prompts.texts.closing"


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[greeting]\ntext = ""\n', ["prompt 'greeting'", "key 'text'", "must not be empty"]),
        ("[greeting]\nrate = 20\n", ["prompt 'greeting'", "key 'rate' = 20", "between 80 and 400"]),
        ("[greeting]\nspeed = 150\n", ["key 'speed' is unknown", "allowed keys: text, recording"]),
        ('[Greeting]\ntext = "您好"\n', ["prompt id 'Greeting'", "lower-case letters"]),
        ('[new_prompt]\nnote = "x"\n', ["prompt 'new_prompt'", "key 'text' is missing"]),
        ('greeting = "您好"\n', ["prompt 'greeting' is not a table", "[greeting]"]),
        (
            '[closing]\nrecording = "absent.wav"\n',
            ["prompt 'closing'", "key 'recording'", "absent.wav", "remove the key"],
        ),
        ('[closing\ntext = "x"\n', ["is not valid TOML", "line 1"]),
    ],
)
def test_a_malformed_catalogue_names_the_file_the_prompt_and_the_key(
    tmp_path: Path, toml: str, expected: list[str]
) -> None:
    with pytest.raises(CatalogueError) as caught:
        _catalogue(tmp_path, toml)
    (problem,) = caught.value.problems
    assert str(tmp_path / "operator.toml") in problem
    for part in expected:
        assert part in problem, (part, problem)


def test_a_recording_that_is_not_16_bit_pcm_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "closing.wav"
    with wave.open(str(bad), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(b"\x80" * 800)
    with pytest.raises(CatalogueError) as caught:
        _catalogue(tmp_path, recorded_dir=tmp_path)
    (problem,) = caught.value.problems
    assert "prompt 'closing'" in problem and "16-bit PCM" in problem


def test_the_shipped_catalogue_has_notes_for_operators() -> None:
    catalogue = load_catalogue(PromptsSection(), DEFAULT_CATALOGUE)
    assert all(prompt.note for prompt in catalogue)
    assert catalogue["ask_again"].text == "抱歉，没有听清您的问题。请您再简单说一下您要反映的问题。"
    assert catalogue["transfer_agent"].text == "正在为您转接人工服务，请稍候。"


# ---- dynamic prompts -----------------------------------------------------------------


def test_a_dynamic_prompt_is_synthesized_once_and_played_by_id(tmp_path: Path) -> None:
    text = queue_position(3) + minutes_to_wait(5)
    prompt_id = render_text(text, tmp_path, 8000, "cmn-latn-pinyin", 165)
    path = prompt_path(tmp_path, 8000, prompt_id)
    samples, rate = _audio(path)
    assert rate == 8000 and _rms(samples) > 300
    assert 0.12 < len(samples) / rate / _spoken_characters(text) < 0.6
    stamp = path.stat().st_mtime_ns
    assert render_text(text, tmp_path, 8000, "cmn-latn-pinyin", 165) == prompt_id
    assert path.stat().st_mtime_ns == stamp


def test_digits_are_read_one_by_one_with_yao() -> None:
    assert digit_by_digit("13800138000") == "幺三八零零幺三八零零零"
    assert digit_by_digit("GD12345-20261128-000123") == (
        "GD幺二三四五，二零二六幺幺二八，零零零幺二三"
    )
    assert ticket_number("GD1-2").startswith("您的工单编号是：GD幺，二")


@pytest.mark.parametrize(
    ("number", "spoken"),
    [
        (0, "零"),
        (7, "七"),
        (10, "十"),
        (15, "十五"),
        (20, "二十"),
        (105, "一百零五"),
        (1010, "一千零一十"),
        (3000, "三千"),
        (10000, "一万"),
        (10086, "一万零八十六"),
        (250000, "二十五万"),
    ],
)
def test_counts_in_chinese_numerals(number: int, spoken: str) -> None:
    assert count(number) == spoken


def test_queue_and_wait_announcements() -> None:
    assert queue_position(1) == "您是下一位，请稍候。"
    assert queue_position(4) == "您前面还有三位来电，请稍候。"
    assert minutes_to_wait(12) == "预计等待时间约十二分钟。"
    with pytest.raises(ValueError):
        count(-1)


# ---- the operators' commands ---------------------------------------------------------


def _hotline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HOTLINE), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_tts_say_writes_the_node_voice_at_the_call_rate(tmp_path: Path) -> None:
    out = tmp_path / "say.wav"
    result = _hotline("tts", "say", "您好，请讲。", "-o", str(out), "--rate", "16000")
    assert result.returncode == 0, result.stderr
    assert "by pyttsx3" in result.stdout
    samples, rate = _audio(out)
    assert rate == 16000 and len(samples) > 0.5 * rate and _rms(samples) > 300

    refused = _hotline("tts", "say", "您好", "-o", str(out), "--rate", "44100")
    assert refused.returncode == 2 and "8000 or 16000" in refused.stderr


def test_prompts_render_and_list_commands(tmp_path: Path) -> None:
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    shutil.copy(HUMAN_VOICE, recorded / "greeting.wav")
    config = tmp_path / "node.toml"
    config.write_text(f'[prompts]\nrecorded_dir = "{recorded}"\n', encoding="utf-8")

    result = _hotline("prompts", "render", "-c", str(config), "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = dict(line.split("\t", 1) for line in result.stdout.splitlines())
    greeting = str(tmp_path / "prompts" / "8000" / "greeting.wav")
    assert lines[greeting] == "recorded\trendered by recording"
    closing = str(tmp_path / "prompts" / "8000" / "closing.wav")
    assert lines[closing] == "synth\trendered by pyttsx3"
    again = _hotline("prompts", "render", "-c", str(config), "--data-dir", str(tmp_path))
    assert again.stdout.count("up to date") == SHIPPED

    listing = _hotline("prompts", "list", "-c", str(config))
    assert listing.returncode == 0, listing.stderr
    for prompt_id in ("greeting", "closing", "ask_again", "transfer_agent"):
        assert prompt_id in listing.stdout
    assert "recorded" in listing.stdout and "synth" in listing.stdout


def test_prompts_list_reports_a_bad_catalogue(tmp_path: Path) -> None:
    catalogue = tmp_path / "mine.toml"
    catalogue.write_text("[greeting]\nrate = 1000\n", encoding="utf-8")
    config = tmp_path / "node.toml"
    config.write_text(f'[prompts]\ncatalogue = "{catalogue}"\n', encoding="utf-8")
    for command in (("prompts", "list"), ("config", "check")):
        result = _hotline(*command, *(["-c"] if command[0] == "prompts" else []), str(config))
        assert result.returncode == 2
        stderr = " ".join(result.stderr.split())  # rich wraps long lines
        assert f"{catalogue}: prompt 'greeting', key 'rate' = 1000" in stderr
