"""The department directory and dispatch catalogue (派单目录) of a 12345 centre, read
from one TOML file (``tickets.departments``; the shipped example is
``tickets/directory/guangzhou.toml``, a Guangzhou-style centre).

The file, top to bottom (the shipped example's opening comments say the same for
operators):

- ``city``, ``sign_within_hours`` (working hours to 签收 after dispatch, default 2),
  ``report_within_hours`` (to 报到 when named in a 街镇吹哨, default 4) and
  ``working_hours`` (the default for every unit, ``["08:30-12:00", "14:00-17:30"]``);
- ``[[department]]`` tables: ``id`` (stable lower-case ASCII, e.g.
  ``street.tianhe.shipai``), ``name``, ``level`` (city / district / street /
  community, or 市级部门 / 区 / 街道 / 社区), ``parent`` (a street's district, a
  community's street; empty at the top), ``aliases``, ``places`` (the place names a
  district, street or community covers, matched in addresses), ``contacts``
  (``{ name, phone, role }``), ``working_hours`` and ``every_day`` (a 7×24 unit);
- ``[[dispatch]]`` tables: ``category`` (a level1, ``level1/level2`` or the full path
  of the category tree), ``place`` (a district or street place name; empty:
  anywhere), ``lead`` (an id, name or alias, or ``@district`` / ``@street``: the unit
  of the ticket's address), ``co`` (the same, a list) and ``note``.

Loading checks everything and raises :class:`DirectoryError` listing every problem at
once, each as ``file:line: key path: problem: fix`` (``department[3].parent``;
tables count from 1). The types and look-ups live in ``tickets.department_directory``
and are re-exported here: import them from this module.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import time
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from tickets.department_directory import (
    DISTRICT_TOKEN,
    END_OF_DAY,
    STREET_TOKEN,
    TOKENS,
    CategoryTreeLike,
    Contact,
    Department,
    DepartmentLevel,
    Directory,
    DispatchRule,
    DispatchSuggestion,
    Location,
    UnknownDepartment,
    fold,
    format_working_hours,
    tree_paths,
)

__all__ = [
    "DISTRICT_TOKEN",
    "STREET_TOKEN",
    "CategoryTreeLike",
    "Contact",
    "Department",
    "DepartmentLevel",
    "Directory",
    "DirectoryError",
    "DispatchRule",
    "DispatchSuggestion",
    "Location",
    "UnknownDepartment",
    "default_directory",
    "format_working_hours",
    "load_directory",
    "near_categories",
    "parse_directory",
    "parse_working_hours",
    "tree_paths",
]

SHIPPED = "guangzhou.toml"
SHIPPED_SOURCE = f"tickets/directory/{SHIPPED}"  # how messages name the shipped example
DEFAULT_WORKING_HOURS = ("08:30-12:00", "14:00-17:30")
MAX_HOURS = 720.0  # a month of working hours: beyond it a limit is a typo
TOP_KEYS = (
    "city",
    "sign_within_hours",
    "report_within_hours",
    "working_hours",
    "department",
    "dispatch",
)
DEPARTMENT_KEYS = (
    "id",
    "name",
    "level",
    "parent",
    "aliases",
    "places",
    "contacts",
    "working_hours",
    "every_day",
)
CONTACT_KEYS = ("name", "phone", "role")
DISPATCH_KEYS = ("category", "place", "lead", "co", "note")
# level → the levels its parent may have (None: the top of the directory).
PARENT_LEVELS: dict[DepartmentLevel, tuple[DepartmentLevel | None, ...]] = {
    DepartmentLevel.CITY: (None, DepartmentLevel.CITY),
    DepartmentLevel.DISTRICT: (None,),
    DepartmentLevel.STREET: (DepartmentLevel.DISTRICT,),
    DepartmentLevel.COMMUNITY: (DepartmentLevel.STREET,),
}
_PARENT_FIX = {
    DepartmentLevel.CITY: 'a city department (市级部门) sits at the top (parent = "") or '
    "under another city department",
    DepartmentLevel.DISTRICT: 'a district (区) sits at the top of the directory: set parent = ""',
    DepartmentLevel.STREET: "a street (街道) sits under a district (区): give its district's id",
    DepartmentLevel.COMMUNITY: "a community (社区) sits under a street (街道): give its "
    "street's id",
}
_ID = re.compile(r"^[a-z][a-z0-9_]*(?:[.-][a-z0-9_]+)*$")
_PHONE = re.compile(r"^[0-9+][0-9 ()+-]{2,31}$")
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_TOML_LINE = re.compile(r"at line (\d+)")
_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\"-]+)\s*\]\]?\s*(#.*)?$")


class DirectoryError(ValueError):
    """A directory file that cannot be used as written; ``problems`` holds one line
    each (file, line, key path, the problem and the fix)."""

    retryable = False

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def parse_working_hours(value: object) -> tuple[tuple[time, time], ...]:
    """``["08:30-12:00", "14:00-17:30"]`` → time spans, in order; ``24:00`` may end the
    last. ValueError naming the span and the fix when a span is malformed, empty,
    reversed or overlaps another."""
    if not isinstance(value, list) or not value or not all(isinstance(s, str) for s in value):
        raise ValueError('give a list of spans, e.g. ["08:30-12:00", "14:00-17:30"]')
    spans: list[tuple[time, time]] = []
    for text in value:
        match = _SPAN.match(text)
        if not match:
            raise ValueError(f'{text!r} is not a span: write "HH:MM-HH:MM", e.g. "08:30-12:00"')
        start_h, start_m, end_h, end_m = (int(g) for g in match.groups())
        try:
            start = time(start_h, start_m)
            end = END_OF_DAY if (end_h, end_m) == (24, 0) else time(end_h, end_m)
        except ValueError:
            raise ValueError(f"{text!r}: hours run 00:00 to 24:00, minutes 00 to 59") from None
        if start >= end:
            raise ValueError(f"{text!r} ends before it starts: write the earlier time first")
        spans.append((start, end))
    spans.sort()
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        if start < end:
            shown = format_working_hours(spans)
            raise ValueError(f"{', '.join(shown)} overlap: make the spans disjoint")
    return tuple(spans)


def load_directory(path: Path | None, categories: Collection[str] | None = None) -> Directory:
    """The directory in ``path`` (None: the shipped example, read afresh). ``categories``:
    the paths a catalogue entry may name (:func:`tree_paths` of the city's category
    tree); None: not checked."""
    if path is None:
        return parse_directory(_shipped_text(), SHIPPED_SOURCE, categories)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DirectoryError(
            [f"{path}: cannot read it ({exc.strerror}): give the path of a directory TOML file"]
        ) from None
    return parse_directory(text, str(path), categories)


@lru_cache(maxsize=1)
def default_directory() -> Directory:
    """The shipped example (a Guangzhou-style centre), loaded once per process."""
    return parse_directory(_shipped_text(), SHIPPED_SOURCE)


def _shipped_text() -> str:
    return resources.files("tickets").joinpath("directory", SHIPPED).read_text(encoding="utf-8")


def parse_directory(
    text: str, source: str = "departments.toml", categories: Collection[str] | None = None
) -> Directory:
    """Parse and check a directory file's text (see the module docstring)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        line = found.group(1) if found else "?"
        raise DirectoryError(
            [f"{source}:{line}: not valid TOML ({exc}): fix the syntax on that line"]
        ) from None
    reader = _Reader(source, _Lines(text))
    return reader.read(raw, categories)


