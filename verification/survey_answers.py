"""What a citizen answers in a 回访 survey call, by key or by voice.

The survey asks two questions: whether the problem was solved (key 1 已解决, 2 未解决,
3 部分解决 → :class:`tickets.model.Resolution`) and the 好差评 rating (key 5 非常满意 …
1 非常不满意 → :class:`tickets.model.Rating`).  :func:`resolution_answer` and
:func:`rating_answer` read a key or the transcript into an :class:`Answer` (its
source is :class:`tickets.verification_tasks.AnswerSource`, as the task records it);
:func:`interruption` hears what stops the survey during any question (an answering
machine, the wrong person, an emergency…; :func:`interruptions` all of them);
:func:`comment_disputes` reads the closing comment for a result the citizen disputes.

Rules, in the order they apply:

- A key wins over the words; an unknown key (7, ``*``, ``#``) is no answer.
- Words are read from ``survey_words.toml`` beside this module (a centre may pass its
  own file of the same shape): the transcript is made comparable (Traditional →
  Simplified, fillers dropped, punctuation turned into clause breaks), the longest
  entries are taken first (非常不满意 before 不满意 before 满意), and an entry after a
  negation is read as its negated answer (不是很满意 → 不满意, 没有不满意 → 满意).
- A spoken key (五分, 选二) settles the answer over other words; words that disagree
  are settled by what follows the last contrast word (解决了，但是又坏了 → 未解决),
  then by the file's ``when_mixed`` answer; otherwise there is no answer, and the
  survey repeats the question once.

Everything here is pure: text in, values out; the word file is read once.
"""

from __future__ import annotations

import functools
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from importlib import resources
from typing import Any, Generic, TypeVar

import opencc

from call_routing.emergency import detect_emergency
from tickets.model import Rating, Resolution
from tickets.verification_tasks import AnswerSource

MAX_CHARS = 1000  # what was said is read on its first 1,000 characters
CLAUSE_BREAK = "，"  # what punctuation becomes in comparable text

V = TypeVar("V")
E = TypeVar("E", bound=Enum)

_RESOLUTION_KEYS = {resolution.key: resolution for resolution in Resolution}
_RATING_KEYS = {str(rating.score): rating for rating in Rating}


class SurveyWordsError(ValueError):
    """A word file that cannot be used; the message names the key.  Retrying does not
    help: the file must be fixed."""


@dataclass(frozen=True, slots=True)
class Answer(Generic[V]):
    """One answer to a survey question: the value, whether it was keyed or spoken,
    and what was heard (the key, or the words as transcribed)."""

    value: V
    source: AnswerSource
    heard: str


class Interruption(StrEnum):
    """What stops the survey during any question, most urgent first."""

    EMERGENCY = "emergency"  # danger now (call_routing.emergency): hand over at once
    ANSWERING_MACHINE = "answering_machine"  # a carrier's announcement, voicemail
    WRONG_PERSON = "wrong_person"  # 非本人: not the citizen, or they never called
    WANTS_HUMAN = "wants_human"  # 转人工
    DO_NOT_CALL = "do_not_call"  # 别再打了: never survey this number again
    DECLINES = "declines"  # 不需要回访, 不想评价: not this survey
    NOT_NOW = "not_now"  # 没空, 在开会, 晚点再打: call again later
    COMPLAINS_ABOUT_SURVEY = "complains_about_survey"  # 骚扰, 烦不烦 (the survey may go on)


