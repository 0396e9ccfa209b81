"""Indexes of free agents, so that choosing an agent is close to O(log n).

An :class:`AgentPool` holds the available agents of one seat group who have one
level in the group's required skill (0 when the group needs none). For each
strategy a call may use it keeps, on demand, a heap ordered as that strategy
orders agents (see ``strategies.py``), with lazy invalidation: an agent who left
the pool, or came back with a new key, leaves stale entries that are dropped
when they reach the top. Round robin uses a sorted list of agent ids.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Iterator

from call_routing.acd.agents import AgentState
from call_routing.acd.queues import Strategy

# A heap order: the strategy, and for skill weighted the skills the call needs.
Spec = tuple[Strategy, tuple[str, ...]]
Key = tuple  # ends with the agent id, so keys never tie


def key_function(spec: Spec) -> Callable[[AgentState], Key]:
    """The sort key ``choose_agent`` uses for ``spec`` (smaller is chosen first)."""
    strategy, skills = spec
    match strategy:
        case Strategy.LONGEST_IDLE:
            return lambda s: (s.since, s.agent.id)
        case Strategy.FEWEST_CALLS:
            return lambda s: (s.calls_answered, s.since, s.agent.id)
        case Strategy.LEAST_TALK_TIME:
            return lambda s: (s.talk_time_s, s.since, s.agent.id)
        case Strategy.SKILL_WEIGHTED:
            return lambda s: (-sum(s.agent.level(k) for k in skills), s.since, s.agent.id)
        case _:
            raise ValueError(f"no heap order for {strategy!r}")


class AgentPool:
    """The free agents of one seat group at one skill level."""

    __slots__ = ("_heaps", "_ids", "_members", "_serial")

    def __init__(self) -> None:
        self._members: dict[str, tuple[AgentState, int]] = {}  # id → (state, token)
        self._heaps: dict[Spec, tuple[Callable[[AgentState], Key], list[tuple[Key, int]]]] = {}
        self._ids: list[str] | None = None  # sorted, for round robin, once asked for
        self._serial = 0

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._members

    def states(self) -> Iterator[AgentState]:
        return (state for state, _ in self._members.values())

    def add(self, state: AgentState) -> None:
        """The agent became available (with its current key)."""
        self._serial += 1
        token = self._serial
        self._members[state.agent.id] = (state, token)
        for key, heap in self._heaps.values():
            heapq.heappush(heap, (key(state), token))
        if self._ids is not None:
            bisect.insort(self._ids, state.agent.id)

    def discard(self, agent_id: str) -> None:
        if self._members.pop(agent_id, None) is None:
            return
        if self._ids is not None:
            index = bisect.bisect_left(self._ids, agent_id)
            del self._ids[index]

    def best(self, spec: Spec) -> tuple[Key, AgentState] | None:
        """The first agent in ``spec`` order, with its key."""
        entry = self._heaps.get(spec)
        if entry is None:
            key = key_function(spec)
            heap = [(key(state), token) for state, token in self._members.values()]
            heapq.heapify(heap)
            self._heaps[spec] = entry = (key, heap)
        key, heap = entry
        if len(heap) > 2 * len(self._members) + 64:  # mostly stale: rebuild
            heap[:] = [(key(state), token) for state, token in self._members.values()]
            heapq.heapify(heap)
        members = self._members
        while heap:
            top, token = heap[0]
            member = members.get(top[-1])
            if member is not None and member[1] == token:
                return top, member[0]
            heapq.heappop(heap)
        return None

    def first_id_after(self, last: str | None) -> tuple[str | None, str | None]:
        """Round robin: (the first id after ``last``, the first id of all)."""
        if self._ids is None:
            self._ids = sorted(self._members)
        ids = self._ids
        if not ids:
            return None, None
        index = 0 if last is None else bisect.bisect_right(ids, last)
        return (ids[index] if index < len(ids) else None), ids[0]

    def state(self, agent_id: str) -> AgentState:
        return self._members[agent_id][0]
