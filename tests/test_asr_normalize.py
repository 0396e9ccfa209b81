"""Chinese normalisation and CER (asr/normalize.py)."""

from __future__ import annotations

import pytest

from asr.normalize import cer, edit_distance, for_scoring, mark_fillers, to_simplified


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
