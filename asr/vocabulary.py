"""The hotline's own words, for the recogniser: departments, places, complaint words.

Whisper base has never heard of 城市管理和综合执法局 or of the city's streets, so
the ASR service biases it toward them in two ways (``asr.vocabulary``):

- a few of the terms (``asr.max_hotwords``, most important first, within
  :data:`MAX_PROMPT_TOKENS` of Whisper's tokens) go to the decoder as faster-whisper's
  ``hotwords``: in faster-whisper 1.2.1 they are put after ``<|startofprev|>`` in
  every window's prompt (unless a ``prefix`` is given; an ``initial_prompt`` would
  follow them), cut at 223 tokens.  A long prompt slows every decode and makes
  Whisper more likely to recite it, so it stays short;
- every term of three or more characters, however many the city lists, is used after
  the decode to mend near-homophones by their pinyin (``homophones.py``).

Measured (bench/asr_vocabulary.py, 48 synthetic phone calls): mending alone leaves
ordinary speech as it was and finds a few more street names; 24 hotwords (18 fit the
tokens) find 58 % of department names instead of none but cost ordinary speech
about 1.6 CER points on 8 kHz audio, so ``asr.max_hotwords`` is 0 (off) unless set.

Where the words come from.  ``asr`` may not import ``call_routing`` (DESIGN.md,
"Packages"), so this module takes the words as plain strings: the node
(``ivr/node/asr_vocabulary.py``, run inside the ASR service's process) reads the
taxonomy's departments (``routing.taxonomy`` or the shipped one) and the places
``call_routing.places`` knows, and this module reads the city's own place list
(``routing.places``: one name per line, ``#`` starts a comment) and adds
:data:`COMPLAINT_WORDS`.

A decode whose text recites the prompt (terms strung together as a list, see
:func:`recites`) is decoded again without the bias: the vocabulary may mend words,
never invent them.  Pure functions and plain data; the only I/O is reading the
place list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path


def _words(spaced: str) -> tuple[str, ...]:
    return tuple(spaced.split())


# Said in complaints and requests every day, and easily misheard on a phone line.
COMPLAINT_WORDS: tuple[str, ...] = _words(
    """
    噪音扰民 违章建筑 占道经营 拖欠工资 物业管理 小区物业 油烟扰民 施工噪音 垃圾清运
    路灯不亮 井盖破损 道路积水 停水停电 漏水 燃气泄漏 社保缴费 医保报销 住房公积金
    食品安全 消费纠纷 退费 假冒伪劣 无证经营 乱收费 违法停车 公交线路 学位申请
    户籍办理 居住证 营业执照 劳动仲裁 网格员 居委会 村委会 街道办
    """
)

# faster-whisper cuts hotwords at 223 tokens.  160 holds 18 of the shipped taxonomy's
# 23 departments and costs a decode about 15 % more time (bench/asr_vocabulary.py).
MAX_PROMPT_TOKENS = 160
MAX_TERM_CHARS = 20  # a place or department name longer than this is a line of prose
_TERM = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff0-9A-Za-z·（）()]+$")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class VocabularyError(ValueError):
    """A place list that cannot be used; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class Vocabulary:
    """The terms, each once, most important first: departments, the city's own places,
    the places the project knows, complaint words."""

    departments: tuple[str, ...] = ()
    city_places: tuple[str, ...] = ()  # routing.places
    known_places: tuple[str, ...] = ()  # call_routing.places
    words: tuple[str, ...] = ()

    @property
    def terms(self) -> tuple[str, ...]:
        groups = (self.departments, self.city_places, self.known_places, self.words)
        return tuple(dict.fromkeys(t for group in groups for t in group))

    def __len__(self) -> int:
        return len(self.terms)


def build_vocabulary(
    departments: Iterable[str],
    known_places: Iterable[str] = (),
    places_file: Path | None = None,
    words: Iterable[str] = COMPLAINT_WORDS,
) -> Vocabulary:
    """The vocabulary from its sources; ``VocabularyError`` for a bad place list."""
    city = read_place_list(places_file) if places_file is not None else ()
    return Vocabulary(_clean(departments), city, _clean(known_places), _clean(words))


def read_place_list(path: Path) -> tuple[str, ...]:
    """``routing.places``: one name per line (UTF-8), ``#`` to the end of a line is a
    comment, blank lines are skipped, a name given twice counts once."""
    fix = "give one place name per line (UTF-8), # for comments"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise VocabularyError(f"routing.places: {path} is not UTF-8 text: {fix}") from None
    except OSError as exc:
        raise VocabularyError(f"routing.places: cannot read {path} ({exc.strerror})") from None
    names: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        where = f"routing.places: {path}, line {number}"
        if len(name.split()) > 1 or not _TERM.match(name):
            raise VocabularyError(f"{where}: {name[:30]!r} is not one place name: {fix}")
        if not _CJK.search(name):
            raise VocabularyError(f"{where}: {name!r} has no Chinese characters: {fix}")
        if len(name) > MAX_TERM_CHARS:
            raise VocabularyError(
                f"{where}: {name[:30]!r} is longer than {MAX_TERM_CHARS} characters: {fix}"
            )
        names.append(name)
    if not names:
        raise VocabularyError(f"routing.places: {path} lists no place names: {fix}")
    return tuple(dict.fromkeys(names))


def _clean(terms: Iterable[str]) -> tuple[str, ...]:
    found = (t.strip() for t in terms)
    return tuple(dict.fromkeys(t for t in found if t and _CJK.search(t)))


@dataclass(frozen=True)
class Bias:
    """What one decode is given: faster-whisper's ``hotwords`` (or None), and the terms
    they hold (to tell a recital of them from speech)."""

    hotwords: str | None = None
    terms: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.hotwords is not None


def prompt_terms(
    vocabulary: Vocabulary,
    max_hotwords: int,
    count_tokens: Callable[[str], int] = len,
    max_tokens: int = MAX_PROMPT_TOKENS,
) -> Bias:
    """The first terms that fit ``max_hotwords`` and ``max_tokens`` (as ``count_tokens``
    counts the hotwords string: Whisper's tokenizer in the engine)."""
    chosen: list[str] = []
    for term in vocabulary.terms:
        if len(chosen) >= max_hotwords:
            break
        if count_tokens(" " + " ".join([*chosen, term])) > max_tokens:
            continue  # a shorter term further on may still fit
        chosen.append(term)
    if not chosen:
        return Bias()
    return Bias(" ".join(chosen), tuple(chosen))


_SEPARATORS = r"[\s、，,；;]+"


def recites(text: str, bias: Bias, min_terms: int = 3) -> bool:
    """Does ``text`` recite the prompt rather than say something: ``min_terms`` or more
    of its terms one after another, each apart from the next by separators only (a
    list; 天河区石牌街道, an address, is not one), or two of them apart only by a space
    (Whisper writes no spaces in Mandarin speech)?"""
    if not bias.terms or not text:
        return False
    alternatives = "|".join(re.escape(t) for t in sorted(bias.terms, key=len, reverse=True))
    run = re.compile(rf"(?:{alternatives})(?:{_SEPARATORS}(?:{alternatives})){{{min_terms - 1},}}")
    if run.search(text):
        return True
    spaced = re.compile(rf"(?:{alternatives})\s+(?:{alternatives})")
    return bool(spaced.search(text))