@dataclass(frozen=True, slots=True)
class TextRules:
    """How transcripts are made comparable and how negation and contrast are read."""

    fillers: frozenset[str]
    sounds_like: tuple[tuple[str, str], ...]  # longest first
    particles: tuple[str, ...]
    leading: tuple[str, ...]
    negations: frozenset[str]  # a negator, optionally followed by a degree word
    contrast: tuple[str, ...]

    def comparable(self, text: str) -> str:
        """``text`` as it is matched: Simplified, NFKC-folded, lower-cased, without
        spaces and fillers, each run of punctuation one :data:`CLAUSE_BREAK`."""
        said = _fold(text, self.fillers)
        for heard, meant in self.sounds_like:
            said = said.replace(heard, meant)
        return said

    def negated(self, said: str, start: int) -> bool:
        """Whether a negation stands right before ``start`` in its clause."""
        before = said[said.rfind(CLAUSE_BREAK, 0, start) + 1 : start]
        return any(before.endswith(negation) for negation in self.negations)

    def last_contrast(self, said: str) -> int:
        """Where the last contrast word starts, or -1."""
        return max((said.rfind(word) for word in self.contrast), default=-1)

    def alone_forms(self, clause: str) -> Iterator[str]:
        """A clause, then without a leading word, each with trailing particles
        stripped one at a time: 就五吧 → 就五吧, 就五, 五吧, 五."""
        starts = [clause] + [
            clause[len(word) :]
            for word in self.leading
            if clause.startswith(word) and len(clause) > len(word)
        ]
        for form in starts:
            yield form
            while len(form) > 1 and (particle := _ending(form, self.particles)):
                form = form[: -len(particle)]
                yield form


@dataclass(frozen=True, slots=True)
class Vocabulary(Generic[V]):
    """The words of one question (or of the interruptions, or of disputes).

    ``words`` maps a comparable phrase to its value, or to None for a phrase that only
    looks like an answer; ``alone`` holds phrases that count only as a whole clause;
    ``spoken_keys`` the phrases (in either) that name a key; ``negated`` what a negated
    value means (a value missing there is set aside when negated)."""

    words: Mapping[str, V | None]
    alone: Mapping[str, V]
    spoken_keys: frozenset[str]
    negated: Mapping[V, V]
    when_mixed: V | None = None

    @property
    def longest(self) -> int:
        return max(map(len, self.words), default=0)


@dataclass(frozen=True, slots=True)
class SurveyWords:
    """The survey's word file, checked and ready to match."""

    rules: TextRules
    resolution: Vocabulary[Resolution]
    rating: Vocabulary[Rating]
    interruptions: Vocabulary[Interruption]
    disputes: Vocabulary[bool]


# --------------------------------------------------------------------------- answers


def resolution_answer(
    digit: str | None = None, text: str | None = None, *, words: SurveyWords | None = None
) -> Answer[Resolution] | None:
    """Whether the problem was solved: key 1, 2 or 3, or what the citizen said
    (解决了, 还是老样子, 解决了一部分); None for an unknown key or unclear words."""
    survey = words or load_survey_words()
    return _answer(digit, text, _RESOLUTION_KEYS, survey.resolution, survey.rules)


def rating_answer(
    digit: str | None = None, text: str | None = None, *, words: SurveyWords | None = None
) -> Answer[Rating] | None:
    """The 好差评 rating: key 5 (非常满意) to 1 (非常不满意), or what the citizen said
    (很满意, 还行, 不是很满意, 打5分); None for an unknown key or unclear words."""
    survey = words or load_survey_words()
    return _answer(digit, text, _RATING_KEYS, survey.rating, survey.rules)


def interruption(text: str, *, words: SurveyWords | None = None) -> Interruption | None:
    """What in ``text`` stops the survey, the most urgent if several; None if nothing."""
    heard = interruptions(text, words=words)
    return heard[0] if heard else None


def interruptions(text: str, *, words: SurveyWords | None = None) -> tuple[Interruption, ...]:
    """Every interruption in ``text``, most urgent first (没空，烦不烦 is a decline and
    a complaint).  Emergencies are the project's own detection (:func:`detect_emergency`)."""
    if not text or not text.strip():
        return ()
    survey = words or load_survey_words()
    said = survey.rules.comparable(text)
    heard = {match.value for match in _matches(survey.interruptions, survey.rules, said)}
    if detect_emergency(text[:MAX_CHARS]) is not None:
        heard.add(Interruption.EMERGENCY)
    return tuple(member for member in Interruption if member in heard)


