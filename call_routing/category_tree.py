"""A city's three-level category tree (一级/二级/三级分类) of work orders, and the pick of
a level2 and level3 for a caller's words inside one level1.

A tree is three files side by side (``X`` is any name):

- ``X.csv``: the tree, one row per level3, columns ``level1,level2,level3``;
- ``X.domains.toml``: the project's domains → the tree's level1s (``"水电气" = "城乡建设"``).
  A domain missing from it maps to the level1 of the same name; where the tree has
  none, loading fails naming the domain, the file and the line to add. The file may
  be absent when every domain is a level1 of the tree;
- ``X.lexicon.toml`` (optional): words that point to a level2 or level3. Its tables are
  ``["level1"."level2"]``; in one, ``"level3" = [words]`` points to that level3 and
  ``"*" = [words]`` to the level2 itself. ``"*"`` in a ``["level1"]`` table holds words
  of the level1 as a whole (features for the domain classifier, no level2 of their own).

The names of level2s and level3s (其他 excepted) count as words too, so a tree with no
lexicon still classifies text that names its categories.

Invariants: every word has two characters or more (single characters match nearly
anything); loading checks every row, map line and lexicon key against the tree and
raises :class:`CategoryTreeError` (a ``ValueError``) naming the file, the line, the key
and the fix. ``classify`` is O(len(text) · distinct word lengths) dictionary look-ups
on structures built once at load; the shipped tree is loaded once per process.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from call_routing.taxonomy import default_taxonomy

COLUMNS = ("level1", "level2", "level3")
OTHER = "其他"  # the catch-all level2 / level3 of the shipped tree
OWN = "*"  # a lexicon key: the words of the table's own level1 or level2
SHIPPED = "tipdm2020_taxonomy.csv"
MAX_WEIGHT = 4.0
_SPACES = re.compile(r"\s+")


class CategoryTreeError(ValueError):
    """A category tree, domain map or lexicon that cannot be used as written."""


@dataclass(frozen=True)
class CategoryPath:
    """Where a request sits in the city's tree. ``level2`` and ``level3`` are empty when
    nothing pointed inside the level1 and it has no 其他; ``level3`` alone is empty
    when only the level2 is known and that level2 has no 其他. ``score`` is the weight
    of the words that pointed to the level2 (0 when nothing did)."""

    level1: str
    level2: str
    level3: str
    score: float

    @property
    def code(self) -> str:
        """The path as one stable string, e.g. ``城乡建设/安全生产/事故处理``."""
        return "/".join(part for part in (self.level1, self.level2, self.level3) if part)


def word_weight(word: str) -> float:
    """Longer words are surer: two characters weigh 1, each further one 0.5 more."""
    return min(MAX_WEIGHT, 1.0 + 0.5 * (len(word) - 2))


def fold(text: str) -> str:
    """The form words are matched in: NFKC (full width folded), lower case, no spaces
    (a recogniser may put spaces between Chinese words)."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text or "")).lower()


