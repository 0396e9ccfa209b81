"""Chinese text normalisation and character error rate, as pure functions."""

from __future__ import annotations

import functools
import re
import unicodedata

import opencc

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


# Interjections are fillers wherever they stand; discourse words such as 那个 or
# 就是 are content in "那个路灯坏了" and fillers only when they stand alone at
# the start of a clause, are repeated, or run into another filler.
_INTERJECTIONS = "喂嗯啊呃额哦噢唉哎诶欸嘛"
_DISCOURSE = ("就是说", "然后呢", "那个", "这个", "就是", "然后")
_CLAUSE_END = "，。？！、；：,.?!;: "
_PRONOUNS = "我你您他她它咱"  # 那个我想问一下: a hesitation before the subject
_SENTENCE_PUNCTUATION = set("，。？！、；：,.?!;:")


def mark_fillers(text: str) -> list[tuple[str, bool]]:
    """Split ``text`` into (piece, is_filler) runs, fillers kept in place."""
    flags = [False] * len(text)
    for index, char in enumerate(text):
        if char in _INTERJECTIONS and not _inside_word(text, index):
            flags[index] = True
    changed = True
    while changed:  # discourse words next to a filler may become fillers too
        changed = False
        for word in _DISCOURSE:
            for match in re.finditer(re.escape(word), text):
                a, b = match.span()
                if all(flags[a:b]) or not _discourse_filler(text, flags, a, b, word):
                    continue
                flags[a:b] = [True] * (b - a)
                changed = True
    pieces: list[tuple[str, bool]] = []
    for char, flag in zip(text, flags, strict=True):
        if pieces and pieces[-1][1] == flag:
            pieces[-1] = (pieces[-1][0] + char, flag)
        else:
            pieces.append((char, flag))
    return pieces


def filler_spans(text: str) -> list[tuple[int, int]]:
    """Character spans [start, end) of the fillers in ``text``."""
    spans, position = [], 0
    for piece, is_filler in mark_fillers(text):
        if is_filler:
            spans.append((position, position + len(piece)))
        position += len(piece)
    return spans


def without_fillers(text: str) -> str:
    """What the caller said, fillers and the punctuation they leave behind removed."""
    kept = "".join(piece for piece, is_filler in mark_fillers(text) if not is_filler)
    kept = re.sub(r"([，。？！、；：,.?!;:])[，。？！、；：,.?!;:\s]+", r"\1", kept)
    return kept.strip(_CLAUSE_END + "、")


def says_something(text: str) -> bool:
    """Whether ``text`` holds more than fillers and a greeting (喂，你好 is not a request)."""
    content = re.sub(r"(你好|您好|哈喽|hello|hi)", "", without_fillers(text), flags=re.IGNORECASE)
    return bool(re.search(r"\w", _PUNCTUATION.sub("", content)))


def _inside_word(text: str, index: int) -> bool:
    """An interjection character that is part of a word here (额度, 喂养, 干嘛)."""
    char = text[index]
    before = text[index - 1] if index else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    return char + after in _WORDS or before + char in _WORDS


_WORDS = {"额度", "额外", "金额", "名额", "数额", "超额", "喂养", "喂奶", "喂食", "干嘛", "唉声"}


def _discourse_filler(text: str, flags: list[bool], a: int, b: int, word: str) -> bool:
    before = text[a - 1] if a else ""
    after = text[b] if b < len(text) else ""
    at_clause_start = a == 0 or before in _CLAUSE_END or (a > 0 and flags[a - 1])
    followed_by_break = (
        b == len(text)
        or after in _CLAUSE_END
        or (b < len(text) and flags[b])
        or (after in _PRONOUNS and word in ("那个", "这个", "就是"))
    )
    repeated = text.startswith(word, b) or (a >= len(word) and text[a - len(word) : a] == word)
    return repeated or (at_clause_start and followed_by_break)


_QUESTION = re.compile(
    r"(吗|什么|怎么|为什么|为啥|哪里|哪儿|哪个|多少|几点|几号|是不是|有没有|能不能|"
    r"可不可以|会不会|要不要|行不行)"
)


def punctuate(pieces: list[tuple[float, float, str]], pause_s: float = 0.3) -> str:
    """Text with Chinese punctuation for engines that give none.

    ``pieces`` are (start_s, end_s, text) in order: words or segments.  A pause
    of ``pause_s`` or more between two pieces ends a clause (，), the last clause
    ends the sentence (。, or ？ when the clause asks something).  Text that
    already carries punctuation is returned as it is.
    """
    texts = [text.strip() for _, _, text in pieces]
    if any(set(text) & _SENTENCE_PUNCTUATION for text in texts):
        return "".join(texts)
    clauses: list[str] = []
    previous_end: float | None = None
    for (start, end, _), text in zip(pieces, texts, strict=True):
        if not text:
            continue
        if clauses and previous_end is not None and start - previous_end < pause_s:
            clauses[-1] += text
        else:
            clauses.append(text)
        previous_end = end
    if not clauses:
        return ""
    out = [c + ("？" if _asks(c) else "，") for c in clauses[:-1]]
    last = clauses[-1]
    out.append(last + ("？" if _asks(last) else "。"))
    return "".join(out)


def _asks(clause: str) -> bool:
    return bool(_QUESTION.search(clause) or clause.endswith(("吗", "呢", "么")))