def comment_disputes(text: str, *, words: SurveyWords | None = None) -> bool:
    """Whether a closing comment says the problem is not really solved or the citizen
    is unhappy (还是没解决, 走形式, 我要投诉, 不太满意), so the ticket goes to review
    whatever was keyed.  Negated words do not count (没有敷衍, 没什么问题)."""
    if not text or not text.strip():
        return False
    survey = words or load_survey_words()
    rules = survey.rules
    said = rules.comparable(text)
    resolution = _decide(
        _words(survey.resolution, rules, said), said, rules, survey.resolution.when_mixed
    )
    if resolution in (Resolution.UNSOLVED, Resolution.PARTLY):
        return True
    rating = _decide(_words(survey.rating, rules, said), said, rules, None)
    if rating is not None and rating.is_bad:
        return True
    return any(match.value for match in _matches(survey.disputes, rules, said))


def _answer(
    digit: str | None,
    text: str | None,
    by_key: Mapping[str, V],
    vocabulary: Vocabulary[V],
    rules: TextRules,
) -> Answer[V] | None:
    key = (digit or "").strip()
    if key:
        value = by_key.get(key)
        return None if value is None else Answer(value, AnswerSource.KEY, key)
    if not text or not text.strip():
        return None
    said = rules.comparable(text)
    found = [*_matches(vocabulary, rules, said), *_alone(vocabulary, rules, said)]
    value = _decide(found, said, rules, vocabulary.when_mixed)
    return None if value is None else Answer(value, AnswerSource.VOICE, text.strip())


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True, slots=True)
class _Match(Generic[V]):
    start: int
    end: int
    value: V
    spoken_key: bool


def _matches(vocabulary: Vocabulary[V], rules: TextRules, said: str) -> list[_Match[V]]:
    """The vocabulary's phrases in ``said``, longest first and not overlapping, each
    read through a negation before it; phrases that only look like answers and
    negated values without a negated meaning are left out."""
    spans = sorted(
        (
            (start, end)
            for start in range(len(said))
            for end in range(start + 1, min(len(said), start + vocabulary.longest) + 1)
            if said[start:end] in vocabulary.words
        ),
        key=lambda span: (span[0] - span[1], span[0]),
    )
    taken = [False] * len(said)
    found = []
    for start, end in spans:
        if any(taken[start:end]):
            continue
        taken[start:end] = [True] * (end - start)
        phrase = said[start:end]
        value = vocabulary.words[phrase]
        if value is not None and rules.negated(said, start):
            value = vocabulary.negated.get(value)
        if value is not None:
            found.append(_Match(start, end, value, phrase in vocabulary.spoken_keys))
    return found


def _words(vocabulary: Vocabulary[V], rules: TextRules, said: str) -> list[_Match[V]]:
    """The matches that are words, not spoken keys: in a comment 第二个 or 五号 name
    no option."""
    return [match for match in _matches(vocabulary, rules, said) if not match.spoken_key]


def _alone(vocabulary: Vocabulary[V], rules: TextRules, said: str) -> Iterator[_Match[V]]:
    """Clauses that are one of the vocabulary's ``alone`` phrases (是的, 没有, 五吧)."""
    start = 0
    for clause in said.split(CLAUSE_BREAK):
        end = start + len(clause)
        form = next((f for f in rules.alone_forms(clause) if f in vocabulary.alone), None)
        if form is not None:
            yield _Match(start, end, vocabulary.alone[form], form in vocabulary.spoken_keys)
        start = end + len(CLAUSE_BREAK)


def _decide(found: list[_Match[V]], said: str, rules: TextRules, when_mixed: V | None) -> V | None:
    """One value from what was heard, or None when it does not clearly say one."""
    keys = {match.value for match in found if match.spoken_key}
    if keys:
        return keys.pop() if len(keys) == 1 else None
    values = {match.value for match in found}
    if len(values) <= 1:
        return next(iter(values), None)
    cut = rules.last_contrast(said)
    later = {match.value for match in found if cut >= 0 and match.start >= cut}
    if len(later) == 1:
        return later.pop()
    return when_mixed if when_mixed in values else None


