"""The base of :class:`~call_routing.acd.Acd`: what it keeps about each call (where
it is, its needs, its timers), its state, the lookups every part uses, and the
moves that keep its indexes in line: free agents in per-group, per-skill-level
pools, waiting calls in per-group buckets by their needs, timers in one heap,
the last two with lazy invalidation.

Invariant: after every move of an agent or a call the indexes agree with it: an
agent is in its pools exactly while available, and a waiting call is in its
buckets at its current epoch (stale entries are dropped when they reach the top).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass

from call_routing.acd.agents import AgentState, AgentStatus, OfferPolicy
from call_routing.acd.errors import TimeWentBack, UnknownId
from call_routing.acd.pools import AgentPool
from call_routing.acd.queues import CallQueue, QueuedCall, SeatGroup

# Timer kinds, in the order timers due at the same instant fire.
_RING, _WRAP_UP, _MAX_WAIT, _WIDEN, _BACKUP, _RETRY = range(6)

# Where a call is.
_WAITING = "waiting"  # in its queue, no agent ringing
_RINGING = "ringing"  # in its queue, an agent's phone rings with it
_CONNECTED = "connected"  # talking to an agent
_DIALING = "dialing"  # a callback: the agent answered, the citizen is being dialled
_RETRY_WAIT = "retry_wait"  # a callback whose citizen did not answer, waiting to retry

# A call holding its place: widening and backup timers apply (a callback being
# dialled may come back to its place if the citizen does not answer).
_HOLDS_PLACE = frozenset({_WAITING, _RINGING, _DIALING, _RETRY_WAIT})

_LEVELS = 6  # pools per group: skill level 0 (none) to 5


@dataclass(eq=False)
class _Entry:
    """A call the ACD holds, wherever it is."""

    call: QueuedCall
    group: SeatGroup
    extras: Mapping[str, int]  # the call's own needs, beyond its group's
    needs: dict[str, int]  # what an agent of its own group needs now
    own_key: tuple[tuple[str, int], ...]
    extras_key: tuple[tuple[str, int], ...]
    where: str = _WAITING
    live: bool = True  # False once it is a callback
    widened: bool = False
    backup: bool = False
    epoch: int = 0  # bumped whenever it is (re)bucketed, to spot stale heap entries
    agent_id: str | None = None
    ring_until: float | None = None
    number: str | None = None
    attempts: int = 0
    retry_at: float | None = None

    @property
    def call_id(self) -> str:
        return self.call.call_id


def _key(needs: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(needs.items()))


class AcdCore:
    """The state of an :class:`~call_routing.acd.Acd` (set up by its constructor),
    its lookups, and the moves of agents and calls that keep the indexes in line."""

    offer_policy: OfferPolicy
    _queues: dict[str, CallQueue]
    _backed_by: dict[str, list[str]]  # group → the groups it backs up
    _pools: dict[str, list[AgentPool]]  # group → free agents by skill level
    _logged_in: dict[str, list[int]]  # group → logged-in agents by skill level
    _own_buckets: dict[str, dict[tuple, list]]
    _backup_buckets: dict[str, dict[tuple, list]]
    _open: dict[str, bool]
    _backup_now: set[str]
    _agents: dict[str, AgentState]
    _levels: dict[str, tuple[tuple[str, int], ...]]
    _calls: dict[str, _Entry]
    _callback_numbers: dict[str, str]
    _timers: list[tuple[float, int, str]]
    _dirty_calls: set[str]
    _dirty_agents: set[str]
    _last_agent: dict[str, str]
    _seq: int
    _now: float

    # ----- queries -------------------------------------------------------------

    def agent(self, agent_id: str) -> AgentState:
        try:
            return self._agents[agent_id]
        except KeyError:
            raise UnknownId(f"no agent {agent_id}") from None

    # ----- inside: lookups -----------------------------------------------------

    def _advance(self, now: float) -> None:
        if now < self._now:
            raise TimeWentBack(f"time went back from {self._now} to {now}")
        self._now = now

    def _queue(self, group_id: str) -> CallQueue:
        try:
            return self._queues[group_id]
        except KeyError:
            raise UnknownId(f"no seat group {group_id}") from None

    def _entry(self, call_id: str) -> _Entry:
        entry = self._calls.get(call_id)
        if entry is None:
            raise UnknownId(f"no call {call_id} in the ACD")
        return entry

    def _waiting(self, call_id: str) -> _Entry:
        entry = self._calls.get(call_id)
        if entry is None or entry.where not in (_WAITING, _RINGING):
            raise UnknownId(f"call {call_id} is not waiting in any queue")
        return entry

    # ----- inside: agents ------------------------------------------------------

    def _sync(self, state: AgentState) -> None:
        """Bring the indexes in line with the agent's state after any move."""
        pools = self._pools
        agent_id = state.agent.id
        for group_id, level in self._levels[agent_id]:
            pools[group_id][level].discard(agent_id)
        if state.status is AgentStatus.AVAILABLE:
            for group_id, level in self._levels[agent_id]:
                pools[group_id][level].add(state)
            self._dirty_agents.add(agent_id)
        elif state.status is AgentStatus.WRAP_UP and state.wrap_up_until is not None:
            heapq.heappush(self._timers, (state.wrap_up_until, _WRAP_UP, agent_id))

    # ----- inside: calls -------------------------------------------------------

    def _make_pending(self, entry: _Entry) -> None:
        """The call waits for an agent again (or for the first time): index it."""
        entry.where = _WAITING
        entry.epoch += 1
        item = (entry.call.place, entry.epoch, entry.call_id)
        group_id = entry.group.id
        heapq.heappush(self._own_buckets[group_id].setdefault(entry.own_key, []), item)
        if entry.backup:
            heapq.heappush(self._backup_buckets[group_id].setdefault(entry.extras_key, []), item)
        self._dirty_calls.add(entry.call_id)

    def _withdraw(self, entry: _Entry, now: float) -> str:
        """Take back a ringing offer; the agent is free, the call waits again."""
        assert entry.agent_id is not None
        agent_id = entry.agent_id
        state = self.agent(agent_id)
        state.withdraw_offer(now)
        self._sync(state)
        entry.agent_id = entry.ring_until = None
        self._make_pending(entry)
        return agent_id

    def _leave(self, entry: _Entry, now: float) -> str | None:
        """Take the call out of the ACD, withdrawing its offer; returns the agent
        whose phone was ringing, if any."""
        withdrawn = self._withdraw(entry, now) if entry.where == _RINGING else None
        if entry.where == _WAITING:
            self._queues[entry.group.id].remove(entry.call_id)
        self._forget(entry)
        return withdrawn

    def _forget(self, entry: _Entry) -> None:
        del self._calls[entry.call_id]
        entry.where = "gone"
        self._drop_number(entry)

    def _drop_number(self, entry: _Entry) -> None:
        if entry.number is not None and self._callback_numbers.get(entry.number) == entry.call_id:
            del self._callback_numbers[entry.number]
