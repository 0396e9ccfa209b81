"""热点问题: the problems many citizens raise about one place, found across
requests, with how hot each is and how it is trending.

A hotspot is a group of at least ``min_requests`` requests (see
:mod:`analytics.grouping`).  People are counted once however often they asked:
by who asked where that is known (a caller's number, a board user), else by
text — near-identical messages are taken as one person's copies.

Heat (热度) combines, on logarithmic scales so that no one figure swamps the
rest: distinct people (weight 10), requests (5), 点赞 and 反对 of web messages
(2; a 反对 counts half), and growth — the last seven days' requests against the
seven days before (5 × the relative growth, at most 2, and only when growing).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from analytics.grouping import GroupingOptions, group_requests
from analytics.places import Places, places_in
from analytics.requests import Request
from analytics.titles import hotspot_title

GROWTH_DAYS = 7


@dataclass(frozen=True)
class HotspotOptions:
    min_requests: int = 2
    grouping: GroupingOptions = field(default_factory=GroupingOptions)


@dataclass(frozen=True)
class Hotspot:
    rank: int
    title: str
    place: str  # the specific place (or district) most of its requests name
    start: datetime
    end: datetime
    heat: float
    requests: int
    people: int
    growth: float | None  # last 7 days against the 7 before; None: none before
    likes: int
    dislikes: int
    categories: tuple[tuple[str, int], ...]  # most frequent first
    departments: tuple[tuple[str, int], ...]
    trend: tuple[tuple[date, int], ...]  # requests per day, first to last day
    ids: tuple[str, ...]  # oldest first

    def as_json(self) -> dict:
        return {
            "rank": self.rank,
            "title": self.title,
            "place": self.place,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "heat": self.heat,
            "requests": self.requests,
            "people": self.people,
            "growth": self.growth,
            "likes": self.likes,
            "dislikes": self.dislikes,
            "categories": [{"name": n, "requests": c} for n, c in self.categories],
            "departments": [{"name": n, "requests": c} for n, c in self.departments],
            "trend": [{"day": d.isoformat(), "requests": c} for d, c in self.trend],
            "ids": list(self.ids),
        }


Classify = Callable[[list[str]], list[Mapping[str, float]]]
"""Titles → each one's category probabilities (the understanding's domain model)."""


def find_hotspots(
    requests: Sequence[Request],
    now: datetime | None = None,
    options: HotspotOptions | None = None,
    classify: Classify | None = None,
) -> list[Hotspot]:
    """The hotspots among ``requests``, hottest first.  ``now`` is where growth is
    measured back from (default: the newest request).  ``classify`` tells the
    kind of problem of requests that carry no category."""
    options = options or HotspotOptions()
    if not requests:
        return []
    places = [places_in(r.title, r.text, r.place_hint) for r in requests]
    grouping = group_requests(requests, places, options.grouping, _kinds(requests, classify))
    copies = _Copies(len(requests), grouping.copies)
    moment = now or max(r.at for r in requests)
    found = []
    for group in grouping.groups:
        if len(group) < options.min_requests:
            continue
        found.append(_hotspot(requests, places, group, grouping.scores, copies, moment))
    found.sort(key=lambda h: (-h.heat, -h.requests, h.start, h.ids[0]))
    return [_ranked(h, rank) for rank, h in enumerate(found, 1)]


def heat_index(
    people: int, requests: int, likes: int, dislikes: int, growth: float | None
) -> float:
    rising = min(2.0, growth) if growth is not None and growth > 0 else 0.0
    value = (
        10 * math.log1p(people)
        + 5 * math.log1p(requests)
        + 2 * math.log1p(likes + dislikes / 2)
        + 5 * rising
    )
    return round(value, 2)


def growth_rate(times: Sequence[datetime], now: datetime) -> float | None:
    """(last 7 days − the 7 before) ÷ the 7 before; None when the 7 before had none."""
    recent = sum(1 for t in times if now - timedelta(days=GROWTH_DAYS) < t <= now)
    before = sum(
        1
        for t in times
        if now - timedelta(days=2 * GROWTH_DAYS) < t <= now - timedelta(days=GROWTH_DAYS)
    )
    if before == 0:
        return None
    return round((recent - before) / before, 3)


def daily_trend(times: Sequence[datetime]) -> tuple[tuple[date, int], ...]:
    counts = Counter(t.date() for t in times)
    first, last = min(counts), max(counts)
    days = (last - first).days
    return tuple(
        (first + timedelta(days=k), counts.get(first + timedelta(days=k), 0))
        for k in range(days + 1)
    )


class _Copies:
    """Union of near-identical texts: the requests that are one person's copies."""

    def __init__(self, n: int, pairs: Sequence[tuple[int, int]]) -> None:
        self.parent = list(range(n))
        for i, j in pairs:
            self.parent[self.root(i)] = self.root(j)

    def root(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i


def _people(requests: Sequence[Request], group: Sequence[int], copies: _Copies) -> int:
    known = {requests[k].person for k in group if requests[k].person}
    unknown = {copies.root(k) for k in group if not requests[k].person}
    return len(known) + len(unknown)


def _hotspot(
    requests: Sequence[Request],
    places: Sequence[Places],
    group: list[int],
    scores: dict[tuple[int, int], float],
    copies: _Copies,
    now: datetime,
) -> Hotspot:
    members = [requests[k] for k in group]
    times = [r.at for r in members]
    people = _people(requests, group, copies)
    growth = growth_rate(times, now)
    likes = sum(r.likes for r in members)
    dislikes = sum(r.dislikes for r in members)
    place, shared = _main_place([places[k] for k in group])
    central = _medoid(group, scores)
    return Hotspot(
        rank=0,
        title=hotspot_title(requests[central].title, place if shared else ""),
        place=place,
        start=min(times),
        end=max(times),
        heat=heat_index(people, len(members), likes, dislikes, growth),
        requests=len(members),
        people=people,
        growth=growth,
        likes=likes,
        dislikes=dislikes,
        categories=_counted(r.category for r in members),
        departments=_counted(r.department for r in members),
        trend=daily_trend(times),
        ids=tuple(r.id for r in members),
    )


def _main_place(places: Sequence[Places]) -> tuple[str, bool]:
    """The specific place most requests name (a key counts for every key inside
    it: 麓山翰林苑 for 西二环临近麓山翰林苑), else the district most name; and
    whether at least half of the requests name it."""
    keys = {key for p in places for key in p.specific}
    specific = Counter(
        key for key in keys for p in places if any(key in other for other in p.specific)
    )
    if specific:
        key = _most_common(specific)
        return key, 2 * specific[key] >= len(places)
    areas = Counter(p.areas[-1] for p in places if p.areas)
    if not areas:
        return "", False
    key = _most_common(areas)
    return key, 2 * areas[key] >= len(places)


def _most_common(counts: Counter) -> str:
    """The most frequent key; a tie goes to the longer (more precise) one."""
    return max(counts.items(), key=lambda item: (item[1], len(item[0]), item[0]))[0]


def _medoid(group: Sequence[int], scores: dict[tuple[int, int], float]) -> int:
    """The member whose scores with the others add up highest (the first on a tie)."""
    members = set(group)
    totals = dict.fromkeys(group, 0.0)
    for (i, j), score in scores.items():
        if i in members and j in members:
            totals[i] += score
            totals[j] += score
    return max(group, key=lambda k: (totals[k], -group.index(k)))


def _counted(values) -> tuple[tuple[str, int], ...]:  # noqa: ANN001
    counts = Counter(v for v in values if v)
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _ranked(hotspot: Hotspot, rank: int) -> Hotspot:
    from dataclasses import replace

    return replace(hotspot, rank=rank)


def _kinds(requests: Sequence[Request], classify: Classify | None) -> list[Mapping[str, float]]:
    """Each request's category (its first level) as probabilities: a known one is
    sure; the others are asked of ``classify``, or unknown (empty)."""
    kinds: list[Mapping[str, float]] = [
        {r.category.split("/")[0]: 1.0} if r.category else {} for r in requests
    ]
    unknown = [k for k, r in enumerate(requests) if not r.category]
    if classify is not None and unknown:
        for k, probabilities in zip(
            unknown, classify([requests[k].title for k in unknown]), strict=True
        ):
            kinds[k] = probabilities
    return kinds
