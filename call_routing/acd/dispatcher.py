"""The ACD (自动呼叫分配): agents, seat groups and queues, driven by events and a
clock that is passed in.

The hub reports what happened (a call to queue, an agent ready, an offer
answered or failed, a hang-up) and calls :meth:`Acd.tick` after each event and
at :meth:`Acd.next_timer_at`; ``tick`` fires every timer that is due, each at
its exact configured time, then offers waiting calls to free agents and returns
what the hub must do as :data:`Decision` values.

Invariants: an agent is offered or connected to at most one call; an offer is
only made for a call waiting in a queue; a call keeps its place in the queue
(priority, then arrival) until it is answered or leaves, also when its skill
needs widen, when backup groups may take it and while it waits as a callback.

Matching is greedy in place order and incremental, so one event costs about
O(log n) however many agents and calls there are (``matching.py``).

The parts: ``core.py`` (what is kept per call, the state, and the moves that keep
its indexes in line), ``matching.py`` (waiting calls to free agents),
``callbacks.py``, ``estimates.py`` (handling times, estimated waits, diverting);
this module holds the rest (agents, seat groups and their overflow, calls,
timers) and puts them together as :class:`Acd`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping

from call_routing.acd.agents import Agent, AgentState, AgentStatus, OfferFailure, OfferPolicy
from call_routing.acd.callbacks import CallbackPolicy, Callbacks, CallbackState
from call_routing.acd.core import (
    _BACKUP,
    _CONNECTED,
    _DIALING,
    _HOLDS_PLACE,
    _LEVELS,
    _MAX_WAIT,
    _RETRY_WAIT,
    _RING,
    _RINGING,
    _WAITING,
    _WIDEN,
    _WRAP_UP,
    _Entry,
    _key,
)
from call_routing.acd.decisions import (
    BACKUP,
    SKILL,
    Abandoned,
    AgentNotReady,
    Answered,
    CallbackDue,
    CallbackGaveUp,
    CallbackRequested,
    Decision,
    Offer,
    RingTimeout,
    WaitTimeout,
    Widened,
    WrapUpEnded,
)
from call_routing.acd.errors import InvalidTransition, UnknownId
from call_routing.acd.estimates import DEFAULT_AHT_S, DIVERT_LOAD, DIVERT_WAIT, Estimates
from call_routing.acd.matching import Matching
from call_routing.acd.pools import AgentPool
from call_routing.acd.queues import CallQueue, QueuedCall, SeatGroup

__all__ = [
    "DIVERT_LOAD",
    "DIVERT_WAIT",
    "Abandoned",
    "Acd",
    "AgentNotReady",
    "Answered",
    "CallbackDue",
    "CallbackGaveUp",
    "CallbackPolicy",
    "CallbackRequested",
    "CallbackState",
    "Decision",
    "Offer",
    "RingTimeout",
    "WaitTimeout",
    "Widened",
    "WrapUpEnded",
]


class Acd(Callbacks, Estimates, Matching):
    """Automatic call distribution over seat groups, with virtual time.

    Agents change state only through the Acd's methods (its indexes follow
    them); :meth:`agent` returns the live state for reading.
    """

    def __init__(
        self,
        groups: Iterable[SeatGroup],
        agents: Iterable[Agent] = (),
        *,
        offer_policy: OfferPolicy | None = None,
        callback_policy: CallbackPolicy | None = None,
        default_aht_s: float = DEFAULT_AHT_S,
    ) -> None:
        if default_aht_s <= 0:
            raise ValueError(f"default_aht_s must be positive, not {default_aht_s}")
        self.offer_policy = offer_policy or OfferPolicy()
        self.callback_policy = callback_policy or CallbackPolicy()
        self._queues: dict[str, CallQueue] = {}
        for group in groups:
            if group.id in self._queues:
                raise ValueError(f"seat group {group.id} is defined twice")
            self._queues[group.id] = CallQueue(group)
        self._backed_by: dict[str, list[str]] = {group_id: [] for group_id in self._queues}
        for queue in self._queues.values():
            for backup in queue.group.backup_groups:
                if backup not in self._queues:
                    raise ValueError(f"seat group {queue.group.id}: unknown backup group {backup}")
                self._backed_by[backup].append(queue.group.id)
        self._pools = {g: [AgentPool() for _ in range(_LEVELS)] for g in self._queues}
        self._logged_in = {g: [0] * _LEVELS for g in self._queues}
        self._own_buckets: dict[str, dict[tuple, list]] = {g: {} for g in self._queues}
        self._backup_buckets: dict[str, dict[tuple, list]] = {g: {} for g in self._queues}
        self._open = dict.fromkeys(self._queues, True)
        self._backup_now: set[str] = set()  # groups a supervisor overflows at once
        self._aht = dict.fromkeys(self._queues, default_aht_s)
        self._aht_n = dict.fromkeys(self._queues, 1)
        self._agents: dict[str, AgentState] = {}
        self._levels: dict[str, tuple[tuple[str, int], ...]] = {}  # agent → (group, level)
        for agent in agents:
            self.add_agent(agent)
        self._calls: dict[str, _Entry] = {}
        self._callback_numbers: dict[str, str] = {}  # number → pending callback's call id
        self._timers: list[tuple[float, int, str]] = []
        self._dirty_calls: set[str] = set()
        self._dirty_agents: set[str] = set()
        self._last_agent: dict[str, str] = {}  # round robin, by group id
        self._seq = 0
        self._now = float("-inf")

    # ----- queries -------------------------------------------------------------

    def agents(self) -> tuple[AgentState, ...]:
        return tuple(self._agents.values())

    def group(self, group_id: str) -> SeatGroup:
        return self._queue(group_id).group

    def groups(self) -> tuple[SeatGroup, ...]:
        return tuple(queue.group for queue in self._queues.values())

    def queue(self, group_id: str) -> tuple[QueuedCall, ...]:
        """The group's calls in the order they are served (ringing ones and
        callbacks holding their place included)."""
        return tuple(self._queue(group_id))

    def position(self, call_id: str) -> int:
        entry = self._waiting(call_id)
        return self._queues[entry.group.id].position(call_id)

    def ringing_agent(self, call_id: str) -> str | None:
        """The agent whose phone rings with ``call_id``, if any."""
        entry = self._calls.get(call_id)
        return entry.agent_id if entry is not None and entry.where == _RINGING else None

    def connected_agent(self, call_id: str) -> str | None:
        """The agent talking with ``call_id`` (or dialling it back), if any."""
        entry = self._calls.get(call_id)
        if entry is not None and entry.where in (_CONNECTED, _DIALING):
            return entry.agent_id
        return None

    def stage(self, call_id: str) -> tuple[bool, bool]:
        """(widened to lower skill levels, open to backup groups) for a call held."""
        entry = self._entry(call_id)
        return entry.widened, entry.backup

    def group_open(self, group_id: str) -> bool:
        self._queue(group_id)
        return self._open[group_id]

    def next_timer_at(self) -> float | None:
        """When the next timer is due (ring timeout, wrap-up end, maximum wait,
        skill widening, backup groups, callback retry)."""
        timers = self._timers
        while timers:
            deadline, kind, key = timers[0]
            if self._timer_valid(deadline, kind, key):
                return deadline
            heapq.heappop(timers)
        return None

    # ----- agents --------------------------------------------------------------

    def add_agent(self, agent: Agent) -> AgentState:
        if agent.id in self._agents:
            raise ValueError(f"agent {agent.id} is defined twice")
        unknown = [group for group in agent.seat_groups if group not in self._queues]
        if unknown:
            raise ValueError(f"agent {agent.id}: unknown seat group(s) {', '.join(unknown)}")
        state = AgentState(agent)
        self._agents[agent.id] = state
        self._levels[agent.id] = tuple(
            (g, agent.level(skill) if (skill := self._queues[g].group.required_skill) else 0)
            for g in dict.fromkeys(agent.seat_groups)
        )
        return state

    def start_clock(self, now: float) -> None:
        """The ACD's clock starts at ``now`` (the hub's start): agents that have not
        moved yet are logged out since then, not since the clock's zero."""
        for state in self._agents.values():
            if state.status is AgentStatus.LOGGED_OUT and state.since == 0.0:
                state.since = now

    def log_in(self, agent_id: str, now: float) -> None:
        self._advance(now)
        state = self.agent(agent_id)
        state.log_in(now)
        for group_id, level in self._levels[agent_id]:
            self._logged_in[group_id][level] += 1
        self._sync(state)

    def log_out(self, agent_id: str, now: float) -> None:
        self._advance(now)
        state = self.agent(agent_id)
        state.log_out(now)
        for group_id, level in self._levels[agent_id]:
            self._logged_in[group_id][level] -= 1
        self._sync(state)

    def agent_ready(self, agent_id: str, now: float) -> None:
        """Ready after not ready, or wrap-up done before its timer."""
        self._advance(now)
        state = self.agent(agent_id)
        state.ready(now)
        self._sync(state)

    def agent_not_ready(self, agent_id: str, reason: str, now: float) -> None:
        self._advance(now)
        state = self.agent(agent_id)
        state.not_ready(reason, now)
        self._sync(state)

    # ----- seat groups ---------------------------------------------------------

    def set_group_open(self, group_id: str, is_open: bool, now: float) -> None:
        """Switch a seat group on or off (time windows). A group that is off
        offers nothing: its agents serve only the other groups they belong to,
        and it backs up no group; its calls wait, or go to its backup groups at
        once (a :class:`Widened` decision at the next tick). Offers already
        ringing go on."""
        self._advance(now)
        self._queue(group_id)
        if self._open[group_id] == is_open:
            return
        self._open[group_id] = is_open
        if is_open:
            for pool in self._pools[group_id]:
                self._dirty_agents.update(state.id for state in pool.states())
            return
        group = self._queues[group_id].group
        if group.has_backup:
            for entry in self._calls.values():
                if entry.group is group and not entry.backup:
                    heapq.heappush(self._timers, (now, _BACKUP, entry.call_id))

    def set_backup_now(self, group_id: str, on: bool, now: float) -> None:
        """A supervisor's overflow switch: while on, the group's calls (those waiting
        and those to come) may go to its backup groups at once, keeping their place.
        Switched off, new calls wait ``backup_after_s`` again; calls already
        offered wider stay so."""
        self._advance(now)
        group = self._queue(group_id).group
        if not group.has_backup:
            raise ValueError(f"seat group {group_id} has no backup groups to overflow to")
        if not on:
            self._backup_now.discard(group_id)
            return
        self._backup_now.add(group_id)
        for entry in self._calls.values():
            if entry.group is group and not entry.backup:
                heapq.heappush(self._timers, (now, _BACKUP, entry.call_id))

    def backup_now(self, group_id: str) -> bool:
        return group_id in self._backup_now

    # ----- calls ---------------------------------------------------------------

    def enqueue(
        self,
        call_id: str,
        group_id: str,
        now: float,
        *,
        priority: int = 0,
        skills: Mapping[str, int] | None = None,
    ) -> QueuedCall:
        """Queue a call for ``group_id``; raises :class:`QueueFull` at the group's
        maximum length. ``skills`` adds needs to the group's own."""
        self._advance(now)
        queue = self._queue(group_id)
        if call_id in self._calls:
            raise ValueError(f"call {call_id} is already in the ACD")
        group = queue.group
        extras = dict(skills or {})
        needs = group.needs()
        for skill, level in extras.items():
            needs[skill] = max(level, needs.get(skill, 0))
        self._seq += 1
        call = QueuedCall(call_id, group_id, now, priority, needs, self._seq)
        queue.add(call)
        entry = _Entry(call, group, extras, dict(needs), tuple(sorted(needs.items())), _key(extras))
        self._calls[call_id] = entry
        self._make_pending(entry)
        if group.max_wait_s is not None:
            heapq.heappush(self._timers, (now + group.max_wait_s, _MAX_WAIT, call_id))
        if group.widens:
            assert group.widen_after_s is not None
            heapq.heappush(self._timers, (now + group.widen_after_s, _WIDEN, call_id))
        if group.has_backup:
            assert group.backup_after_s is not None
            at_once = not self._open[group_id] or group_id in self._backup_now
            after = 0.0 if at_once else group.backup_after_s
            heapq.heappush(self._timers, (now + after, _BACKUP, call_id))
        return call

    def offer_answered(self, call_id: str, now: float) -> Answered:
        """The agent answered. For a live call the two are connected; for a
        callback the hub now dials the citizen (:meth:`callback_reached`,
        :meth:`callback_unreached`)."""
        self._advance(now)
        entry = self._calls.get(call_id)
        if entry is None or entry.where != _RINGING or entry.agent_id is None:
            raise UnknownId(f"call {call_id} is not ringing any agent")
        self.agent(entry.agent_id).answer(now)
        self._queues[entry.group.id].remove(call_id)
        entry.ring_until = None
        if entry.live:
            entry.where = _CONNECTED
        else:
            entry.where = _DIALING
            entry.attempts += 1
        waited = now - entry.call.enqueued_at
        return Answered(call_id, entry.agent_id, entry.group.id, now, waited)

    def offer_failed(self, call_id: str, failure: OfferFailure, now: float) -> list[Decision]:
        """The agent's leg failed (rejected, busy, unreachable, or no answer seen by
        the hub); the call waits again in its place."""
        self._advance(now)
        entry = self._calls.get(call_id)
        if entry is None or entry.where != _RINGING:
            raise UnknownId(f"call {call_id} is not ringing any agent")
        return self._fail(entry, failure, now)

    def call_ended(self, call_id: str, now: float) -> None:
        """Either side hung up a connected call: the agent goes to wrap-up."""
        self._advance(now)
        entry = self._calls.get(call_id)
        if entry is None or entry.where not in (_CONNECTED, _DIALING):
            raise UnknownId(f"call {call_id} is not connected to an agent")
        assert entry.agent_id is not None
        state = self.agent(entry.agent_id)
        started = state.call_started_at if state.call_started_at is not None else now
        wrap_up_s = entry.group.wrap_up_s
        state.end_call(now, wrap_up_s)
        self._sync(state)
        self._observe(entry.group.id, now - started + wrap_up_s)
        self._forget(entry)

    def caller_hung_up(self, call_id: str, now: float) -> Abandoned:
        """The caller left before an agent answered."""
        self._advance(now)
        entry = self._calls.get(call_id)
        if entry is not None and entry.where in (_CONNECTED, _DIALING):
            raise InvalidTransition(f"call {call_id} is connected; report call_ended instead")
        if entry is not None and not entry.live:
            raise InvalidTransition(
                f"call {call_id} is a callback now; use cancel_callback to drop it"
            )
        entry = self._waiting(call_id)
        withdrawn = self._leave(entry, now)
        waited = now - entry.call.enqueued_at
        return Abandoned(call_id, entry.group.id, now, waited, withdrawn)

    # ----- time ----------------------------------------------------------------

    def tick(self, now: float) -> list[Decision]:
        """Fire every timer due at or before ``now`` (each at its own time, in order),
        then offer waiting calls to available agents."""
        self._advance(now)
        decisions: list[Decision] = []
        timers = self._timers
        while timers and timers[0][0] <= now:
            deadline, kind, key = heapq.heappop(timers)
            if self._timer_valid(deadline, kind, key):
                decisions.extend(self._fire(deadline, kind, key))
        decisions.extend(self._match(now))
        return decisions

    # ----- inside: agents ------------------------------------------------------

    def _fail(self, entry: _Entry, failure: OfferFailure, now: float) -> list[Decision]:
        assert entry.agent_id is not None
        state = self.agent(entry.agent_id)
        entry.agent_id = entry.ring_until = None
        self._make_pending(entry)
        reason = state.fail_offer(failure, now, self.offer_policy)
        self._sync(state)
        return [AgentNotReady(state.id, reason, now)] if reason is not None else []

    # ----- inside: calls -------------------------------------------------------

    def _rekey(self, entry: _Entry) -> None:
        group = entry.group
        needs = dict(entry.extras)
        if group.required_skill:
            level = group.widen_to_level if entry.widened else group.required_level
            needs[group.required_skill] = max(level, needs.get(group.required_skill, 0))
        entry.needs = needs
        entry.own_key = tuple(sorted(needs.items()))
        if entry.where == _WAITING:
            self._make_pending(entry)

    # ----- inside: timers ------------------------------------------------------

    def _timer_valid(self, deadline: float, kind: int, key: str) -> bool:
        if kind == _WRAP_UP:
            state = self._agents[key]
            return state.status is AgentStatus.WRAP_UP and state.wrap_up_until == deadline
        entry = self._calls.get(key)
        if entry is None:
            return False
        if kind == _RING:
            return entry.where == _RINGING and entry.ring_until == deadline
        if kind == _MAX_WAIT:
            return entry.live and entry.where in (_WAITING, _RINGING)
        if kind == _WIDEN:
            return not entry.widened and entry.where in _HOLDS_PLACE
        if kind == _BACKUP:
            return not entry.backup and entry.where in _HOLDS_PLACE
        return entry.where == _RETRY_WAIT and entry.retry_at == deadline

    def _fire(self, deadline: float, kind: int, key: str) -> list[Decision]:
        if kind == _WRAP_UP:
            state = self._agents[key]
            state.ready(deadline)
            self._sync(state)
            return [WrapUpEnded(key, deadline)]
        entry = self._calls[key]
        if kind == _RING:
            assert entry.agent_id is not None
            decisions: list[Decision] = [RingTimeout(key, entry.agent_id, deadline)]
            return decisions + self._fail(entry, OfferFailure.NO_ANSWER, deadline)
        if kind == _MAX_WAIT:
            withdrawn = self._leave(entry, deadline)
            waited = deadline - entry.call.enqueued_at
            return [WaitTimeout(key, entry.group.id, deadline, waited, withdrawn)]
        if kind == _WIDEN:
            entry.widened = True
            self._rekey(entry)
            return [Widened(key, entry.group.id, SKILL, deadline)]
        if kind == _BACKUP:
            entry.backup = True
            self._rekey(entry)
            return [Widened(key, entry.group.id, BACKUP, deadline)]
        entry.retry_at = None
        self._queues[entry.group.id].add(entry.call, keep_place=True)
        self._make_pending(entry)
        if not self._open[entry.group.id] and entry.group.has_backup and not entry.backup:
            heapq.heappush(self._timers, (deadline, _BACKUP, key))
        return []
