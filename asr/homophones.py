"""Near-homophones of the vocabulary's terms, mended by their pinyin after a decode.

Whisper writes what it heard in characters it knows: 石牌街道 comes out as 实派街道,
城管局 as 成管局.  A stretch of the transcript whose pinyin is a term's pinyin is
replaced by the term.  Pinyin is compared without tones and with the confusions of
Guangdong callers' Mandarin folded together (zh/z, ch/c, sh/s, n/l; -ing/-in,
-eng/-en, -ang/-an), as input methods' 模糊音 do.

What may be mended, so that ordinary words stay as they are:

- only terms of three or more Chinese characters (two-character names such as 天河
  are everyday words too often);
- a stretch with the same folded pinyin as the term; a three-character one must
  also share a character with it;
- for terms of five or more characters, a stretch that differs from the term in one
  syllable, if at least half its characters are the term's already;
- longest terms first; a term already written right is never touched, and no
  stretch is mended twice.

An index from folded pinyin to terms (every term once, and once per syllable
left out for the long ones) makes the cost a few dictionary look-ups per
character, however many terms the city lists.  Pure logic over strings; pypinyin
(its dictionaries, no I/O of ours) gives the pinyin.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MIN_CHARS = 3
NEAR_CHARS = 5  # terms this long may differ in one syllable
_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
_FINALS = (("ing", "in"), ("eng", "en"), ("ang", "an"))
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WILD = "*"


def fold(syllable: str) -> str:
    """Toneless pinyin with the confusions folded: zhang → zan, ning → lin."""
    for heard, folded in _INITIALS:
        if syllable.startswith(heard):
            syllable = folded + syllable[len(heard) :]
            break
    for heard, folded in _FINALS:
        if syllable.endswith(heard):
            syllable = syllable[: -len(heard)] + folded
            break
    return syllable


def syllables(text: str) -> list[str | None]:
    """One folded syllable per character of ``text``; None for what is not Chinese."""
    from pypinyin import lazy_pinyin  # its dictionaries load on first use

    found: list[str | None] = [None] * len(text)
    for run in _HAN.finditer(text):
        said = lazy_pinyin(run.group(), errors="ignore")
        if len(said) != len(run.group()):  # a character pypinyin lacks: one at a time
            said = [(lazy_pinyin(c, errors="ignore") or [c])[0] for c in run.group()]
        for offset, syllable in enumerate(said):
            found[run.start() + offset] = fold(syllable)
    return found


@dataclass(frozen=True)
class Mend:
    """``heard`` at ``start`` of the text was replaced by ``term``."""

    start: int
    heard: str
    term: str


class Lexicon:
    """The terms (most important first: an earlier term wins a tie) and their index."""

    def __init__(self, terms: Iterable[str]) -> None:
        wanted = [t for t in dict.fromkeys(terms) if len(t) >= MIN_CHARS and _HAN.fullmatch(t)]
        self.terms = frozenset(wanted)
        self._same: dict[tuple[str, ...], str] = {}
        self._near: dict[tuple[str, ...], str] = {}
        for term in wanted:
            key = tuple(s or "" for s in syllables(term))
            self._same.setdefault(key, term)
            if len(term) >= NEAR_CHARS:
                for i in range(len(key)):
                    self._near.setdefault((*key[:i], _WILD, *key[i + 1 :]), term)
        self._lengths = sorted({len(t) for t in wanted}, reverse=True)

    def __len__(self) -> int:
        return len(self.terms)

    def mend(self, text: str) -> tuple[str, list[Mend]]:
        """``text`` with its near-homophones of terms replaced, and what was replaced."""
        if not self.terms or not text:
            return text, []
        taken = [False] * len(text)
        for term in sorted(self.terms & _candidates(text, self._lengths), key=len, reverse=True):
            for match in re.finditer(re.escape(term), text):
                if not any(taken[match.start() : match.end()]):
                    taken[match.start() : match.end()] = [True] * len(term)
        said = syllables(text)
        mends: list[Mend] = []
        for length in self._lengths:
            for start in range(len(text) - length + 1):
                end = start + length
                if any(taken[start:end]):
                    continue
                key = said[start:end]
                if None in key:
                    continue
                term = self._match(text[start:end], tuple(s or "" for s in key))
                if term is not None:
                    mends.append(Mend(start, text[start:end], term))
                    taken[start:end] = [True] * length
        if not mends:
            return text, []
        mends.sort(key=lambda m: m.start)
        out, at = [], 0
        for m in mends:
            out += [text[at : m.start], m.term]
            at = m.start + len(m.heard)
        out.append(text[at:])
        return "".join(out), mends

    def _match(self, heard: str, key: tuple[str, ...]) -> str | None:
        term = self._same.get(key)
        if term is not None and (len(term) > MIN_CHARS or _shared(heard, term)):
            return term
        if len(key) < NEAR_CHARS:
            return None
        for i in range(len(key)):
            term = self._near.get((*key[:i], _WILD, *key[i + 1 :]))
            if term is not None and 2 * _shared(heard, term) >= len(term):
                return term
        return None


def _shared(heard: str, term: str) -> int:
    """Characters in the same place in both."""
    return sum(a == b for a, b in zip(heard, term, strict=False))


def _candidates(text: str, lengths: list[int]) -> set[str]:
    """Every substring of ``text`` of a term's length (to find terms written right)."""
    return {text[i : i + n] for n in lengths for i in range(len(text) - n + 1)}
