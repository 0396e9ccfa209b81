"""The node's tickets as the hotspot finder reads them (for ``hotline hotspots
list``, the 数据分析 console and the hub's burst watch)."""

from __future__ import annotations

from datetime import datetime, timedelta
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
