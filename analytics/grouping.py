"""Requests about the same problem at the same place, grouped.

Each pair of requests gets a score.  Two that name the same specific place (an
estate, a school, a road) score how alike their problems read — the cosine of
their texts with the places cut out, so that a broken lift and a noisy building
site at one estate stay apart — plus a bonus for the place.  Two that name
different specific places score how alike their whole texts read less a
penalty, and so do two that name different districts; the rest score how alike
their whole texts read.  Scores fade when requests lie far apart in time.
Groups are merged along the best-scoring pairs first (average linkage over the
pairs' graph): two groups join only when their members' scores average above a
floor, so a chain of look-alikes cannot pull two unrelated problems together.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from analytics.places import Places, same_place, without_places
from analytics.requests import Request
from analytics.similarity import pair_cosines, similar_pairs, text_vectors


@dataclass(frozen=True)
class GroupingOptions:
    text_floor: float = 0.15  # pairs whose whole texts read less alike are never linked
    place_bonus: float = 0.35  # the same specific place named by both
    kind_bonus: float = 0.15  # … and the same kind of problem (category), all of it
    other_place: float = 0.2  # both name specific places, none the same
    other_area: float = 0.1  # both name districts or counties, none the same
    link: float = 0.45  # a pair's score that starts or extends a group
    average: float = 0.3  # the average score two groups must have to merge
    days: float = 90.0  # within this many days apart time costs nothing
    duplicate: float = 0.9  # cosine at which two texts are one person's copies


def pair_score(
    text: float,
    problem: float,
    kind: float,
    a: Places,
    b: Places,
    gap_days: float,
    options: GroupingOptions,
) -> float:
    """``text``: the cosine of the whole texts; ``problem``: with the places cut
    out; ``kind``: how alike their categories are (0 to 1)."""
    if same_place(a, b):
        score = problem + options.place_bonus + options.kind_bonus * kind
    else:
        score = text
        if a.specific and b.specific:
            score -= options.other_place
    if a.areas and b.areas and not set(a.areas) & set(b.areas):
        score -= options.other_area
    if gap_days > options.days:
        score *= math.exp(-(gap_days - options.days) / options.days)
    return score


@dataclass
class Grouping:
    groups: list[list[int]]  # indexes into the requests, each group oldest first
    copies: list[tuple[int, int]]  # pairs of near-identical texts (one person's copies)
    scores: dict[tuple[int, int], float]  # linked pairs, i < j


Kinds = Sequence[Mapping[str, float]]
"""Per request, its category's probabilities (a known category: itself, 1.0)."""


def group_requests(
    requests: Sequence[Request],
    places: Sequence[Places],
    options: GroupingOptions,
    kinds: Kinds | None = None,
) -> Grouping:
    whole = text_vectors([r.document for r in requests], [r.title for r in requests])
    documents = [without_places(r.document, p) for r, p in zip(requests, places, strict=True)]
    titles = [without_places(r.title, p) for r, p in zip(requests, places, strict=True)]
    problems = text_vectors(documents, titles)
    pairs = similar_pairs(whole, options.text_floor) if requests else []
    pairs += _same_place_pairs(requests, places, {(i, j) for i, j, _ in pairs}, whole, options)
    problem_scores = pair_cosines(problems, [(i, j) for i, j, _ in pairs])
    scores: dict[tuple[int, int], float] = {}
    neighbours: dict[int, dict[int, float]] = defaultdict(dict)
    copies = []
    for (i, j, cosine), problem in zip(pairs, problem_scores, strict=True):
        if cosine >= options.duplicate:
            copies.append((i, j))
        gap = abs((requests[i].at - requests[j].at).total_seconds()) / 86400
        kind = kind_similarity(kinds[i], kinds[j]) if kinds else 0.0
        score = pair_score(cosine, problem, kind, places[i], places[j], gap, options)
        if score > 0:
            scores[(i, j)] = score
            neighbours[i][j] = score
            neighbours[j][i] = score
    parent = list(range(len(requests)))
    members: dict[int, list[int]] = {i: [i] for i in range(len(requests))}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for (i, j), score in sorted(scores.items(), key=lambda item: (-item[1], item[0])):
        if score < options.link:
            break
        a, b = root(i), root(j)
        if a == b:
            continue
        small, large = (a, b) if len(members[a]) <= len(members[b]) else (b, a)
        linked = sum(
            weight
            for member in members[small]
            for other, weight in neighbours[member].items()
            if root(other) == large
        )
        if linked / (len(members[small]) * len(members[large])) < options.average:
            continue
        parent[small] = large
        members[large].extend(members.pop(small))
    groups = [sorted(group, key=lambda k: (requests[k].at, k)) for group in members.values()]
    groups.sort(key=lambda g: (requests[g[0]].at, g[0]))
    return Grouping(groups, copies, scores)


def kind_similarity(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """The cosine of two categories' probabilities: 1 for one sure category, near
    0 for two different ones."""
    dot = sum(p * b.get(label, 0.0) for label, p in a.items())
    norms = math.sqrt(sum(p * p for p in a.values())) * math.sqrt(sum(p * p for p in b.values()))
    return dot / norms if norms else 0.0


def _same_place_pairs(
    requests: Sequence[Request],
    places: Sequence[Places],
    known: set[tuple[int, int]],
    whole,  # noqa: ANN001 (the texts' vectors)
    options: GroupingOptions,
) -> list[tuple[int, int, float]]:
    """The pairs that name one specific place within ``3 × days`` of each other and
    read too little alike to be found by their texts (a problem told in other words)."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for k, found in enumerate(places):
        for key in found.specific:
            by_key[key].append(k)
    extra: set[tuple[int, int]] = set()
    span = 3 * options.days * 86400
    for members in by_key.values():
        members.sort(key=lambda k: requests[k].at)
        for a, i in enumerate(members):
            for j in members[a + 1 :]:
                if (requests[j].at - requests[i].at).total_seconds() > span:
                    break
                pair = (min(i, j), max(i, j))
                if pair not in known:
                    extra.add(pair)
    ordered = sorted(extra)
    return [(i, j, c) for (i, j), c in zip(ordered, pair_cosines(whole, ordered), strict=True)]
