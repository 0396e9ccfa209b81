"""Chinese normalisation and CER (asr/normalize.py)."""

from __future__ import annotations

import pytest

from asr.normalize import (
    cer,
    edit_distance,
    filler_spans,
    for_scoring,
    mark_fillers,
    punctuate,
    says_something,
    to_simplified,
    without_fillers,
)


def test_traditional_becomes_simplified() -> None:
    assert to_simplified("廣州市房地產中介協會") == "广州市房地产中介协会"


def test_scoring_form_drops_punctuation_and_reads_digits() -> None:
    assert for_scoring("您好，请问：12 线城市？") == "您好请问一二线城市"
    assert for_scoring("ＡＢＣ　abc！") == "abcabc"


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("", "", 0),
        ("abc", "", 3),
        ("", "ab", 2),
        ("广州市", "广州", 1),
        ("停滞", "停制", 1),
        ("kitten", "sitting", 3),
    ],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance == edit_distance(b, a)


def test_cer_after_normalisation() -> None:
    assert cer("一二线城市虽然也处于调整中", "12线城市，虽然也处于调整中。") == 0.0
    assert cer("甚至出现交易几乎停滞的情况", "甚至出现交易几乎停制的情况") == pytest.approx(1 / 13)
    assert cer("", "") == 0.0 and cer("", "多余") == 1.0


def test_fillers_are_kept_and_marked() -> None:
    pieces = mark_fillers("喂，那个我家楼下嗯路灯坏了")
    assert "".join(p for p, _ in pieces) == "喂，那个我家楼下嗯路灯坏了"
    assert [p for p, filler in pieces if filler] == ["喂", "那个", "嗯"]


@pytest.mark.parametrize(
    ("text", "fillers"),
    [
        ("那个路灯坏了", []),  # 那个 as "that": content
        ("那个那个，我们小区的路灯坏了", ["那个那个"]),
        ("就是说，我想问一下社保怎么交啊", ["就是说", "啊"]),
        ("嗯，就是，楼下太吵了嘛", ["嗯", "就是", "嘛"]),
        ("额度不够，喂养的狗被偷了", []),  # 额 and 喂 inside words
        ("然后我就去了", []),
    ],
)
def test_fillers_depend_on_their_place(text: str, fillers: list[str]) -> None:
    pieces = mark_fillers(text)
    assert "".join(p for p, _ in pieces) == text
    assert [p for p, filler in pieces if filler] == fillers
    assert [text[a:b] for a, b in filler_spans(text)] == fillers


def test_content_without_fillers() -> None:
    assert without_fillers("喂，你好，那个那个，我们小区的路灯坏了") == "你好，我们小区的路灯坏了"
    assert without_fillers("嗯嗯。") == ""


@pytest.mark.parametrize(
    ("text", "substantive"),
    [
        ("喂？", False),
        ("喂，你好。", False),
        ("嗯，那个。", False),
        ("", False),
        ("路灯坏了", True),
    ],
)
def test_says_something(text: str, substantive: bool) -> None:
    assert says_something(text) is substantive


def test_punctuation_from_pauses_and_questions() -> None:
    words = [(0.0, 0.4, "你好"), (0.45, 1.0, "我想问一下"), (1.6, 2.2, "社保怎么交")]
    assert punctuate(words) == "你好我想问一下，社保怎么交？"
    assert punctuate([(0.0, 1.0, "楼下施工"), (1.5, 2.0, "太吵了")]) == "楼下施工，太吵了。"
    # segments a recogniser already punctuated are left alone
    assert punctuate([(0.0, 1.0, "楼下施工，"), (1.5, 2.0, "太吵了")]) == "楼下施工，太吵了"
    assert punctuate([]) == ""
