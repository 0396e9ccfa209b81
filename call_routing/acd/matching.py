"""Matching waiting calls with free agents.

Matching is greedy in place order over every seat group: the first waiting call
that some free agent can take gets the agent its group's strategy picks. It is
kept incremental: after each tick no free agent can take a waiting call, so only
what changed since (an agent freed, a call queued or back in its place, a call
widened, a group switched on) needs looking at. Free agents sit in per-group,
per-skill-level heaps (``pools.py``), waiting calls in per-group buckets by
their needs, and timers in one heap with lazy invalidation, so one event costs
about O(log n) however many agents and calls there are.

Invariants: an agent is offered at most one call, and only while available; an
offer is only made for a call waiting in a queue.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping

from call_routing.acd.agents import Agent, AgentState, AgentStatus
from call_routing.acd.core import _RING, _RINGING, _WAITING, AcdCore, _Entry
from call_routing.acd.decisions import CallbackDue, Decision, Offer
from call_routing.acd.pools import AgentPool
from call_routing.acd.queues import Strategy
from call_routing.acd.strategies import choose_agent


def _meets(agent: Agent, needs: tuple[tuple[str, int], ...]) -> bool:
    return all(agent.level(skill) >= level for skill, level in needs)


class Matching(AcdCore):
    """The matching part of :class:`~call_routing.acd.Acd`."""

    def _bucket_head(self, heap: list) -> _Entry | None:
        calls = self._calls
        while heap:
            _, epoch, call_id = heap[0]
            entry = calls.get(call_id)
            if entry is not None and entry.epoch == epoch and entry.where == _WAITING:
                return entry
            heapq.heappop(heap)
        return None

    def _first_call_for(self, state: AgentState) -> _Entry | None:
        """The first waiting call (in place order) that ``state`` may take."""
        agent = state.agent
        best: _Entry | None = None
        for group_id in agent.seat_groups:
            if not self._open[group_id]:
                continue
            sources = [self._own_buckets[group_id]]
            sources += [self._backup_buckets[other] for other in self._backed_by[group_id]]
            for buckets in sources:
                for needs in list(buckets):
                    if not _meets(agent, needs):
                        continue
                    head = self._bucket_head(buckets[needs])
                    if head is None:
                        del buckets[needs]
                    elif best is None or head.call.place < best.call.place:
                        best = head
        return best

    def _best_agent(self, entry: _Entry, now: float) -> AgentState | None:
        """The free agent the call's strategy picks among those who may take it."""
        group = entry.group
        pools: list[tuple[AgentPool, Mapping[str, int] | None]] = []
        if self._open[group.id]:
            skill = group.required_skill
            if skill:
                rest = len(entry.needs) > 1
                level = entry.needs[skill]
                own = self._pools[group.id][level:]
            else:
                rest = bool(entry.needs)
                own = self._pools[group.id][:1]
            pools += [(pool, entry.needs if rest else None) for pool in own if len(pool)]
        if entry.backup:
            for other in group.backup_groups:
                if self._open[other]:
                    pools += [
                        (pool, entry.extras or None) for pool in self._pools[other] if len(pool)
                    ]
        if not pools:
            return None
        last = self._last_agent.get(group.id)
        if any(needs is not None for _, needs in pools):  # filter: look at each agent
            candidates = {
                state.agent.id: state
                for pool, needs in pools
                for state in pool.states()
                if needs is None or state.agent.meets(needs)
            }
            return choose_agent(
                entry.call, list(candidates.values()), now, group.strategy, last_agent_id=last
            )
        if group.strategy is Strategy.ROUND_ROBIN:
            after: tuple[str, AgentPool] | None = None
            first: tuple[str, AgentPool] | None = None
            for pool, _ in pools:
                next_id, first_id = pool.first_id_after(last)
                if next_id is not None and (after is None or next_id < after[0]):
                    after = (next_id, pool)
                if first_id is not None and (first is None or first_id < first[0]):
                    first = (first_id, pool)
            pick = after or first
            return pick[1].state(pick[0]) if pick else None
        skills = (
            tuple(sorted(entry.call.skills)) if group.strategy is Strategy.SKILL_WEIGHTED else ()
        )
        spec = (group.strategy, skills)
        best: tuple | None = None
        for pool, _ in pools:
            top = pool.best(spec)
            if top is not None and (best is None or top[0] < best[0]):
                best = top
        return best[1] if best else None

    def _match(self, now: float) -> list[Decision]:
        if not self._dirty_calls and not self._dirty_agents:
            return []
        calls, agents = self._calls, self._agents
        call_heap = [
            (entry.call.place, entry.epoch, call_id)
            for call_id in self._dirty_calls
            if (entry := calls.get(call_id)) is not None and entry.where == _WAITING
        ]
        heapq.heapify(call_heap)
        agent_heap: list[tuple] = []

        def look_for_call(state: AgentState) -> None:
            entry = self._first_call_for(state)
            if entry is not None:
                item = (entry.call.place, entry.epoch, entry.call_id, state.agent.id)
                heapq.heappush(agent_heap, item)

        for agent_id in sorted(self._dirty_agents):
            state = agents[agent_id]
            if state.status is AgentStatus.AVAILABLE:
                look_for_call(state)
        self._dirty_calls.clear()
        self._dirty_agents.clear()
        offers: list[Decision] = []
        while True:
            while call_heap:
                _, epoch, call_id = call_heap[0]
                entry = calls.get(call_id)
                if entry is not None and entry.epoch == epoch and entry.where == _WAITING:
                    break
                heapq.heappop(call_heap)
            while agent_heap:
                _, epoch, call_id, agent_id = agent_heap[0]
                state = agents[agent_id]
                if state.status is not AgentStatus.AVAILABLE:
                    heapq.heappop(agent_heap)
                    continue
                entry = calls.get(call_id)
                if entry is not None and entry.epoch == epoch and entry.where == _WAITING:
                    break
                heapq.heappop(agent_heap)
                look_for_call(state)
            if not call_heap and not agent_heap:
                return offers
            from_calls = bool(call_heap) and (not agent_heap or call_heap[0][0] <= agent_heap[0][0])
            call_id = call_heap[0][2] if from_calls else agent_heap[0][2]
            entry = calls[call_id]
            chosen = self._best_agent(entry, now)
            if chosen is None:
                assert from_calls, "an agent may take the call but none was found"
                heapq.heappop(call_heap)
                continue
            offers.append(self._offer(entry, chosen, now))

    def _offer(self, entry: _Entry, state: AgentState, now: float) -> Decision:
        group = entry.group
        state.offer(entry.call_id, now)
        self._sync(state)
        self._last_agent[group.id] = state.agent.id
        ring_until = now + group.ring_timeout_s
        entry.where = _RINGING
        entry.agent_id = state.agent.id
        entry.ring_until = ring_until
        heapq.heappush(self._timers, (ring_until, _RING, entry.call_id))
        if entry.live:
            return Offer(entry.call_id, state.agent.id, group.id, now, ring_until)
        assert entry.number is not None
        return CallbackDue(
            entry.call_id,
            state.agent.id,
            group.id,
            entry.number,
            entry.attempts + 1,
            now,
            ring_until,
        )
