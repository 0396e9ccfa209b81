"""How well reported hotspots match the ones people found by hand: a known
hotspot counts as found when one reported hotspot holds at least half of its
messages and at least half of that reported hotspot's messages belong to it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from analytics.hotspots import Hotspot


@dataclass(frozen=True)
class Match:
    known: str
    size: int  # messages of the known hotspot
    rank: int | None  # the reported hotspot that matches it; None: not found
    recall: float  # share of the known messages in the best reported hotspot
    precision: float  # share of that reported hotspot's messages that are the known ones


def match_known(reported: Sequence[Hotspot], known: Mapping[str, Sequence[str]]) -> list[Match]:
    """For each known hotspot (name → message ids), the reported hotspot that
    holds most of it, and whether that one counts as finding it."""
    matches = []
    for name, ids in sorted(known.items()):
        wanted = set(ids)
        best: tuple[float, float, int | None] = (0.0, 0.0, None)
        for hotspot in reported:
            shared = len(wanted & set(hotspot.ids))
            if not shared:
                continue
            recall, precision = shared / len(wanted), shared / len(hotspot.ids)
            if (recall, precision) > best[:2]:
                best = (recall, precision, hotspot.rank)
        recall, precision, rank = best
        found = rank if recall >= 0.5 and precision >= 0.5 else None
        matches.append(Match(name, len(wanted), found, round(recall, 3), round(precision, 3)))
    return matches
