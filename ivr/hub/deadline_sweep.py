"""The hub's deadline sweep: every ``tickets.sweep_every_s`` the ticket store marks
due-soon and overdue tickets, sends 催办 and 督办 and escalates
(:meth:`tickets.store.TicketStore.sweep`); each step is an outbox event, so the
consoles and other systems hear of it.  A failed sweep is logged and tried again
next time: the calls go on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ivr.node.logs import fields

log = logging.getLogger("hub.sweep")


async def sweep_deadlines(
    store: Any,
    every_s: float,
    stop: asyncio.Event,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Sweep at once, then every ``every_s`` seconds until ``stop`` is set."""
    while not stop.is_set():
        try:
            report = await asyncio.to_thread(store.sweep, clock())
        except Exception as exc:  # a database outage: try again next round
            log.warning("deadline sweep failed: %s", exc)
        else:
            if report.changed:
                log.info(
                    "deadline sweep",
                    extra=fields(
                        due_soon=len(report.due_soon),
                        overdue=len(report.overdue),
                        escalated=len(report.escalated),
                        urged=len(report.urged),
                    ),
                )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)
