"""Prompt catalogue (tts/prompts.py), dynamic prompt texts (tts/dynamic.py)."""

from __future__ import annotations

import subprocess
import wave

import numpy as np
import pytest

from sip_config import load_settings
from tests.nodes import HOTLINE, SPEECH
from tts.dynamic import count, digit_by_digit, minutes_to_wait, queue_position, ticket_number
from tts.prompts import prompt_path, render_catalogue


def _audio(path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16), w.getframerate()


def test_every_default_prompt_renders_plausible_non_silent_audio(tmp_path) -> None:
    prompts = load_settings().prompts
    paths = render_catalogue(
        prompts.texts, tmp_path, [8000, 16000], prompts.voice, prompts.words_per_minute
    )
    assert len(paths) == 2 * len(prompts.texts)
    for prompt_id, text in prompts.texts.items():
        for rate in (8000, 16000):
            samples, actual_rate = _audio(prompt_path(tmp_path, rate, prompt_id))
            seconds = len(samples) / actual_rate
            assert actual_rate == rate
            assert 0.1 * len(text) < seconds < 0.8 * len(text), (prompt_id, seconds)
            assert np.sqrt((samples.astype(float) ** 2).mean()) > 300, "not silent"


def test_rendering_is_cached_until_the_text_changes(tmp_path) -> None:
    made: list[str] = []
    render_catalogue({"closing": "再见。"}, tmp_path, [8000], "cmn-latn-pinyin", 165, made.append)
    render_catalogue({"closing": "再见。"}, tmp_path, [8000], "cmn-latn-pinyin", 165, made.append)
    assert made == ["closing@8000"]
    render_catalogue(
        {"closing": "谢谢，再见。"}, tmp_path, [8000], "cmn-latn-pinyin", 165, made.append
    )
    assert made == ["closing@8000", "closing@8000"]


def test_a_recorded_prompt_overrides_synthesis(tmp_path) -> None:
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    source = SPEECH / "aishell1_BAC009S0002W0123.wav"  # a human voice, 16 kHz
    (recorded / "greeting.wav").write_bytes(source.read_bytes())
    made: list[str] = []
    render_catalogue(
        {"greeting": "您好", "closing": "再见"},
        tmp_path / "cache",
        [8000],
        "cmn-latn-pinyin",
        165,
        made.append,
        recorded_dir=recorded,
    )
    assert sorted(made) == ["closing@8000", "greeting@8000 (recorded)"]
    greeting, rate = _audio(prompt_path(tmp_path / "cache", 8000, "greeting"))
    original, original_rate = _audio(source)
    assert rate == 8000
    assert len(greeting) / rate == pytest.approx(len(original) / original_rate, abs=0.01)


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


def test_tts_say_and_prompts_render_commands(tmp_path) -> None:
    out = tmp_path / "say.wav"
    subprocess.run(
        [str(HOTLINE), "tts", "say", "您好，请讲。", "-o", str(out), "--rate", "16000"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    samples, rate = _audio(out)
    assert rate == 16000 and len(samples) > 0.5 * rate
    result = subprocess.run(
        [str(HOTLINE), "prompts", "render", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "greeting.wav" in result.stdout
    assert (tmp_path / "prompts" / "8000" / "closing.wav").exists()
