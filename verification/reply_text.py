"""What a complaint and a reply are made of, for comparing them: key words
weighted like TF-IDF, place names (地名) and times (时间).

Words are jieba's, with the hotline's generic words dropped (反映, 问题, 部门…
say nothing about what the complaint is about).  The IDF table is jieba's own
(``jieba/analyse/idf.txt``, 270,000 words from a general corpus) unless one is
computed from a city's own texts (:meth:`IdfTable.from_texts`).

Places are read by their suffixes (小区, 路, 街道, 村…), the name in front of
one by jieba's parts of speech, and the anonymised codes of the TipDM data (A市,
A2区, L6县) kept whole; the address extractor in ``call_routing.slots`` is built for
callers' speech in Guangdong and reads too much into long written letters
(收取好处归村).  Everything here is pure: text in, values out, no clock.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from verification.reply_phrases import Phrases, load_phrases

MAX_CHARS = 20_000  # a letter longer than this is compared on its first 20,000 characters
TOP_TERMS = 30  # the complaint's key words: the 30 heaviest

_ANONYMISED = re.compile(r"[A-Z]\d{0,2}[市区县]")  # TipDM's anonymised places: A市, A2区, L6县
_USER_ID = re.compile(r"[A-Z]{2}\d{4,}")  # TipDM's user ids in replies: UU0081267
_EXCEL_CR = re.compile(r"_x000[dD]_")  # carriage returns of a spreadsheet export
_URL = re.compile(r"https?://\S+")
_HAN = re.compile(r"[\u3400-\u9fff]")
_WORDLIKE = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")
_NOT_HAN = re.compile(r"[^\u3400-\u9fff]")
_NAME_MAX = 6  # Han characters of a place's name in front of its suffix
# Times of day a complaint may hinge on (夜间施工, 每天晚上10点, 周末).
_NIGHT = ("凌晨", "深夜", "半夜", "夜间", "夜里", "晚上", "夜晚", "晚间", "通宵", "午夜")
_DAY = ("早上", "早晨", "上午", "中午", "午休", "下午", "傍晚", "白天")
_WEEK = ("周末", "节假日", "双休日", "星期六", "星期天", "星期日", "周六", "周日")
_TIME_GROUPS: dict[str, tuple[str, ...]] = {"夜间": _NIGHT, "白天": _DAY, "周末": _WEEK}
_CLOCK = re.compile(r"(?<!\d)([0-2]?\d)\s*(?:点|时|:|：)(?:[0-5]\d|半|\s*[0-5]?\d\s*分)?")


def clean(text: object) -> str:
    """The text as compared: NFKC (full-width folded), user ids and links dropped,
    whitespace collapsed, cut at :data:`MAX_CHARS`.  Anything not a string is ''."""
    if not isinstance(text, str):
        return ""
    folded = unicodedata.normalize("NFKC", text[: MAX_CHARS * 2])
    folded = _URL.sub(" ", _USER_ID.sub(" ", _EXCEL_CR.sub(" ", folded)))
    return re.sub(r"\s+", " ", folded).strip()[:MAX_CHARS]


@functools.cache
def _segmenter():  # noqa: ANN202 (jieba's default Tokenizer)
    """jieba, its dictionary loaded once (about a second) and its start-up lines quiet."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba.dt


def words(text: str, phrases: Phrases) -> list[str]:
    """The content words of a cleaned text: jieba's words of two characters or more
    (or a Latin/digit token of three or more), generic hotline words left out, and
    every anonymised place code (A2区) as one word."""
    found = [m.group() for m in _ANONYMISED.finditer(text)]
    stop = phrases.generic_words
    for piece in _ANONYMISED.split(text):
        for word in _segmenter().lcut(piece):
            if word in stop or not _WORDLIKE.search(word):
                continue
            if (_HAN.search(word) and len(word) >= 2) or (not _HAN.search(word) and len(word) >= 3):
                found.append(word)
    return found


@dataclass(frozen=True)
class IdfTable:
    """Inverse document frequencies: rare words weigh more.  ``default`` is the
    weight of a word the table has not seen (the median, as jieba does)."""

    weights: Mapping[str, float]
    default: float

    def __call__(self, word: str) -> float:
        return self.weights.get(word, self.default)

    @classmethod
    def from_texts(cls, texts: Iterable[str], phrases: Phrases | None = None) -> IdfTable:
        """A table from a city's own texts (complaints and replies): smoothed
        ``log((1 + n) / (1 + df)) + 1``; unseen words get the rarest weight."""
        phrases = phrases or load_phrases()
        counts: Counter[str] = Counter()
        n = 0
        for text in texts:
            n += 1
            counts.update(set(words(clean(text), phrases)))
        weights = {w: math.log((1 + n) / (1 + df)) + 1 for w, df in counts.items()}
        return cls(weights, math.log(1 + n) + 1)


