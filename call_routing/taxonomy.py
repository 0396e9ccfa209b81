"""The 12345 taxonomy: request types, domains (领域) with their seat groups, lead
departments and categories (二级分类), read from ``taxonomy.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Domain:
    name: str
    seat_group: str
    departments: tuple[str, ...]
    categories: tuple[Category, ...]
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    request_types: tuple[str, ...]
    domains: dict[str, Domain]
    general_seat_group: str
    emergency_numbers: dict[str, str] = field(default_factory=dict)

    def canonical_domain(self, label: str) -> str:
        """A domain name or one of its aliases (社会治安) → the domain name."""
        label = label.strip()
        if label in self.domains:
            return label
        for domain in self.domains.values():
            if label in domain.aliases:
                return domain.name
        raise KeyError(f"unknown domain {label!r}; known: {', '.join(self.domains)}")

    def category(self, domain: str, text: str) -> Category:
        """The domain's category whose words occur most in ``text`` (else its first)."""
        categories = self.domains[domain].categories
        scored = [(sum(text.count(w) for w in c.words), -i, c) for i, c in enumerate(categories)]
        best = max(scored, key=lambda item: item[:2])
        return best[2]


def parse_taxonomy(text: str, source: str = "taxonomy.toml") -> Taxonomy:
    """Parse and check a taxonomy; ``ValueError`` names the file and the key."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source}: not valid TOML ({exc})") from None
    types = tuple(raw.get("request_types", ()))
    if not types:
        raise ValueError(f"{source}: request_types must list the request types")
    domains: dict[str, Domain] = {}
    for name, entry in raw.get("domains", {}).items():
        where = f"{source}: domains.{name}"
        if not entry.get("seat_group"):
            raise ValueError(f"{where}.seat_group is missing: name the seat group for it")
        categories = tuple(
            Category(str(c["code"]), str(c["name"]), tuple(c.get("words", ())))
            for c in entry.get("categories", ())
        )
        if not categories:
            raise ValueError(f"{where}.categories is empty: give at least one category")
        domains[name] = Domain(
            name,
            str(entry["seat_group"]),
            tuple(entry.get("departments", ())),
            categories,
            tuple(entry.get("aliases", ())),
        )
    if "其他" not in domains:
        raise ValueError(f"{source}: a domain named 其他 is required (the catch-all)")
    return Taxonomy(
        types,
        domains,
        str(raw.get("general_seat_group", domains["其他"].seat_group)),
        {str(k): str(v) for k, v in raw.get("emergency_numbers", {}).items()},
    )


def default_taxonomy() -> Taxonomy:
    """The taxonomy shipped with the package."""
    text = resources.files("call_routing").joinpath("taxonomy.toml").read_text(encoding="utf-8")
    return parse_taxonomy(text)


def load_taxonomy(path: Path | None) -> Taxonomy:
    if path is None:
        return default_taxonomy()
    return parse_taxonomy(path.read_text(encoding="utf-8"), str(path))