@dataclass(frozen=True)
class _Level1:
    """One level1's lookup structures: targets are (level2 index, level3 index or -1)."""

    name: str
    level2s: tuple[str, ...]
    level3s: tuple[tuple[str, ...], ...]  # per level2, in tree order
    targets: dict[str, tuple[tuple[int, int], ...]]
    lengths: dict[str, tuple[int, ...]]  # first character → word lengths, longest first
    words: tuple[str, ...]  # every word of the level1, for features

    def matches(self, text: str) -> Iterator[str]:
        """Maximal matches: at each position the longest word, dropped when a match
        that started earlier covers it (路灯不亮: 灯不亮 stays, 不亮 inside it goes)."""
        covered = 0
        for i, char in enumerate(text):
            for length in self.lengths.get(char, ()):
                end = i + length
                if end <= covered:
                    break
                word = text[i:end]
                if word in self.targets:
                    covered = end
                    yield word
                    break

    def classify(self, text: str) -> CategoryPath:
        level2_scores = [0.0] * len(self.level2s)
        level3_scores: dict[tuple[int, int], float] = {}
        for word in self.matches(fold(text)):
            weight = word_weight(word)
            seen: set[int] = set()
            for i2, i3 in self.targets[word]:
                if i2 not in seen:
                    seen.add(i2)
                    level2_scores[i2] += weight
                if i3 >= 0:
                    level3_scores[i2, i3] = level3_scores.get((i2, i3), 0.0) + weight
        if not any(level2_scores):
            if OTHER not in self.level2s:
                return CategoryPath(self.name, "", "", 0.0)
            return self._path(self.level2s.index(OTHER), {}, 0.0)

        def best_level3(i2: int) -> float:
            return max((s for (j2, _), s in level3_scores.items() if j2 == i2), default=0.0)

        # Ties go to the more specific match (a level3 word), then to tree order.
        i2 = max(
            (i for i, s in enumerate(level2_scores) if s > 0),
            key=lambda i: (level2_scores[i], best_level3(i), -i),
        )
        return self._path(i2, level3_scores, level2_scores[i2])

    def _path(
        self, i2: int, level3_scores: dict[tuple[int, int], float], score: float
    ) -> CategoryPath:
        level3s = self.level3s[i2]
        scored = [(s, -i3) for (j2, i3), s in level3_scores.items() if j2 == i2]
        if scored:  # the best-scored level3; ties to the earlier one in the tree
            level3 = level3s[-max(scored)[1]]
        elif OTHER in level3s:
            level3 = OTHER
        else:
            level3 = ""
        return CategoryPath(self.name, self.level2s[i2], level3, score)


class CategoryTree:
    """A city's category tree with its domain map and lexicon; build with :meth:`load`."""

    def __init__(self, level1s: dict[str, _Level1], domain_map: dict[str, str], source: str):
        self._level1s = level1s
        self._map = domain_map
        self.source = source

    @classmethod
    def load(cls, path: Path | None = None, domains: Iterable[str] | None = None) -> CategoryTree:
        """The tree at ``path`` (a ``.csv``; its ``.domains.toml`` and ``.lexicon.toml``
        beside it), or the shipped example. ``domains``: the domains that must map to a
        level1 (default: the shipped taxonomy's). The shipped tree is cached."""
        wanted = None if domains is None else tuple(domains)
        if path is None:
            return _shipped(wanted)
        if not path.is_file():
            raise CategoryTreeError(
                f"no such file {path}: give the path of your category tree CSV "
                "(level1,level2,level3)"
            )
        return _build(path, wanted)

    @property
    def level1s(self) -> tuple[str, ...]:
        return tuple(self._level1s)

    def level2s(self, level1: str) -> tuple[str, ...]:
        return self._level1(level1).level2s

    def level3s(self, level1: str, level2: str) -> tuple[str, ...]:
        entry = self._level1(level1)
        if level2 not in entry.level2s:
            raise KeyError(f"{self.source}: {level1} has no level2 {level2!r}")
        return entry.level3s[entry.level2s.index(level2)]

    def level1_for(self, domain: str) -> str:
        """The level1 a project domain's requests belong to (the domain map)."""
        if domain in self._map:
            return self._map[domain]
        if domain in self._level1s:
            return domain
        raise KeyError(
            f"{self.source}: no level1 for domain {domain!r}; mapped: {', '.join(self._map)}"
        )

    def classify(self, text: str, level1: str) -> CategoryPath:
        """The best level2/level3 inside ``level1`` for ``text``; the level2 其他 with
        score 0 when no word of that level1 occurs."""
        return self._level1(level1).classify(text)

    def lexicon_words(self, level1: str) -> tuple[str, ...]:
        """Every word of ``level1`` (its own, its level2s' and level3s', and their names)."""
        return self._level1(level1).words

    def _level1(self, level1: str) -> _Level1:
        try:
            return self._level1s[level1]
        except KeyError:
            raise KeyError(
                f"{self.source}: no level1 {level1!r}; known: {', '.join(self._level1s)}"
            ) from None


# --- loading -------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _shipped(domains: tuple[str, ...] | None) -> CategoryTree:
    return _build(resources.files("call_routing").joinpath("trees", SHIPPED), domains)


def _sibling(csv_path: Traversable, suffix: str) -> Traversable:
    """``X.csv`` → ``X<suffix>`` beside it (the shipped tree may not be a plain Path)."""
    stem = csv_path.name.removesuffix(".csv")
    if isinstance(csv_path, Path):
        return csv_path.with_name(stem + suffix)
    return resources.files("call_routing").joinpath("trees", stem + suffix)


