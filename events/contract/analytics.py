"""Across tickets: hotspots (热点问题) that flare up."""

from __future__ import annotations

from events import messages as m
from events import topics
from events.contract.common import TICKET_NUMBER
from events.contract.model import Delivery, EventSpec
from events.contract.model import field as _f

EVENTS: tuple[EventSpec, ...] = (
    EventSpec(
        m.HOTSPOT_EMERGING,
        (topics.hotspot_event(m.HOTSPOT_EMERGING),),
        "hub",
        Delivery.DURABLE,
        "A hotspot is flaring up: the requests about one problem at one place in the "
        "last hours are far more than its own past predicts (a Poisson chart, "
        "`analytics/bursts.py`). Published once per burst (`key`), when the hub's "
        "hotspot watch first sees it. Ticket numbers only: no citizen's data.",
        (
            _f("key", "string", "the burst: its place and first recent ticket (stable)"),
            _f("title", "string", "the hotspot's title: place and problem"),
            _f("place", "string", "the specific place (or district) its tickets name"),
            _f("recent", "integer", "tickets in the window"),
            _f("expected", "number", "what the hotspot's past predicts for the window"),
            _f("surprise", "number", "the chance of that many or more by chance"),
            _f("window_hours", "number", "the window"),
            _f("requests", "integer", "tickets of the hotspot in the watched days"),
            _f("people", "integer", "distinct callers among them"),
            _f("heat", "number", "the hotspot's heat index"),
            _f("tickets", "array", "the ticket numbers of the window, oldest first"),
            _f("categories", "array", "{name, requests}, most frequent first"),
            _f("departments", "array", "{name, requests}, most frequent first"),
            _f("at", "string", "when the watch saw it (ISO 8601, UTC)"),
        ),
        {
            "key": f"金桂园|{TICKET_NUMBER}",
            "title": "金桂园小区旁工地夜间施工噪音扰民",
            "place": "金桂园",
            "recent": 6,
            "expected": 0.1,
            "surprise": 1.4e-9,
            "window_hours": 48,
            "requests": 9,
            "people": 8,
            "heat": 41.1,
            "tickets": [TICKET_NUMBER],
            "categories": [{"name": "环境保护", "requests": 9}],
            "departments": [{"name": "区生态环境局", "requests": 7}],
            "at": "2026-11-20T02:00:00+00:00",
        },
    ),
)