def _fold(text: str, fillers: Iterable[str]) -> str:
    folded = unicodedata.normalize("NFKC", _t2s().convert(text[:MAX_CHARS])).lower()
    skipped = set(fillers)
    out: list[str] = []
    for char in folded:
        if char.isspace() or char in skipped:
            continue
        if unicodedata.category(char)[0] in "PSZ":  # punctuation, symbols, separators
            if out and out[-1] != CLAUSE_BREAK:
                out.append(CLAUSE_BREAK)
            continue
        out.append(char)
    return "".join(out).strip(CLAUSE_BREAK)


def _ending(text: str, endings: tuple[str, ...]) -> str:
    return next((e for e in endings if text.endswith(e)), "")


@functools.cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


# --------------------------------------------------------------------------- the word file


@functools.cache
def load_survey_words() -> SurveyWords:
    """The words shipped with this package (read once)."""
    path = resources.files("verification").joinpath("survey_words.toml")
    return parse_survey_words(path.read_text(encoding="utf-8"))


def parse_survey_words(text: str, source: str = "survey_words.toml") -> SurveyWords:
    """Survey words from TOML text; :class:`SurveyWordsError` naming the key on a bad file."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SurveyWordsError(f"{source}: not valid TOML ({exc})") from None
    file = _File(raw, source)
    rules = file.rules()
    numerals = file.numerals(rules)
    return SurveyWords(
        rules=rules,
        resolution=file.answers("resolution", Resolution, _RESOLUTION_KEYS, rules, numerals),
        rating=file.answers("rating", Rating, _RATING_KEYS, rules, numerals),
        interruptions=file.interruptions(rules),
        disputes=file.disputes(rules),
    )


class _File:
    """Reads the word file's tables, naming the key of whatever is wrong."""

    def __init__(self, raw: dict[str, Any], source: str) -> None:
        self.raw = raw
        self.source = source

    def fail(self, key: str, problem: str) -> SurveyWordsError:
        return SurveyWordsError(f"{self.source}: {key} {problem}")

    def table(self, key: str, allowed: Iterable[str] | None = None) -> dict[str, Any]:
        value: Any = self.raw
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        if allowed is not None and (unknown := sorted(set(value) - set(allowed))):
            raise self.fail(f"{key}.{unknown[0]}", f"is unknown; use {', '.join(allowed)}")
        return value

    def strings(
        self, table: dict[str, Any], key: str, where: str, *, required: bool = True
    ) -> tuple[str, ...]:
        value = table.get(key, None if required else [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(f"{where}.{key}", "must be a list of non-empty strings")
        return tuple(value)

    def phrase(self, rules: TextRules, text: str, where: str) -> str:
        said = rules.comparable(text)
        if not said or CLAUSE_BREAK in said:
            raise self.fail(where, f"has {text!r}, which is empty or holds punctuation")
        return said

    def rules(self) -> TextRules:
        table = self.table("text")
        fillers = table.get("fillers", "")
        if not isinstance(fillers, str):
            raise self.fail("text.fillers", "must be a string of characters")
        pairs = table.get("sounds_like", [])
        if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) and s for s in p)
            for p in pairs
        ):
            raise self.fail("text.sounds_like", 'must be a list of ["heard", "meant"] pairs')
        folded = [(_fold(heard, fillers), _fold(meant, fillers)) for heard, meant in pairs]
        words = {
            key: tuple(_fold(w, fillers) for w in self.strings(table, key, "text"))
            for key in ("particles", "leading", "negators", "degree", "contrast")
        }
        return TextRules(
            fillers=frozenset(fillers),
            sounds_like=tuple(sorted(folded, key=lambda pair: -len(pair[0]))),
            particles=words["particles"],
            leading=tuple(sorted(words["leading"], key=len, reverse=True)),
            negations=frozenset(
                negator + degree
                for negator in words["negators"]
                for degree in ("", *words["degree"])
            ),
            contrast=words["contrast"],
        )

    def numerals(self, rules: TextRules) -> dict[str, tuple[str, ...]]:
        table = self.table("numerals")
        return {
            digit: tuple(
                self.phrase(rules, form, f"numerals.{digit}")
                for form in self.strings(table, digit, "numerals")
            )
            for digit in table
        }

    def answers(
        self,
        name: str,
        enum: type[E],
        by_key: Mapping[str, E],
        rules: TextRules,
        numerals: Mapping[str, tuple[str, ...]],
    ) -> Vocabulary[E]:
        members = {member.name.lower(): member for member in enum}
        table = self.table(name, ["spoken_keys", "ignore", "when_mixed", *members])
        words: dict[str, E | None] = {}
        alone: dict[str, E] = {}
        spoken: set[str] = set()
        negated: dict[E, E] = {}
        for template in self.strings(table, "spoken_keys", name, required=False):
            if template.count("{n}") != 1:
                raise self.fail(f"{name}.spoken_keys", f"has {template!r} without one {{n}}")
            for digit, forms in numerals.items():
                if digit in by_key:
                    for form in forms:
                        said = self.phrase(rules, template.replace("{n}", form), name)
                        self.add(words, said, by_key[digit], f"{name}.spoken_keys")
                        spoken.add(said)
        for digit, forms in numerals.items():
            if digit in by_key:
                for form in forms:
                    self.add(alone, form, by_key[digit], f"numerals.{digit}")
                    spoken.add(form)
        for key, member in members.items():
            where = f"{name}.{key}"
            entry = self.table(where, ["words", "alone", "negated"])
            for text in self.strings(entry, "words", where):
                self.add(words, self.phrase(rules, text, f"{where}.words"), member, where)
            for text in self.strings(entry, "alone", where, required=False):
                self.add(alone, self.phrase(rules, text, f"{where}.alone"), member, where)
            if "negated" in entry:
                negated[member] = self.member(entry["negated"], members, f"{where}.negated")
        for text in self.strings(table, "ignore", name, required=False):
            forms = [f for fs in numerals.values() for f in fs] if "{n}" in text else [""]
            for form in forms:
                said = self.phrase(rules, text.replace("{n}", form), f"{name}.ignore")
                self.add(words, said, None, f"{name}.ignore")
        when_mixed = None
        if "when_mixed" in table:
            when_mixed = self.member(table["when_mixed"], members, f"{name}.when_mixed")
        return Vocabulary(words, alone, frozenset(spoken), negated, when_mixed)

    def interruptions(self, rules: TextRules) -> Vocabulary[Interruption]:
        members = {m.name.lower(): m for m in Interruption if m is not Interruption.EMERGENCY}
        table = self.table("interruption", ["ignore", *members])
        words: dict[str, Interruption | None] = {}
        for key, member in members.items():
            for text in self.strings(table, key, "interruption"):
                said = self.phrase(rules, text, f"interruption.{key}")
                self.add(words, said, member, f"interruption.{key}")
        for text in self.strings(table, "ignore", "interruption", required=False):
            self.add(words, self.phrase(rules, text, "interruption.ignore"), None, "ignore")
        return Vocabulary(words, {}, frozenset(), {})

    def disputes(self, rules: TextRules) -> Vocabulary[bool]:
        table = self.table("comment", ["disputes", "fine"])
        words: dict[str, bool | None] = {}
        for key, value in (("disputes", True), ("fine", None)):
            for text in self.strings(table, key, "comment"):
                self.add(words, self.phrase(rules, text, f"comment.{key}"), value, key)
        return Vocabulary(words, {}, frozenset(), {})

    def add(self, target: dict[str, Any], phrase: str, value: object, where: str) -> None:
        if phrase in target and target[phrase] != value:
            meaning = "ignored" if target[phrase] is None else str(target[phrase])
            raise self.fail(where, f"has {phrase!r}, which is already {meaning}")
        target[phrase] = value

    def member(self, value: object, members: Mapping[str, E], where: str) -> E:
        if not isinstance(value, str) or value not in members:
            raise self.fail(where, f"must be one of {', '.join(members)}, not {value!r}")
        return members[value]
