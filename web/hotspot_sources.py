"""The node's tickets as the hotspot finder reads them (for ``hotline hotspots
list``, the 数据分析 console and the hub's burst watch)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from analytics.requests import Request

MAX_TICKETS = 50_000  # a month of a large city's tickets


def ticket_request(ticket: Any) -> Request:
    """One ticket as a request: its summary as the title, the caller's number as
    who asked (a repeat caller counts once), its address as the place."""
    content = ticket.content or ticket.transcript
    return Request(
        id=ticket.number,
        at=ticket.created_at,
        title=ticket.summary or content[:40],
        text=content,
        person=ticket.caller_number,
        place_hint=ticket.address,
        category=ticket.category_path or ticket.domain,
        department=ticket.lead_department,
    )


def ticket_requests(store: Any, now: datetime, days: int) -> list[Request]:
    """The tickets created in the ``days`` before ``now``, oldest first."""
    from tickets.store import TicketQuery

    query = TicketQuery(
        created_from=now - timedelta(days=days), created_before=now, limit=MAX_TICKETS
    )
    found = [ticket_request(t) for t in store.find(query)]
    found.reverse()
    return found
