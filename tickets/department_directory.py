"""The department directory of a 12345 centre as data: departments (承办单位) in their
hierarchy, the dispatch catalogue (派单目录) and what it suggests for a ticket.

Read a directory from its TOML file with ``tickets.departments.load_directory``; this
module holds the types and the look-ups, and reads no files.

Invariants (the loader checks them, the look-ups rely on them): ids, names and aliases
name one department each; a district sits at the top, a street under a district, a
community under a street, a city department at the top or under another city
department; the district and street places name one unit each. Look-ups by key are
dictionary look-ups; ``locate`` is O(places × len(address)) substring tests;
``suggest`` walks the catalogue once.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Protocol

DISTRICT_TOKEN = "@district"  # a catalogue lead/co: the district of the ticket's address
STREET_TOKEN = "@street"  # … the street of the address (else its district, to dispatch down)
TOKENS = (DISTRICT_TOKEN, STREET_TOKEN)
END_OF_DAY = time.max  # "24:00" in a working-hours span


class DepartmentLevel(StrEnum):
    """Where a unit sits in the three-level dispatch (三级派单): 市级部门, 区, 街道 and
    the 社区 below a street."""

    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"

    @property
    def label(self) -> str:
        return _LEVEL_LABELS[self]


_LEVEL_LABELS = {
    DepartmentLevel.CITY: "市级部门",
    DepartmentLevel.DISTRICT: "区",
    DepartmentLevel.STREET: "街道",
    DepartmentLevel.COMMUNITY: "社区",
}


@dataclass(frozen=True, slots=True)
class Contact:
    """Someone to call at a department; ``role`` says who, e.g. 值班电话."""

    name: str
    phone: str = ""
    role: str = ""


@dataclass(frozen=True, slots=True)
class Department:
    """A unit that handles dispatched work orders (承办单位): a city department, a
    district, a street office or a community. ``working_hours`` are resolved (its own,
    else the file's default); ``every_day`` marks a 7×24 duty unit whose working hours
    apply on every day of the year rather than the node's working days."""

    id: str
    name: str
    level: DepartmentLevel
    parent: str = ""
    aliases: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    contacts: tuple[Contact, ...] = ()
    working_hours: tuple[tuple[time, time], ...] = ()
    every_day: bool = False

    @property
    def duty_phone(self) -> str:
        """The first contact's phone whose role is a 值班 (duty) line, else the first."""
        for contact in self.contacts:
            if "值班" in contact.role and contact.phone:
                return contact.phone
        return next((c.phone for c in self.contacts if c.phone), "")

    def as_dict(self) -> dict[str, Any]:
        """The department as JSON-ready data (the CLI's and the API's one form)."""
        return {
            "id": self.id,
            "name": self.name,
            "level": self.level.value,
            "level_label": self.level.label,
            "parent": self.parent,
            "aliases": list(self.aliases),
            "places": list(self.places),
            "contacts": [{"name": c.name, "phone": c.phone, "role": c.role} for c in self.contacts],
            "working_hours": format_working_hours(self.working_hours),
            "every_day": self.every_day,
        }


@dataclass(frozen=True, slots=True)
class DispatchRule:
    """One entry of the dispatch catalogue: work orders of ``category`` (a level1, or a
    ``level1/level2`` or full ``level1/level2/level3`` path) at ``place`` (a district or
    street place name; empty: anywhere) go to ``lead`` (主办) with ``co`` (协办).
    ``lead`` and ``co`` hold department ids or the tokens ``@district``/``@street``;
    ``unit`` is the id of the district or street that ``place`` names. ``number`` counts
    the file's ``[[dispatch]]`` tables from 1."""

    category: str
    lead: str
    co: tuple[str, ...] = ()
    place: str = ""
    unit: str = ""
    note: str = ""
    number: int = 0

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.category.split("/"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "category": self.category,
            "place": self.place,
            "lead": self.lead,
            "co": list(self.co),
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Location:
    """The units an address lies in, as far as its text tells (each may be None)."""

    district: Department | None = None
    street: Department | None = None
    community: Department | None = None

    def ids(self) -> frozenset[str]:
        return frozenset(u.id for u in (self.district, self.street, self.community) if u)


@dataclass(frozen=True, slots=True)
class DispatchSuggestion:
    """What the catalogue proposes for a ticket: the lead department (主办; None when no
    entry fits), the co-handlers (协办) and, in ``rule``, why. The 派单员 confirms or
    changes it."""

    lead: Department | None
    co: tuple[Department, ...]
    rule: str
    matched: DispatchRule | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "lead": self.lead.as_dict() if self.lead else None,
            "co": [department.as_dict() for department in self.co],
            "rule": self.rule,
            "matched": self.matched.as_dict() if self.matched else None,
        }


class UnknownDepartment(LookupError):
    """No department has that id, name or alias; the message lists near ones."""

    retryable = False

    def __init__(self, key: str, near: Iterable[str] = ()) -> None:
        self.key = key
        self.near = tuple(near)
        hint = f"; did you mean {', '.join(self.near)}?" if self.near else ""
        super().__init__(f"no department {key!r} (by id, name or alias){hint}")


class CategoryTreeLike(Protocol):
    """What :func:`tree_paths` reads of ``call_routing.category_tree.CategoryTree``."""

    @property
    def level1s(self) -> tuple[str, ...]: ...

    def level2s(self, level1: str) -> tuple[str, ...]: ...

    def level3s(self, level1: str, level2: str) -> tuple[str, ...]: ...


def tree_paths(tree: CategoryTreeLike) -> frozenset[str]:
    """Every path of a category tree a catalogue entry may name: ``level1``,
    ``level1/level2`` and ``level1/level2/level3``."""
    paths: set[str] = set()
    for level1 in tree.level1s:
        paths.add(level1)
        for level2 in tree.level2s(level1):
            paths.add(f"{level1}/{level2}")
            paths.update(f"{level1}/{level2}/{level3}" for level3 in tree.level3s(level1, level2))
    return frozenset(paths)


def format_working_hours(hours: Iterable[tuple[time, time]]) -> list[str]:
    """``[(08:30, 12:00), …]`` → ``["08:30-12:00", …]`` (``time.max`` as 24:00)."""

    def clock(moment: time) -> str:
        return "24:00" if moment == END_OF_DAY else moment.strftime("%H:%M")

    return [f"{clock(start)}-{clock(end)}" for start, end in hours]


def fold(text: str) -> str:
    """The form addresses and places are compared in: NFKC, no spaces."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


class Directory:
    """A centre's departments (by id, in file order) and its dispatch catalogue.

    ``sign_within_hours``: working hours a department has to 签收 a dispatched ticket;
    ``report_within_hours``: working hours a department named in a 街镇吹哨 has to 报到.
    """

    def __init__(
        self,
        departments: Iterable[Department],
        rules: Iterable[DispatchRule] = (),
        *,
        sign_within_hours: float = 2.0,
        report_within_hours: float = 4.0,
        city: str = "",
        source: str = "",
    ) -> None:
        by_id: dict[str, Department] = {}
        for department in departments:
            if department.id in by_id:
                raise ValueError(f"department id {department.id!r} is given twice")
            by_id[department.id] = department
        self.departments: Mapping[str, Department] = MappingProxyType(by_id)
        self.rules: tuple[DispatchRule, ...] = tuple(rules)
        self.sign_within_hours = sign_within_hours
        self.report_within_hours = report_within_hours
        self.city = city
        self.source = source
        self._keys: dict[str, str] = {}  # id, name, alias, district/street place → id
        for department in by_id.values():
            for key in (department.name, *department.aliases):
                self._keys.setdefault(fold(key), department.id)
        for department in by_id.values():
            if department.level in (DepartmentLevel.DISTRICT, DepartmentLevel.STREET):
                for place in department.places:
                    self._keys.setdefault(fold(place), department.id)
        self._children: dict[str, list[Department]] = {}
        for department in by_id.values():
            self._children.setdefault(department.parent, []).append(department)

    def __iter__(self) -> Iterator[Department]:
        return iter(self.departments.values())

    def __len__(self) -> int:
        return len(self.departments)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.find(key) is not None

    # --- look-ups ----------------------------------------------------------------

    def find(self, key: str) -> Department | None:
        """The department with this id, name or alias (or, for a district or street,
        one of its place names); None when there is none."""
        key = (key or "").strip()
        if key in self.departments:
            return self.departments[key]
        found = self._keys.get(fold(key))
        return self.departments[found] if found else None

    def get(self, key: str) -> Department:
        """Like :meth:`find`, but :class:`UnknownDepartment` (with near names) if none."""
        found = self.find(key)
        if found is None:
            raise UnknownDepartment(key, self.near(key))
        return found

    def near(self, key: str, n: int = 3) -> tuple[str, ...]:
        """Ids and names that look like ``key``, for error messages."""
        words = [*self.departments, *(d.name for d in self), *(a for d in self for a in d.aliases)]
        return tuple(difflib.get_close_matches(key.strip(), words, n=n, cutoff=0.5))

    # --- hierarchy ---------------------------------------------------------------

    def parent(self, department_id: str) -> Department | None:
        parent = self.get(department_id).parent
        return self.departments[parent] if parent else None

    def children(self, department_id: str) -> tuple[Department, ...]:
        """The units directly below, in file order; ``""`` gives the top level."""
        if department_id:
            department_id = self.get(department_id).id
        return tuple(self._children.get(department_id, ()))

    def ancestors(self, department_id: str) -> tuple[Department, ...]:
        """The units above, nearest first."""
        found: list[Department] = []
        current = self.parent(department_id)
        while current is not None:
            found.append(current)
            current = self.departments[current.parent] if current.parent else None
        return tuple(found)

    def descendants(self, department_id: str) -> tuple[Department, ...]:
        """Every unit below, depth first in file order."""
        found: list[Department] = []
        for child in self.children(department_id):
            found.append(child)
            found.extend(self.descendants(child.id))
        return tuple(found)

    def is_within(self, unit_id: str, ancestor_id: str) -> bool:
        """Whether ``unit_id`` lies strictly below ``ancestor_id`` (False for itself, and
        when either is no department of the directory: a ticket may name a department
        by a name from before the directory)."""
        unit, ancestor = self.find(unit_id), self.find(ancestor_id)
        if unit is None or ancestor is None:
            return False
        return any(a.id == ancestor.id for a in self.ancestors(unit.id))

    def may_redispatch(self, holder_id: str, target_id: str) -> bool:
        """Three-level dispatch (三级派单): the unit holding a ticket may pass it only down,
        to a unit below it (a district to its streets); sideways needs the centre."""
        return self.is_within(target_id, holder_id)

    # --- dispatch ----------------------------------------------------------------

    def locate(self, address: str) -> Location:
        """The district, street and community whose place names occur in ``address``:
        the longest place of each level, a street inside the district found (a community
        inside the street), the district filled in from the street when not named."""
        text = fold(address)
        if not text:
            return Location()

        def hits(level: DepartmentLevel) -> list[Department]:
            scored = [
                (max(len(p) for p in d.places if fold(p) in text), d)
                for d in self
                if d.level is level and any(fold(p) in text for p in d.places)
            ]
            return [d for _, d in sorted(scored, key=lambda pair: -pair[0])]

        def first_below(found: list[Department], unit: Department | None) -> Department | None:
            return next((d for d in found if unit is None or d.parent == unit.id), None)

        districts = hits(DepartmentLevel.DISTRICT)
        streets = hits(DepartmentLevel.STREET)
        communities = hits(DepartmentLevel.COMMUNITY)
        district = districts[0] if districts else None
        street = first_below(streets, district)
        community = None
        if street is None:
            community = next(
                (
                    c
                    for c in communities
                    if district is None or self.departments[c.parent].parent == district.id
                ),
                None,
            )
            street = self.departments[community.parent] if community else None
        if community is None and street is not None:
            community = first_below(communities, street)
        if district is None and street is not None:
            district = self.departments[street.parent]
        return Location(district, street, community)

    def rules_for(self, department_id: str) -> tuple[DispatchRule, ...]:
        """The catalogue entries naming this department as lead or co."""
        department = self.get(department_id).id
        return tuple(r for r in self.rules if department in (r.lead, *r.co))

    def uncovered(self, level1s: Iterable[str]) -> tuple[str, ...]:
        """The level1s no catalogue entry starts with (their tickets get no suggestion)."""
        covered = {rule.parts[0] for rule in self.rules}
        return tuple(level1 for level1 in level1s if level1 not in covered)

    def suggest(
        self, level1: str, level2: str = "", level3: str = "", address: str = ""
    ) -> DispatchSuggestion:
        """The lead and co-handlers the catalogue proposes for a ticket of this category
        at this address. The most specific entry wins: the longer category path first,
        then a street place over a district place over none. An entry whose lead is
        ``@district``/``@street`` needs the address to name one (``@street`` falls back
        to the district, which dispatches down); when it does not, the next entry is
        tried."""
        asked = tuple(part.strip() for part in (level1, level2, level3))
        asked = asked[: asked.index("")] if "" in asked else asked
        where = self.locate(address)
        fitting = [rule for rule in self.rules if self._fits(rule, asked, where)]
        fitting.sort(key=lambda rule: (-len(rule.parts), -self._place_rank(rule), rule.number))
        skipped: list[str] = []
        for rule in fitting:
            lead, why = self._resolve(rule.lead, where)
            if lead is None:
                skipped.append(f"第{rule.number}条（{rule.category}→{rule.lead}）{why}")
                continue
            co: list[Department] = []
            for key in rule.co:
                department, _ = self._resolve(key, where)
                if department is not None and department != lead and department not in co:
                    co.append(department)
            text = f"派单目录第{rule.number}条：{rule.category}"
            text += f"（{rule.place}）" if rule.place else "（不限地点）"
            text += f" → 主办 {lead.name}"
            if why:
                text += f"（{why}）"
            if skipped:
                text += "；未采用 " + "；".join(skipped)
            return DispatchSuggestion(lead, tuple(co), text, rule)
        wanted = "/".join(asked) or "（未分类）"
        if skipped:
            reason = f"派单目录中适用于「{wanted}」的条目都要按地址派单，但" + "；".join(skipped)
        else:
            reason = f"派单目录中没有适用于「{wanted}」的条目"
        return DispatchSuggestion(None, (), reason + "：请派单员选择承办单位", None)

    def _fits(self, rule: DispatchRule, asked: tuple[str, ...], where: Location) -> bool:
        if rule.parts != asked[: len(rule.parts)]:
            return False
        return not rule.unit or rule.unit in where.ids()

    def _place_rank(self, rule: DispatchRule) -> int:
        if not rule.unit:
            return 0
        return 2 if self.departments[rule.unit].level is DepartmentLevel.STREET else 1

    def _resolve(self, key: str, where: Location) -> tuple[Department | None, str]:
        """A catalogue lead/co → the department, and a note on how a token resolved."""
        if key == DISTRICT_TOKEN:
            if where.district is None:
                return None, "地址中未识别出所在区"
            return where.district, "地址所在区"
        if key == STREET_TOKEN:
            if where.street is not None:
                return where.street, "地址所在街道"
            if where.district is not None:
                return where.district, "地址中未识别出街道，先派区，由区再派至街道"
            return None, "地址中未识别出所在街道或区"
        return self.departments.get(key), ""