def _read(source: Traversable) -> str | None:
    return source.read_text(encoding="utf-8-sig") if source.is_file() else None


def _build(csv_path: Traversable, domains: tuple[str, ...] | None) -> CategoryTree:
    csv_name = str(csv_path)
    text = csv_path.read_text(encoding="utf-8-sig")
    tree = parse_tree(text, csv_name)
    map_file = _sibling(csv_path, ".domains.toml")
    lexicon_file = _sibling(csv_path, ".lexicon.toml")
    if domains is None:
        domains = tuple(default_taxonomy().domains)
    domain_map = parse_domain_map(_read(map_file), str(map_file), tree, domains)
    lexicon = parse_lexicon(_read(lexicon_file), str(lexicon_file), tree)
    return CategoryTree(_index(tree, lexicon), domain_map, csv_name)


Tree = dict[str, dict[str, list[str]]]  # level1 → level2 → level3s, in file order
# (level1, level2, level3 or OWN) → words; (level1, OWN, OWN) for the level1's own words
Lexicon = dict[tuple[str, str, str], list[str]]


def parse_tree(text: str, source: str = "tree.csv") -> Tree:
    """Parse and check a tree CSV; errors name the file, the line and the fix."""
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise CategoryTreeError(
            f"{source}:1: missing column {', '.join(missing)}: the first line must name "
            "the columns level1,level2,level3"
        )
    at = [header.index(c) for c in COLUMNS]
    tree: Tree = {}
    first_line: dict[tuple[str, ...], int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        cells = tuple(row[i].strip() if i < len(row) else "" for i in at)
        for column, cell in zip(COLUMNS, cells, strict=True):
            if not cell:
                raise CategoryTreeError(
                    f"{source}:{line}: {column} is empty: every row names its level1, "
                    "level2 and level3 (use 其他 for a catch-all)"
                )
            if cell == OWN:
                raise CategoryTreeError(f"{source}:{line}: {column} {OWN!r} is reserved: rename it")
        if cells in first_line:
            raise CategoryTreeError(
                f"{source}:{line}: duplicate row {'/'.join(cells)} (first on line "
                f"{first_line[cells]}): remove one"
            )
        first_line[cells] = line
        tree.setdefault(cells[0], {}).setdefault(cells[1], []).append(cells[2])
    if not tree:
        raise CategoryTreeError(f"{source}: no rows: list the tree, one level3 per row")
    return tree


def parse_domain_map(
    text: str | None, source: str, tree: Tree, domains: tuple[str, ...]
) -> dict[str, str]:
    """Every domain → a level1 of ``tree``: the map's line, else the same name."""
    raw = _toml(text, source) if text is not None else {}
    known = ", ".join(tree)
    mapped: dict[str, str] = {}
    for domain, level1 in raw.items():
        where = f"{source}:{_line_of(text or '', [], domain)}: {domain!r}"
        if domain not in domains:
            raise CategoryTreeError(
                f"{where} is not a domain: use one of {', '.join(domains)}, or remove the line"
            )
        if not isinstance(level1, str) or level1 not in tree:
            raise CategoryTreeError(
                f"{where} = {level1!r} is not a level1 of the tree: use one of {known}"
            )
        mapped[domain] = level1
    for domain in domains:
        if domain in mapped:
            continue
        if domain not in tree:
            raise CategoryTreeError(
                f"{source}: domain {domain!r} has no level1: the tree has none of that name, "
                f'so add the line "{domain}" = "<level1>" with one of {known}'
            )
        mapped[domain] = domain
    return mapped


def parse_lexicon(text: str | None, source: str, tree: Tree) -> Lexicon:
    """Words per (level1, level2, level3); ``OWN`` in place of a level for its own words."""
    lexicon: Lexicon = {}
    if text is None:
        return lexicon
    raw = _toml(text, source)

    def bad(keys: list[str], problem: str) -> CategoryTreeError:
        line = _line_of(text, keys[:-1], keys[-1])
        return CategoryTreeError(f"{source}:{line}: {'.'.join(keys)}: {problem}")

    def words(keys: list[str], value: object) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
            raise bad(keys, 'give a list of words, e.g. ["路灯", "灯不亮"]')
        folded = [fold(w) for w in value]
        for word in folded:
            if len(word) < 2:
                raise bad(keys, f"{word!r} is shorter than two characters: use a longer word")
        duplicates = sorted({w for w in folded if folded.count(w) > 1})
        if duplicates:
            raise bad(keys, f"{', '.join(duplicates)} listed twice: keep one")
        return folded

    for level1, table in raw.items():
        if level1 not in tree:
            raise bad([level1], f"not a level1 of the tree: use one of {', '.join(tree)}")
        if not isinstance(table, dict):
            raise bad([level1], f'make it a table: ["{level1}"]')
        for level2, entry in table.items():
            if level2 == OWN:
                lexicon[level1, OWN, OWN] = words([level1, OWN], entry)
                continue
            if level2 not in tree[level1]:
                known = ", ".join(tree[level1])
                raise bad([level1, level2], f"not a level2 of {level1}: use one of {known}")
            if not isinstance(entry, dict):
                raise bad([level1, level2], f'make it a table: ["{level1}"."{level2}"]')
            for level3, value in entry.items():
                if level3 != OWN and level3 not in tree[level1][level2]:
                    known = ", ".join(tree[level1][level2])
                    raise bad(
                        [level1, level2, level3],
                        f'not a level3 of {level1}/{level2}: use one of {known}, or "{OWN}" '
                        "for the level2's own words",
                    )
                lexicon[level1, level2, level3] = words([level1, level2, level3], value)
    return lexicon


def _index(tree: Tree, lexicon: Lexicon) -> dict[str, _Level1]:
    return {
        level1: _index_level1(level1, level2_map, lexicon) for level1, level2_map in tree.items()
    }


def _index_level1(level1: str, level2_map: dict[str, list[str]], lexicon: Lexicon) -> _Level1:
    level2s = tuple(level2_map)
    targets: dict[str, list[tuple[int, int]]] = {}
    everything: dict[str, None] = dict.fromkeys(lexicon.get((level1, OWN, OWN), ()))

    def point(word: str, target: tuple[int, int]) -> None:
        word = fold(word)
        if len(word) >= 2:
            everything[word] = None
            if target not in targets.setdefault(word, []):
                targets[word].append(target)

    for i2, level2 in enumerate(level2s):
        if level2 != OTHER:
            point(level2, (i2, -1))
        for word in lexicon.get((level1, level2, OWN), ()):
            point(word, (i2, -1))
        for i3, level3 in enumerate(level2_map[level2]):
            # A level3 named like a level2 (交通运输/交通运输/出租车管理) leaves that name
            # to the level2, which is the fuller category.
            if level3 != OTHER and level3 not in level2_map:
                point(level3, (i2, i3))
            for word in lexicon.get((level1, level2, level3), ()):
                point(word, (i2, i3))
    lengths: dict[str, set[int]] = {}
    for word in targets:
        lengths.setdefault(word[0], set()).add(len(word))
    return _Level1(
        level1,
        level2s,
        tuple(tuple(level2_map[level2]) for level2 in level2s),
        {word: tuple(found) for word, found in targets.items()},
        {char: tuple(sorted(found, reverse=True)) for char, found in lengths.items()},
        tuple(everything),
    )


def _toml(text: str, source: str) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CategoryTreeError(f"{source}: not valid TOML ({exc})") from None


_HEADER = re.compile(r"^\s*\[([^\[\]]*)\]\s*(#.*)?$")
_KEY = re.compile(r'"([^"]*)"|([A-Za-z0-9_-]+)')


def _line_of(text: str, table: list[str], key: str) -> int | str:
    """The line on which ``key`` is set in ``[table]`` (or the table's header when
    ``key`` is a table), for error messages; ``?`` when it cannot be told."""
    current: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            current = [q or b for q, b in _KEY.findall(header.group(1))]
            if current == [*table, key]:
                return number
            continue
        if current == table:
            keys = [q or b for q, b in _KEY.findall(line.split("=", 1)[0])] if "=" in line else []
            if keys[:1] == [key]:
                return number
    return "?"
