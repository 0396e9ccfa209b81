"""热点 that flare up: a hotspot whose requests of the last two days are far more
than its own past would lead one to expect.

A Poisson control chart per hotspot: the expected count in the window is the
hotspot's rate over the ``baseline_days`` before the window (at least
``floor_per_day``, so that a problem nobody raised before is not infinitely
surprising), and the hotspot is *emerging* when the window holds at least
``min_requests`` and the chance of that many or more by chance is below
``alpha`` — five requests about one estate's water within 48 hours, where it
used to get one a month.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from analytics.hotspots import Hotspot
from analytics.requests import Request


@dataclass(frozen=True)
class BurstOptions:
    window_hours: float = 48.0
    baseline_days: float = 28.0
    min_requests: int = 5
    alpha: float = 0.001
    floor_per_day: float = 0.05  # one request in twenty days: a quiet place's rate


@dataclass(frozen=True)
class Emerging:
    hotspot: Hotspot
    recent: int  # requests in the window
    expected: float  # what the baseline predicts for the window
    surprise: float  # P(that many or more | expected)
    recent_ids: tuple[str, ...]

    @property
    def key(self) -> str:
        """Stays the same while the burst goes on: its place and first recent request."""
        return f"{self.hotspot.place}|{self.recent_ids[0]}"

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "title": self.hotspot.title,
            "place": self.hotspot.place,
            "recent": self.recent,
            "expected": round(self.expected, 3),
            "surprise": self.surprise,
            "requests": self.hotspot.requests,
            "people": self.hotspot.people,
            "recent_ids": list(self.recent_ids),
        }


def poisson_tail(count: int, expected: float) -> float:
    """P(X ≥ count) for X ~ Poisson(expected)."""
    if count <= 0:
        return 1.0
    term = math.exp(-expected)
    below = term
    for k in range(1, count):
        term *= expected / k
        below += term
    return max(0.0, 1.0 - below)


def emerging(
    hotspots: Sequence[Hotspot],
    requests: Sequence[Request],
    now: datetime,
    options: BurstOptions | None = None,
) -> list[Emerging]:
    """The hotspots flaring up at ``now`` (most surprising first)."""
    options = options or BurstOptions()
    at = {r.id: r.at for r in requests}
    window_start = now - timedelta(hours=options.window_hours)
    baseline_start = window_start - timedelta(days=options.baseline_days)
    found = []
    for hotspot in hotspots:
        times = [(at[i], i) for i in hotspot.ids if i in at]
        recent = sorted((t, i) for t, i in times if window_start < t <= now)
        if len(recent) < options.min_requests:
            continue
        before = sum(1 for t, _ in times if baseline_start < t <= window_start)
        per_day = max(options.floor_per_day, before / options.baseline_days)
        expected = per_day * options.window_hours / 24
        surprise = poisson_tail(len(recent), expected)
        if surprise < options.alpha:
            ids = tuple(i for _, i in recent)
            found.append(Emerging(hotspot, len(recent), expected, surprise, ids))
    found.sort(key=lambda e: (e.surprise, -e.recent, e.key))
    return found
