"""The node's tickets as the hotspot finder reads them (for ``hotline hotspots
list`` and the 数据分析 console), and the console's hotspots of the last days,
worked out at most once every few minutes (grouping a city's month of tickets
takes seconds)."""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from analytics.requests import Request, ticket_request

MAX_TICKETS = 50_000  # a month of a large city's tickets


def ticket_requests(store: Any, now: datetime, days: int) -> list[Request]:
    """The tickets created in the ``days`` before ``now``, oldest first."""
    from tickets.store import TicketQuery

    query = TicketQuery(
        created_from=now - timedelta(days=days), created_before=now, limit=MAX_TICKETS
    )
    found = [ticket_request(t) for t in store.find(query)]
    found.reverse()
    return found


@dataclass(frozen=True)
class HotspotView:
    """What the console shows: the hotspots and the bursts among them."""

    now: datetime
    days: int
    tickets: int
    hotspots: list[Any]  # analytics.hotspots.Hotspot, hottest first
    emerging: list[Any]  # analytics.bursts.Emerging, most surprising first


class HotspotCache:
    """The hotspots of the last N days, kept ``keep_s`` seconds (blocking: call it
    on a thread); problems without a category are told by the node's domain model
    (``routing.model``), loaded on first use."""

    def __init__(self, model: Path | None, keep_s: float = 300.0) -> None:
        self.model = model
        self.keep_s = keep_s
        self._lock = threading.Lock()
        self._views: dict[int, tuple[float, HotspotView]] = {}

    @functools.cached_property
    def _domain(self) -> Any:
        from call_routing.nlu_model import load

        return load(self.model).domain

    def classify(self, titles: list[str]) -> list[Any]:
        return [p.scores for p in self._domain.predict_all(titles)]

    def view(self, store: Any, now: datetime, days: int, bursts: Any = None) -> HotspotView:
        from analytics.bursts import emerging
        from analytics.hotspots import find_hotspots

        with self._lock:
            kept = self._views.get(days)
            if kept is not None and time.monotonic() - kept[0] < self.keep_s:
                return kept[1]
            requests = ticket_requests(store, now, days)
            hotspots = find_hotspots(requests, now, classify=self.classify)
            view = HotspotView(
                now, days, len(requests), hotspots, emerging(hotspots, requests, now, bursts)
            )
            self._views[days] = (time.monotonic(), view)
            return view
