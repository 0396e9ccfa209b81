"""The phrase lists of the reply assessment, as data: ``reply_phrases.toml`` in
this package (formulas, boilerplate, actions, results, legal basis, promises,
deadlines, generic words, place suffixes and the words a place's name stops
at), or a centre's own file of the same shape.  Loading checks the file and
compiles its patterns once."""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources

_LISTS = (
    "formulas",
    "boilerplate",
    "actions",
    "results",
    "generic_words",
    "place_suffixes",
    "place_name_stops",
)
_PATTERNS = ("legal_patterns", "promise_patterns", "deadline_patterns")


class PhrasesError(ValueError):
    """A phrase file that cannot be used; the message names the key.  Retrying
    does not help: the file must be fixed."""


@dataclass(frozen=True)
class Phrases:
    """Compiled phrase lists.  ``formula_re`` and ``boilerplate_re`` match the longest
    phrase first; ``place_suffix_re`` the longest suffix."""

    formulas: tuple[str, ...]
    boilerplate: tuple[str, ...]
    actions: tuple[str, ...]
    results: tuple[str, ...]
    generic_words: frozenset[str]
    place_suffixes: tuple[str, ...]
    place_name_stops: frozenset[str]
    legal: tuple[re.Pattern[str], ...]
    promise: tuple[re.Pattern[str], ...]
    deadline: tuple[re.Pattern[str], ...]
    formula_re: re.Pattern[str]
    boilerplate_re: re.Pattern[str]
    action_re: re.Pattern[str]
    result_re: re.Pattern[str]
    place_suffix_re: re.Pattern[str]


def parse_phrases(text: str, source: str = "reply_phrases.toml") -> Phrases:
    """Phrases from TOML text; :class:`PhrasesError` naming the key on a bad file."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PhrasesError(f"{source}: not valid TOML ({exc})") from None
    lists: dict[str, tuple[str, ...]] = {}
    for key in _LISTS + _PATTERNS:
        value = raw.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise PhrasesError(f"{source}: {key} must be a list of non-empty strings")
        lists[key] = tuple(dict.fromkeys(value))
    compiled: dict[str, tuple[re.Pattern[str], ...]] = {}
    for key in _PATTERNS:
        try:
            compiled[key] = tuple(re.compile(p) for p in lists[key])
        except re.error as exc:
            raise PhrasesError(f"{source}: {key}: {exc}") from None
    return Phrases(
        formulas=lists["formulas"],
        boilerplate=lists["boilerplate"],
        actions=lists["actions"],
        results=lists["results"],
        generic_words=frozenset(lists["generic_words"]),
        place_suffixes=lists["place_suffixes"],
        place_name_stops=frozenset(lists["place_name_stops"]),
        legal=compiled["legal_patterns"],
        promise=compiled["promise_patterns"],
        deadline=compiled["deadline_patterns"],
        formula_re=_alternatives(lists["formulas"]),
        boilerplate_re=_alternatives(lists["boilerplate"]),
        action_re=_alternatives(lists["actions"]),
        result_re=_alternatives(lists["results"]),
        place_suffix_re=_alternatives(lists["place_suffixes"]),
    )


@functools.cache
def load_phrases() -> Phrases:
    """The phrases shipped with this package (read once)."""
    path = resources.files("verification").joinpath("reply_phrases.toml")
    return parse_phrases(path.read_text(encoding="utf-8"))


def _alternatives(phrases: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, sorted(phrases, key=len, reverse=True))))
