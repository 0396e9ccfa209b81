"""Requests about the same problem at the same place, grouped.

Each pair of requests gets a score: how alike they read (cosine of their text
vectors), plus a bonus when they name the same specific place (an estate, a
school, a road), less a penalty when they name different districts or
different specific places, all scaled down when they lie far apart in time.
Groups are merged along the best-scoring pairs first (average linkage over the
pairs' graph): two groups join only when their members' scores average above a
floor, so a chain of look-alikes cannot pull two unrelated problems together.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from analytics.places import Places, same_place
from analytics.requests import Request
from analytics.similarity import similar_pairs, text_vectors


@dataclass(frozen=True)
class GroupingOptions:
    text_floor: float = 0.2  # pairs that read less alike than this are never linked
    place_bonus: float = 0.25  # the same specific place named by both
    other_place: float = 0.1  # both name specific places, none the same
    other_area: float = 0.1  # both name districts or counties, none the same
    link: float = 0.45  # a pair's score that starts or extends a group
    average: float = 0.3  # the average score two groups must have to merge
    days: float = 90.0  # within this many days apart time costs nothing
    duplicate: float = 0.9  # cosine at which two texts are one person's copies


def pair_score(
    cosine: float, a: Places, b: Places, gap_days: float, options: GroupingOptions
) -> float:
    score = cosine
    if same_place(a, b):
        score += options.place_bonus
    elif a.specific and b.specific:
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


def group_requests(
    requests: Sequence[Request], places: Sequence[Places], options: GroupingOptions
) -> Grouping:
    vectors = text_vectors([r.document for r in requests], [r.title for r in requests])
    scores: dict[tuple[int, int], float] = {}
    neighbours: dict[int, dict[int, float]] = defaultdict(dict)
    copies = []
    for i, j, cosine in similar_pairs(vectors, options.text_floor) if requests else []:
        if cosine >= options.duplicate:
            copies.append((i, j))
        gap = abs((requests[i].at - requests[j].at).total_seconds()) / 86400
        score = pair_score(cosine, places[i], places[j], gap, options)
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
