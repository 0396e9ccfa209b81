"""The hub's hotspot watch: every ``analytics.hotspot_every_s`` the tickets of the
last ``analytics.hotspot_days`` days are grouped into hotspots
(:mod:`analytics.hotspots`) and each one flaring up (:mod:`analytics.bursts`) is
published once as a durable ``hotspot.emerging`` event; the supervisors' pages
show it.  Bursts already published are read back from the outbox at start, so a
restart does not announce them again.  The grouping runs on a thread, the first
time one period after the hub starts; a failed look is logged and tried again
next time: the calls go on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from analytics.bursts import BurstOptions, Emerging, emerging
from analytics.hotspots import Classify, Hotspot, find_hotspots
from analytics.requests import ticket_request
from events import messages as m
from events import topics
from events.messages import Message
from ivr.node.logs import fields
from sip_config.analytics_settings import AnalyticsSection

log = logging.getLogger("hub.hotspots")

Publish = Callable[[str, Message], Awaitable[Any]]


class HotspotWatch:
    """What the watch has seen: the bursts published, and the last look's hotspots
    (for the consoles)."""

    def __init__(
        self,
        store: Any,
        settings: AnalyticsSection,
        node: str,
        classify: Classify | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.node = node
        self.classify = classify
        self.published: dict[str, datetime] = {}  # burst key → when published
        self.hotspots: list[Hotspot] = []
        self.emerging: list[Emerging] = []
        self.looked_at: datetime | None = None

    @property
    def options(self) -> BurstOptions:
        return BurstOptions(
            window_hours=self.settings.burst_window_hours,
            min_requests=self.settings.burst_min_requests,
            alpha=self.settings.burst_alpha,
        )

    def remember(self, outbox: Any, now: datetime) -> int:
        """The bursts published within the window before ``now`` (from the outbox)."""
        since = now - timedelta(hours=2 * self.settings.burst_window_hours)
        for row in outbox.since(since, (m.HOTSPOT_EMERGING,)):
            key = row.message.data.get("key")
            if isinstance(key, str):
                self.published[key] = row.created_at
        return len(self.published)

    def look(self, now: datetime) -> list[Emerging]:
        """Group the recent tickets; the bursts not published yet (blocking: run it
        on a thread)."""
        from tickets.store import TicketQuery

        since = now - timedelta(days=self.settings.hotspot_days)
        query = TicketQuery(created_from=since, created_before=now, limit=50_000)
        requests = [ticket_request(t) for t in reversed(self.store.find(query))]
        self.hotspots = find_hotspots(requests, now, classify=self.classify)
        self.emerging = emerging(self.hotspots, requests, now, self.options)
        self.looked_at = now
        forget = now - timedelta(hours=2 * self.settings.burst_window_hours)
        self.published = {k: at for k, at in self.published.items() if at >= forget}
        return [e for e in self.emerging if e.key not in self.published]

    def message(self, burst: Emerging, now: datetime) -> Message:
        hotspot = burst.hotspot
        return Message(
            m.HOTSPOT_EMERGING,
            {
                "key": burst.key,
                "title": hotspot.title,
                "place": hotspot.place,
                "recent": burst.recent,
                "expected": round(burst.expected, 3),
                "surprise": burst.surprise,
                "window_hours": self.settings.burst_window_hours,
                "requests": hotspot.requests,
                "people": hotspot.people,
                "heat": hotspot.heat,
                "tickets": list(burst.recent_ids),
                "categories": [{"name": n, "requests": c} for n, c in hotspot.categories],
                "departments": [{"name": n, "requests": c} for n, c in hotspot.departments],
                "at": now.isoformat(),
            },
            node=self.node,
        )


async def watch_hotspots(
    watch: HotspotWatch,
    publish: Publish,
    stop: asyncio.Event,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    first_after_s: float | None = None,
) -> None:
    """Look every ``hotspot_every_s`` seconds until ``stop`` is set; the first look
    waits as long too (``first_after_s`` to choose), so a hub that starts while
    calls come in spends nothing on it before it has settled."""
    first = watch.settings.hotspot_every_s if first_after_s is None else first_after_s
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), first)
    while not stop.is_set():
        now = clock()
        try:
            new = await asyncio.to_thread(watch.look, now)
        except Exception as exc:  # a database outage, a model error: try again next round
            log.warning("hotspot watch failed: %s", exc)
        else:
            for burst in new:
                await publish(topics.hotspot_event(m.HOTSPOT_EMERGING), watch.message(burst, now))
                watch.published[burst.key] = now
                log.info(
                    "hotspot emerging",
                    extra=fields(key=burst.key, recent=burst.recent, title=burst.hotspot.title),
                )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), watch.settings.hotspot_every_s)