@functools.cache
def builtin_idf() -> IdfTable:
    """jieba's IDF table (a general Chinese corpus), loaded once."""
    text = resources.files("jieba").joinpath("analyse", "idf.txt").read_text(encoding="utf-8")
    weights: dict[str, float] = {}
    for line in text.splitlines():
        word, _, value = line.partition(" ")
        try:
            weights[word] = float(value)
        except ValueError:
            continue
    ordered = sorted(weights.values())
    return IdfTable(weights, ordered[len(ordered) // 2] if ordered else 10.0)


def key_terms(text_words: Sequence[str], idf: IdfTable, top: int = TOP_TERMS) -> dict[str, float]:
    """The heaviest words of a text, ``sqrt(tf) × idf``, as word → weight."""
    counts = Counter(text_words)
    weighted = {w: math.sqrt(c) * idf(w) for w, c in counts.items()}
    heaviest = sorted(weighted.items(), key=lambda item: (-item[1], item[0]))[:top]
    return dict(heaviest)


def covered(terms: Mapping[str, float], text: str, text_words: Iterable[str] = ()) -> float:
    """The weighted share of ``terms`` found in ``text``: a word counts whole when it
    is in the text (as a word or a substring: jieba may cut it differently there),
    half when only its first or last two characters are (东山路 → 东山)."""
    total = sum(terms.values())
    if total <= 0:
        return 0.0
    present = set(text_words)
    found = 0.0
    for word, weight in terms.items():
        if word in present or word in text:
            found += weight
        elif len(word) >= 3 and _HAN.match(word) and (word[:2] in text or word[-2:] in text):
            found += weight / 2
    return found / total


def places(text: str, phrases: Phrases) -> list[str]:
    """Place names in a cleaned text, in order of first mention, each once: named
    places by their suffixes (华景新城小区, 东山路, 连山村) and anonymised codes (A2区).

    The name in front of a suffix is jieba's words read right to left while they are
    names or nouns (泉塘 in 叫泉塘菜市场 stops at 叫), one of them a proper name
    (not 收费标准小区); before a one-character suffix (路, 村, 镇) the word right
    before it must be the proper name (东山路, not 委托镇)."""
    found: list[str] = []
    masked = _ANONYMISED.sub(lambda m: "|" * len(m.group()), text)
    last_end = 0
    for match in phrases.place_suffix_re.finditer(masked):
        start = match.start()
        head = _NOT_HAN.split(masked[max(last_end, start - _NAME_MAX) : start])[-1]
        name = _name_before(head, len(match.group()) == 1, phrases.place_name_stops)
        if len(name) < 2 or name in phrases.generic_words:
            continue
        found.append(name + match.group())
        last_end = match.end()
    found.extend(m.group() for m in _ANONYMISED.finditer(text))
    return list(dict.fromkeys(found))


_NAME_FLAGS = frozenset(("ns", "nr", "nz", "nt", "nrt", "nrfg", "j", "x", "eng", "ng"))
_NOUN_FLAGS = _NAME_FLAGS | {"n", "b", "s"}


@functools.lru_cache(maxsize=8192)
def _name_before(head: str, proper_only: bool, stops: frozenset[str]) -> str:
    """The place's name at the end of ``head`` (see :func:`places`)."""
    if not head:
        return ""
    tokens = _tagger().lcut(head)
    if not tokens or (proper_only and tokens[-1].flag not in _NAME_FLAGS):
        return ""
    kept: list[str] = []
    named = False
    for token in reversed(tokens):
        if token.flag not in _NOUN_FLAGS or token.word in stops:
            break
        kept.append(token.word)
        named = named or token.flag in _NAME_FLAGS
    return "".join(reversed(kept)) if named else ""  # 收费标准小区 names no place


@functools.cache
def _tagger():  # noqa: ANN202 (jieba's part-of-speech tokenizer)
    _segmenter()
    import jieba.posseg

    return jieba.posseg.dt


def place_core(place: str, phrases: Phrases) -> str:
    """A place without its suffix (东山路 → 东山), for finding it said shorter."""
    for suffix in sorted(phrases.place_suffixes, key=len, reverse=True):
        if place.endswith(suffix) and len(place) - len(suffix) >= 2:
            return place[: -len(suffix)]
    return place


def mentions_place(place: str, text: str, phrases: Phrases) -> bool:
    """Whether ``text`` names ``place``, in full or without its suffix."""
    return place in text or place_core(place, phrases) in text


def specific(place: str) -> bool:
    """A place narrower than a district (not an anonymised A2区 code)."""
    return not _ANONYMISED.fullmatch(place)


def times(text: str) -> list[str]:
    """Times of day a complaint may hinge on, as comparable keys: a group (夜间,
    白天, 周末) and clock hours (晚上10点 and 22时 both 10点).  Dates are left out:
    in letters they mostly tell the story (11月7日 I called…), not when it happens."""
    found = [group for group, said in _TIME_GROUPS.items() if any(w in text for w in said)]
    for m in _CLOCK.finditer(text):
        hour = int(m.group(1))
        if hour <= 24:
            found.append(f"{hour % 12}点")  # 晚上10点 and 22时 are one hour
    return list(dict.fromkeys(found))
