"""Chinese text normalisation and character error rate, as pure functions."""

from __future__ import annotations

import functools
import re
import unicodedata

import opencc

# Fillers callers use; kept in transcripts but marked, dropped from summaries.
FILLERS = ("嗯嗯", "那个", "就是说", "然后呢", "喂", "嗯", "啊", "呃", "哦", "额")
_PUNCTUATION = re.compile(
    r"[\s\u3000-\u303f\uff00-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
    r"!-/:-@\[-`{-~·…—、]+"
)


@functools.cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → Simplified (Whisper mixes in traditional characters)."""
    return _t2s().convert(text)


_DIGITS = str.maketrans("0123456789", "零一二三四五六七八九")


def for_scoring(text: str) -> str:
    """Simplified, full-width folded, punctuation and spaces removed, Latin lower-cased,
    Arabic digits read one by one (Whisper writes 12线 for 一二线)."""
    folded = unicodedata.normalize("NFKC", to_simplified(text))
    return _PUNCTUATION.sub("", folded).lower().translate(_DIGITS)


def edit_distance(reference: str, hypothesis: str) -> int:
    """Levenshtein distance between two strings (characters)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_char in enumerate(reference, 1):
        current = [i]
        for j, hyp_char in enumerate(hypothesis, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_char != hyp_char))
            )
        previous = current
    return previous[-1]


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate after :func:`for_scoring` on both sides."""
    ref, hyp = for_scoring(reference), for_scoring(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)


def mark_fillers(text: str) -> list[tuple[str, bool]]:
    """Split ``text`` into (piece, is_filler) runs, fillers kept in place."""
    pattern = "|".join(re.escape(f) for f in FILLERS)
    pieces: list[tuple[str, bool]] = []
    position = 0
    for match in re.finditer(pattern, text):
        if match.start() > position:
            pieces.append((text[position : match.start()], False))
        pieces.append((match.group(), True))
        position = match.end()
    if position < len(text):
        pieces.append((text[position:], False))
    return pieces
