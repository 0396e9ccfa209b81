"""What happened to the calls each seat group queued, for supervisors: service
level at 15 s today and in the last 30 minutes, abandonment, arrivals.  Pure
bookkeeping over wall-clock times; the hub feeds it as calls leave the queue, and
after a restart refills it from the durable events that recorded those outcomes
(:func:`entries_from_events`: answered, abandoned, callback; a voice message after
the longest wait and the arrivals are not in durable events and start afresh)."""

from __future__ import annotations

import collections
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from events import messages as m
from events.messages import Message


class Outcome(enum.StrEnum):
    ANSWERED = "answered"  # an agent picked up
    ABANDONED = "abandoned"  # the caller hung up while waiting
    CALLBACK = "callback"  # left with a callback that keeps the place
    MESSAGE = "message"  # left a voice message (overload, longest wait)


@dataclass(frozen=True)
class Entry:
    group: str
    at: datetime  # when the call left the queue
    outcome: Outcome
    waited_s: float


@dataclass(frozen=True)
class Summary:
    offered: int  # calls that left the queue in the period
    answered: int
    answered_within: int
    abandoned: int
    service_level: float | None  # answered within the target / offered; None: no calls
    asa_s: float | None  # average speed of answer
    abandon_rate: float | None


class QueueLog:
    """The recent outcomes per seat group (a day and a bit is kept)."""

    def __init__(self, keep: timedelta = timedelta(hours=26)) -> None:
        self.keep = keep
        self._entries: collections.deque[Entry] = collections.deque()
        self._arrivals: collections.deque[tuple[datetime, str]] = collections.deque()

    def arrived(self, group: str, at: datetime) -> None:
        self._arrivals.append((at, group))
        self._trim(at)

    def left(self, group: str, at: datetime, outcome: Outcome, waited_s: float) -> None:
        self._entries.append(Entry(group, at, outcome, max(0.0, waited_s)))
        self._trim(at)

    def restore(self, entries: Iterable[Entry]) -> int:
        """Outcomes recorded before a restart (oldest first), ahead of the ones seen
        since; returns how many were kept."""
        earlier = [e for e in entries if not self._entries or e.at <= self._entries[0].at]
        self._entries.extendleft(reversed(earlier))
        if self._entries:
            self._trim(max(e.at for e in self._entries))
        return len(earlier)

    def arrivals(self, group: str, since: datetime) -> int:
        return sum(1 for at, g in self._arrivals if g == group and at >= since)

    def summary(self, group: str, since: datetime, answer_within_s: float = 15.0) -> Summary:
        entries = [e for e in self._entries if e.group == group and e.at >= since]
        answered = [e for e in entries if e.outcome is Outcome.ANSWERED]
        within = sum(1 for e in answered if e.waited_s <= answer_within_s)
        abandoned = sum(1 for e in entries if e.outcome is Outcome.ABANDONED)
        offered = len(entries)
        return Summary(
            offered=offered,
            answered=len(answered),
            answered_within=within,
            abandoned=abandoned,
            service_level=round(within / offered, 4) if offered else None,
            asa_s=round(sum(e.waited_s for e in answered) / len(answered), 1) if answered else None,
            abandon_rate=round(abandoned / offered, 4) if offered else None,
        )

    def _trim(self, now: datetime) -> None:
        cutoff = now - self.keep
        while self._entries and self._entries[0].at < cutoff:
            self._entries.popleft()
        while self._arrivals and self._arrivals[0][0] < cutoff:
            self._arrivals.popleft()


# The durable events that record a call leaving a queue, and how.
OUTCOME_EVENTS = {
    m.CALL_CONNECTED: Outcome.ANSWERED,
    m.CALL_ABANDONED: Outcome.ABANDONED,
    m.CALLBACK_REQUESTED: Outcome.CALLBACK,
}


def entries_from_events(events: Iterable[tuple[datetime, Message]]) -> list[Entry]:
    """Queue outcomes from stored ``(when, message)`` events, oldest first; events
    of other types or without a group are skipped."""
    entries = []
    for at, message in events:
        outcome = OUTCOME_EVENTS.get(message.type)
        group = message.data.get("group")
        waited = message.data.get("waited_s")
        if outcome is None or not isinstance(group, str) or not group:
            continue
        waited_s = float(waited) if isinstance(waited, int | float) else 0.0
        entries.append(Entry(group, at, outcome, max(0.0, waited_s)))
    entries.sort(key=lambda e: e.at)
    return entries
