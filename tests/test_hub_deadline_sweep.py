"""The hub's deadline sweep runs at once, then every interval, survives a failing
store and stops when told."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from ivr.hub.deadline_sweep import sweep_deadlines
from tickets.sweep import SweepReport


class FlakyStore:
    def __init__(self) -> None:
        self.calls: list[datetime] = []

    def sweep(self, now: datetime) -> SweepReport:
        self.calls.append(now)
        if len(self.calls) == 2:
            raise OSError("database is locked")
        return SweepReport(overdue=["GD12345-20261207-000001"])


async def test_the_sweep_repeats_and_a_failure_does_not_stop_it() -> None:
    store, stop = FlakyStore(), asyncio.Event()
    moment = datetime(2026, 12, 7, tzinfo=UTC)
    task = asyncio.create_task(sweep_deadlines(store, 0.05, stop, clock=lambda: moment))
    while len(store.calls) < 4:
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 2)
    assert store.calls[0] == moment and len(store.calls) >= 4