# --- reading -----------------------------------------------------------------------


class _Lines:
    """Where keys are written in the file, for messages: the line of a top-level key,
    of a ``[[department]]``/``[[dispatch]]`` table (counted from 1) or of a key in one."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.blocks: dict[str, list[tuple[int, int]]] = {}  # table → (first, last) lines
        self.top_end = len(self.lines)
        current = ""
        for number, line in enumerate(self.lines, 1):
            header = _HEADER.match(line)
            if not header:
                continue
            name = header.group(1).strip('"')
            self.top_end = min(self.top_end, number - 1)
            if line.lstrip().startswith("[[") and name in ("department", "dispatch"):
                if current:
                    self._close(current, number - 1)
                current = name
                self.blocks.setdefault(name, []).append((number, len(self.lines)))
            elif not name.startswith(f"{current}.") and current:
                self._close(current, number - 1)
                current = ""

    def _close(self, table: str, last: int) -> None:
        first, _ = self.blocks[table][-1]
        self.blocks[table][-1] = (first, last)

    def of(self, table: str = "", index: int = 0, key: str = "") -> int | str:
        if table:
            blocks = self.blocks.get(table, [])
            if not 1 <= index <= len(blocks):
                return "?"
            first, last = blocks[index - 1]
        else:
            first, last = 1, self.top_end
        if key:
            pattern = re.compile(rf'^\s*"?{re.escape(key)}"?\s*=')
            for number in range(first, last + 1):
                if pattern.match(self.lines[number - 1]):
                    return number
        return first if table else "?"


@dataclass
class _Reader:
    """One pass over a parsed file that gathers every problem before giving up."""

    source: str
    lines: _Lines
    problems: list[str] = field(default_factory=list)
    # fold(name or alias) → (table number, id), for uniqueness
    names: dict[str, tuple[int, str]] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)  # id → table number

    def problem(self, where: tuple[str, int, str], message: str) -> None:
        table, index, key = where
        line = self.lines.of(table, index, key.split(".")[0].split("[")[0])
        path = f"{table}[{index}]" if table else ""
        if key:
            path = f"{path}.{key}" if path else key
        self.problems.append(f"{self.source}:{line}: {path}: {message}")

    def read(self, raw: dict[str, Any], categories: Collection[str] | None) -> Directory:
        for key in raw:
            if key not in TOP_KEYS:
                self.problem(("", 0, key), _unknown(key, TOP_KEYS))
        city = raw.get("city", "")
        if not isinstance(city, str):
            self.problem(("", 0, "city"), 'give the city\'s name as text, e.g. city = "广州市"')
            city = ""
        limits = {
            key: self.hours_limit(raw, key, default)
            for key, default in (("sign_within_hours", 2.0), ("report_within_hours", 4.0))
        }
        hours = self.working_hours(("", 0, "working_hours"), raw.get("working_hours"), ())
        tables = raw.get("department")
        if not isinstance(tables, list) or not tables:
            self.problem(
                ("", 0, "department"),
                "list the departments, each as a [[department]] table with id, name and level",
            )
            tables = []
        departments = [
            department
            for number, table in enumerate(tables, 1)
            if (department := self.department(number, table, hours)) is not None
        ]
        self.hierarchy(departments)
        directory = Directory(
            departments,
            sign_within_hours=limits["sign_within_hours"],
            report_within_hours=limits["report_within_hours"],
            city=city,
            source=self.source,
        )
        rules = self.catalogue(raw.get("dispatch", []), directory, categories)
        if self.problems:
            raise DirectoryError(self.problems)
        return Directory(
            departments,
            rules,
            sign_within_hours=directory.sign_within_hours,
            report_within_hours=directory.report_within_hours,
            city=city,
            source=self.source,
        )

    def hours_limit(self, raw: dict[str, Any], key: str, default: float) -> float:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(("", 0, key), f"give a number of working hours, e.g. {key} = {default:g}")
            return default
        if not 0 < value <= MAX_HOURS:
            self.problem(("", 0, key), f"{value:g}: give more than 0 and at most {MAX_HOURS:g}")
            return default
        return float(value)

    def working_hours(
        self,
        where: tuple[str, int, str],
        value: object,
        default: tuple[tuple[time, time], ...],
    ) -> tuple[tuple[time, time], ...]:
        if value is None:
            return default or parse_working_hours(list(DEFAULT_WORKING_HOURS))
        try:
            return parse_working_hours(value)
        except ValueError as exc:
            self.problem(where, str(exc))
            return default or parse_working_hours(list(DEFAULT_WORKING_HOURS))

    def strings(self, where: tuple[str, int, str], value: object) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(s, str) and s.strip() for s in value):
            self.problem(where, 'give a list of names, e.g. ["住建局", "市住建局"]')
            return ()
        cleaned = tuple(s.strip() for s in value)
        twice = sorted({s for s in cleaned if cleaned.count(s) > 1})
        if twice:
            self.problem(where, f"{', '.join(twice)} listed twice: keep one")
        return tuple(dict.fromkeys(cleaned))

    def department(
        self, number: int, table: object, default_hours: tuple[tuple[time, time], ...]
    ) -> Department | None:
        def at(key: str = "") -> tuple[str, int, str]:
            return ("department", number, key)

        if not isinstance(table, dict):
            self.problem(at(), "make each department a [[department]] table")
            return None
        for key in table:
            if key not in DEPARTMENT_KEYS:
                self.problem(at(key), _unknown(key, DEPARTMENT_KEYS))
        ident = table.get("id")
        name = table.get("name")
        level = _level(table.get("level"))
        ok = True
        if not isinstance(ident, str) or not _ID.match(ident):
            self.problem(
                at("id"),
                f"{ident!r} is not an id: use lower-case ASCII letters, digits, _ and dots, "
                'e.g. id = "street.tianhe.shipai"',
            )
            ok = False
        elif ident in self.numbers:
            self.problem(
                at("id"),
                f"{ident} is the id of department[{self.numbers[ident]}] already: "
                "give each department its own id",
            )
            ok = False
        if not isinstance(name, str) or not name.strip():
            self.problem(at("name"), 'give the department\'s name, e.g. name = "广州市民政局"')
            ok = False
        if level is None:
            choices = ", ".join(f"{lv.value} ({lv.label})" for lv in DepartmentLevel)
            self.problem(at("level"), f"{table.get('level')!r}: use one of {choices}")
            ok = False
        parent = table.get("parent", "")
        if not isinstance(parent, str):
            self.problem(at("parent"), "give the parent's id as text, or leave it out")
            parent = ""
        aliases = self.strings(at("aliases"), table.get("aliases"))
        places = self.strings(at("places"), table.get("places"))
        contacts = self.contacts(number, table.get("contacts"))
        hours = self.working_hours(at("working_hours"), table.get("working_hours"), default_hours)
        every_day = table.get("every_day", False)
        if not isinstance(every_day, bool):
            self.problem(at("every_day"), "write every_day = true or every_day = false")
            every_day = False
        if not ok or level is None or not isinstance(ident, str) or not isinstance(name, str):
            return None
        self.numbers[ident] = number
        if level is DepartmentLevel.CITY and places:
            self.problem(
                at("places"),
                "a city department covers the whole city: places are for districts, streets "
                "and communities; remove them (or use aliases)",
            )
        if level in (DepartmentLevel.DISTRICT, DepartmentLevel.STREET) and not places:
            self.problem(
                at("places"),
                f"a {level.value} ({level.label}) needs the place names it covers, matched in "
                'addresses, e.g. places = ["天河区", "天河"]',
            )
        for key, kind in ((name.strip(), "name"), *((a, "aliases") for a in aliases)):
            first = self.names.setdefault(fold(key), (number, ident))
            if first[1] != ident:
                self.problem(
                    at(kind),
                    f"{key} already names department[{first[0]}] ({first[1]}): a name or "
                    "alias names one department; rename or remove one",
                )
        return Department(
            ident,
            name.strip(),
            level,
            parent.strip(),
            aliases,
            places,
            contacts,
            hours,
            every_day,
        )

    def contacts(self, number: int, value: object) -> tuple[Contact, ...]:
        where = ("department", number, "contacts")
        if value is None:
            return ()
        example = 'contacts = [{ name = "值班室", phone = "020-8000-0000", role = "值班电话" }]'
        if not isinstance(value, list):
            self.problem(where, f"give a list of contacts, e.g. {example}")
            return ()
        found = []
        for i, entry in enumerate(value, 1):
            spot = ("department", number, f"contacts[{i}]")
            if not isinstance(entry, dict):
                self.problem(spot, f"give a table, e.g. {example}")
                continue
            for key in entry:
                if key not in CONTACT_KEYS:
                    self.problem(spot, _unknown(key, CONTACT_KEYS))
            fields = {k: entry.get(k, "") for k in CONTACT_KEYS}
            if not all(isinstance(v, str) for v in fields.values()):
                self.problem(spot, "name, phone and role are text")
                continue
            if not fields["name"].strip():
                self.problem(spot, 'give the contact\'s name, e.g. name = "值班室"')
                continue
            if fields["phone"] and not _PHONE.match(fields["phone"]):
                self.problem(
                    spot,
                    f"phone {fields['phone']!r} is not a number: digits with - or spaces, "
                    'e.g. "020-8000-0000"',
                )
            found.append(Contact(*(fields[k].strip() for k in CONTACT_KEYS)))
        return tuple(found)

    def hierarchy(self, departments: list[Department]) -> None:
        """Parents that exist, no cycles, levels that fit their parents, and district
        and street places that name one unit each."""
        by_id = {d.id: d for d in departments}
        for department in departments:
            where = ("department", self.numbers[department.id], "parent")
            if not department.parent:
                if None not in PARENT_LEVELS[department.level]:
                    self.problem(where, f"missing: {_PARENT_FIX[department.level]}")
                continue
            parent = by_id.get(department.parent)
            if parent is None:
                fitting = PARENT_LEVELS[department.level]
                others = [i for i, d in by_id.items() if d.level in fitting and i != department.id]
                near = difflib.get_close_matches(department.parent, others, n=1)
                hint = f"did you mean {', '.join(near)}?" if near else "give an id of this file"
                self.problem(where, f"{department.parent}: no such department: {hint}")
            elif parent.level not in PARENT_LEVELS[department.level]:
                self.problem(
                    where,
                    f"{parent.id} is a {parent.level.value} ({parent.level.label}): "
                    f"{_PARENT_FIX[department.level]}",
                )
        reported: set[str] = set()
        for department in departments:
            chain = [department.id]
            current = by_id.get(department.parent)
            while current is not None and current.id not in chain:
                chain.append(current.id)
                current = by_id.get(current.parent)
            if (
                current is not None
                and current.id == department.id
                and department.id not in reported
            ):
                reported.update(chain)
                self.problem(
                    ("department", self.numbers[department.id], "parent"),
                    f"{' → '.join([*chain, department.id])} is a cycle: one of them must sit "
                    'higher up (or at the top, parent = "")',
                )
        self.unique_places(departments)

    def unique_places(self, departments: list[Department]) -> None:
        seen: dict[tuple[str, str], Department] = {}  # (scope, place) → first unit
        for department in departments:
            # Communities: unique within their street; districts and streets: everywhere.
            community = department.level is DepartmentLevel.COMMUNITY
            scope = department.parent if community else ""
            for place in department.places:
                first = seen.setdefault((scope, fold(place)), department)
                if first is not department:
                    self.problem(
                        ("department", self.numbers[department.id], "places"),
                        f"{place} is a place of {first.id} already: a place names one unit, "
                        "or addresses there cannot be told apart; remove one",
                    )

    def catalogue(
        self, tables: object, directory: Directory, categories: Collection[str] | None
    ) -> list[DispatchRule]:
        if not isinstance(tables, list):
            self.problem(("", 0, "dispatch"), "make each catalogue entry a [[dispatch]] table")
            return []
        rules: list[DispatchRule] = []
        first: dict[tuple[str, str], int] = {}
        for number, table in enumerate(tables, 1):
            rule = self.rule(number, table, directory, categories)
            if rule is None:
                continue
            key = (rule.category, rule.unit)
            if key in first:
                where = f"at {rule.place}" if rule.place else "anywhere"
                self.problem(
                    ("dispatch", number, ""),
                    f"{rule.category} {where} is dispatch[{first[key]}] again: keep one entry "
                    "per category and place",
                )
                continue
            first[key] = number
            rules.append(rule)
        return rules

    def rule(
        self,
        number: int,
        table: object,
        directory: Directory,
        categories: Collection[str] | None,
    ) -> DispatchRule | None:
        def at(key: str = "") -> tuple[str, int, str]:
            return ("dispatch", number, key)

        if not isinstance(table, dict):
            self.problem(at(), "make each catalogue entry a [[dispatch]] table")
            return None
        for key in table:
            if key not in DISPATCH_KEYS:
                self.problem(at(key), _unknown(key, DISPATCH_KEYS))
        problems = len(self.problems)
        category = self.category(at("category"), table.get("category"), categories)
        place, unit = self.place(at("place"), table.get("place", ""), directory)
        lead = self.handler(at("lead"), table.get("lead"), directory)
        co_value = table.get("co", [])
        co: list[str] = []
        if not isinstance(co_value, list):
            self.problem(at("co"), 'give a list, e.g. co = ["city.housing", "@street"]')
            co_value = []
        for i, key in enumerate(co_value, 1):
            handler = self.handler(at(f"co[{i}]"), key, directory)
            if handler is None:
                continue
            if handler == lead:
                self.problem(at(f"co[{i}]"), f"{key} is the lead already: remove it from co")
            elif handler in co:
                self.problem(at(f"co[{i}]"), f"{key} is listed twice: keep one")
            else:
                co.append(handler)
        note = table.get("note", "")
        if not isinstance(note, str):
            self.problem(at("note"), "give the note as text")
            note = ""
        if len(self.problems) > problems or category is None or lead is None:
            return None
        return DispatchRule(category, lead, tuple(co), place, unit, note.strip(), number)

    def category(
        self, where: tuple[str, int, str], value: object, categories: Collection[str] | None
    ) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.problem(where, 'give the category path, e.g. category = "城乡建设/城乡规划"')
            return None
        parts = [part.strip() for part in value.split("/")]
        if not all(parts) or len(parts) > 3:
            self.problem(
                where,
                f"{value!r}: write a level1, level1/level2 or level1/level2/level3 of the "
                "category tree, e.g. 城乡建设/城乡规划/违章建筑",
            )
            return None
        path = "/".join(parts)
        if categories is not None and path not in categories:
            near = near_categories(path, categories)
            hint = f"did you mean {', '.join(near)}?" if near else "use a path of the tree"
            self.problem(where, f"{path} is not a category of the tree: {hint}")
            return None
        return path

    def place(
        self, where: tuple[str, int, str], value: object, directory: Directory
    ) -> tuple[str, str]:
        if value == "":
            return "", ""
        if not isinstance(value, str):
            self.problem(where, 'give a place name as text, e.g. place = "天河区"')
            return "", ""
        units = [
            d
            for d in directory
            if d.level in (DepartmentLevel.DISTRICT, DepartmentLevel.STREET)
            and fold(value) in {fold(p) for p in d.places}
        ]
        if not units:
            known = [
                p
                for d in directory
                if d.level in (DepartmentLevel.DISTRICT, DepartmentLevel.STREET)
                for p in d.places
            ]
            near = difflib.get_close_matches(value, known, n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(near)}?" if near else "or leave place out"
            self.problem(where, f"{value} is no place of a district or street of this file: {hint}")
            return "", ""
        return value.strip(), units[0].id

    def handler(
        self, where: tuple[str, int, str], value: object, directory: Directory
    ) -> str | None:
        """A lead or co-handler: a department's id, or a token."""
        if not isinstance(value, str) or not value.strip():
            self.problem(
                where,
                "give a department's id, name or alias, or @district / @street for the unit "
                'of the address, e.g. lead = "city.housing"',
            )
            return None
        value = value.strip()
        if value.startswith("@"):
            if value not in TOKENS:
                self.problem(where, f"{value} is no token: use {' or '.join(TOKENS)}")
                return None
            return value
        found = directory.find(value)
        if found is None:
            near = directory.near(value)
            hint = f"did you mean {', '.join(near)}?" if near else "give an id of this file"
            self.problem(where, f"{value} is no department of this file: {hint}")
            return None
        return found.id


def _level(value: object) -> DepartmentLevel | None:
    for level in DepartmentLevel:
        if value in (level.value, level.label):
            return level
    return None


def _unknown(key: str, allowed: tuple[str, ...]) -> str:
    near = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {near[0]}? " if near else ""
    return f"unknown key: {hint}the keys here are {', '.join(allowed)}"


def near_categories(path: str, categories: Collection[str]) -> list[str]:
    """Tree paths like ``path``: in its level1 by the last level (城乡建设/物业管理 →
    城乡建设/城市建设和市政管理/小区管理, 城乡建设/住房保障与房地产/物业服务), else
    by the whole path."""
    level1, _, rest = path.partition("/")
    last = path.rsplit("/", 1)[-1]
    inside = sorted(c for c in categories if c.startswith(f"{level1}/"))
    if not inside or not rest:
        return difflib.get_close_matches(path, sorted(categories), n=3, cutoff=0.5)

    def likeness(candidate: str) -> float:
        return difflib.SequenceMatcher(None, last, candidate.rsplit("/", 1)[-1]).ratio()

    scored = sorted(inside, key=lambda c: (-likeness(c), c))
    return [c for c in scored[:3] if likeness(c) >= 0.5]
