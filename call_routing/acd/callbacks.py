"""Callbacks (预约回电): a waiting caller asks to be called back, leaves the live
queue and keeps their place as a callback; an agent offered it dials the citizen,
and a citizen not reached is tried again after a while, up to the policy's retries.

Invariant: a number has at most one pending callback (a second request merges into
it), and a callback keeps its place in the queue while it waits to be retried.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from call_routing.acd.core import (
    _CONNECTED,
    _DIALING,
    _RETRY,
    _RETRY_WAIT,
    _RINGING,
    AcdCore,
    _Entry,
)
from call_routing.acd.decisions import CallbackGaveUp, CallbackRequested, Decision
from call_routing.acd.errors import InvalidTransition, UnknownId


@dataclass(frozen=True)
class CallbackPolicy:
    """Callbacks (预约回电): after a citizen is not reached, retry after ``retry_s``,
    up to ``retries`` more attempts."""

    retries: int = 2
    retry_s: float = 300.0

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError(f"callback policy: retries must not be negative, not {self.retries}")
        if self.retry_s <= 0:
            raise ValueError(f"callback policy: retry_s must be positive, not {self.retry_s}")


@dataclass(frozen=True)
class CallbackState:
    """A pending callback as supervisors see it. ``where`` is waiting, ringing
    (an agent is offered it), dialing or retry_wait; ``attempts`` counts dials."""

    call_id: str
    group_id: str
    number: str
    attempts: int
    where: str
    retry_at: float | None


class Callbacks(AcdCore):
    """The callback part of :class:`~call_routing.acd.Acd`."""

    callback_policy: CallbackPolicy

    def callback(self, call_id: str) -> CallbackState | None:
        """The callback held as ``call_id``, or ``None`` when it is a live call."""
        entry = self._entry(call_id)
        if entry.live or entry.number is None:
            return None
        return CallbackState(
            call_id, entry.group.id, entry.number, entry.attempts, entry.where, entry.retry_at
        )

    def callback_for(self, number: str) -> str | None:
        """The pending callback (its call id) for ``number``, if any."""
        return self._callback_numbers.get(number)

    # ----- callbacks -----------------------------------------------------------

    def request_callback(self, call_id: str, number: str, now: float) -> CallbackRequested:
        """The waiting caller asked to be called back ("按1预约回电"): they leave
        the live queue but keep their place as a callback. If ``number`` already
        has a pending callback the request merges into it (``merged``) and this
        call leaves the ACD. A ringing offer is withdrawn."""
        self._advance(now)
        if not number:
            raise ValueError(f"call {call_id}: a callback needs a number")
        entry = self._waiting(call_id)
        if not entry.live:
            raise InvalidTransition(f"call {call_id} is a callback already")
        existing = self._callback_numbers.get(number)
        if existing is not None:
            self._leave(entry, now)
            group_id = self._calls[existing].group.id
            return CallbackRequested(existing, group_id, number, True, now)
        entry.live = False
        entry.number = number
        self._callback_numbers[number] = call_id
        if entry.where == _RINGING:
            self._withdraw(entry, now)
        return CallbackRequested(call_id, entry.group.id, number, False, now)

    def callback_reached(self, call_id: str, now: float) -> None:
        """The citizen answered the callback: a normal connected call from now on
        (report :meth:`call_ended` when it ends)."""
        self._advance(now)
        entry = self._dialing(call_id)
        entry.where = _CONNECTED
        self._drop_number(entry)

    def callback_unreached(self, call_id: str, now: float) -> list[Decision]:
        """The citizen did not answer: the agent is free at once (no wrap-up, not
        counted as a call), and the callback waits ``retry_s`` then takes its
        place again; after the last attempt, :class:`CallbackGaveUp`."""
        self._advance(now)
        entry = self._dialing(call_id)
        assert entry.agent_id is not None and entry.number is not None
        state = self.agent(entry.agent_id)
        state.cancel_call(now)
        self._sync(state)
        entry.agent_id = None
        if entry.attempts <= self.callback_policy.retries:
            entry.where = _RETRY_WAIT
            entry.retry_at = now + self.callback_policy.retry_s
            heapq.heappush(self._timers, (entry.retry_at, _RETRY, call_id))
            return []
        self._forget(entry)
        return [CallbackGaveUp(call_id, entry.group.id, entry.number, entry.attempts, now)]

    def callback_postponed(self, call_id: str, now: float, delay_s: float) -> None:
        """A callback offered to an agent cannot be dialled now (no line free): the
        offer is withdrawn (no fault of the agent's, who is available at once), and
        the callback takes its place again after ``delay_s`` without using up one of
        its attempts."""
        self._advance(now)
        entry = self._calls.get(call_id)
        if entry is None or entry.live or entry.where != _RINGING:
            raise UnknownId(f"callback {call_id} is not ringing any agent")
        self._withdraw(entry, now)
        self._queues[entry.group.id].remove(call_id)
        entry.where = _RETRY_WAIT
        entry.retry_at = now + max(delay_s, 0.001)
        heapq.heappush(self._timers, (entry.retry_at, _RETRY, call_id))

    def cancel_callback(self, call_id: str, now: float) -> None:
        """Drop a callback that is not being dialled (e.g. the citizen called again)."""
        self._advance(now)
        entry = self._entry(call_id)
        if entry.live:
            raise InvalidTransition(f"call {call_id} is no callback")
        if entry.where in (_CONNECTED, _DIALING):
            raise InvalidTransition(f"callback {call_id} is being dialled; wait for its result")
        self._leave(entry, now)

    # ----- inside: lookups -----------------------------------------------------

    def _dialing(self, call_id: str) -> _Entry:
        entry = self._calls.get(call_id)
        if entry is None or entry.where != _DIALING:
            raise UnknownId(f"call {call_id} is no callback being dialled")
        return entry
