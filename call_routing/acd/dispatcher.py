"""The ACD (自动呼叫分配): agents, seat groups and queues, driven by events and a
clock that is passed in.

The hub reports what happened (a call to queue, an agent ready, an offer
answered or failed, a hang-up) and calls :meth:`Acd.tick` after each event and
at :meth:`Acd.next_timer_at`; ``tick`` fires every timer that is due, each at
its exact configured time, then offers waiting calls to free agents and returns
what the hub must do as :data:`Decision` values.

Invariants: an agent is offered or connected to at most one call; an offer is
only made for a call waiting in a queue; a call keeps its place in the queue
(priority, then arrival) until it is answered or leaves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from call_routing.acd.agents import Agent, AgentState, AgentStatus, OfferFailure, OfferPolicy
from call_routing.acd.errors import InvalidTransition, TimeWentBack, UnknownId
from call_routing.acd.queues import CallQueue, QueuedCall, SeatGroup
from call_routing.acd.strategies import choose_agent


@dataclass(frozen=True)
class Offer:
    """Ring ``agent_id``'s phone with ``call_id`` until ``ring_until``."""

    call_id: str
    agent_id: str
    group_id: str
    at: float
    ring_until: float


@dataclass(frozen=True)
class RingTimeout:
    """Nobody answered the offer by its ring timeout; the call waits again in its place."""

    call_id: str
    agent_id: str
    at: float


@dataclass(frozen=True)
class WaitTimeout:
    """The call waited the group's maximum and leaves the queue; if it was ringing an
    agent (``withdrawn_from``) that offer is withdrawn."""

    call_id: str
    group_id: str
    at: float
    waited_s: float
    withdrawn_from: str | None = None


@dataclass(frozen=True)
class Abandoned:
    """The caller hung up while waiting (or while an agent's phone rang)."""

    call_id: str
    group_id: str
    at: float
    waited_s: float
    withdrawn_from: str | None = None


@dataclass(frozen=True)
class Answered:
    call_id: str
    agent_id: str
    group_id: str
    at: float
    waited_s: float


@dataclass(frozen=True)
class WrapUpEnded:
    agent_id: str
    at: float


@dataclass(frozen=True)
class AgentNotReady:
    """The ACD made an agent not ready (e.g. "未接听"); supervisors see it."""

    agent_id: str
    reason: str
    at: float


Decision = Offer | RingTimeout | WaitTimeout | Abandoned | Answered | WrapUpEnded | AgentNotReady

# Order of timers due at the same instant.
_RING, _WRAP_UP, _MAX_WAIT = 0, 1, 2


@dataclass
class _Ringing:
    call: QueuedCall
    agent_id: str
    ring_until: float


@dataclass
class _Connected:
    call: QueuedCall
    agent_id: str


class Acd:
    """Automatic call distribution over seat groups, with virtual time."""

    def __init__(
        self,
        groups: Iterable[SeatGroup],
        agents: Iterable[Agent] = (),
        *,
        offer_policy: OfferPolicy | None = None,
    ) -> None:
        self.offer_policy = offer_policy or OfferPolicy()
        self._queues: dict[str, CallQueue] = {}
        for group in groups:
            if group.id in self._queues:
                raise ValueError(f"seat group {group.id} is defined twice")
            self._queues[group.id] = CallQueue(group)
        self._agents: dict[str, AgentState] = {}
        for agent in agents:
            self.add_agent(agent)
        self._ringing: dict[str, _Ringing] = {}  # by call id
        self._connected: dict[str, _Connected] = {}  # by call id
        self._last_agent: dict[str, str] = {}  # round robin, by group id
        self._seq = 0
        self._now = float("-inf")

    # ----- queries -------------------------------------------------------------

    def agent(self, agent_id: str) -> AgentState:
        try:
            return self._agents[agent_id]
        except KeyError:
            raise UnknownId(f"no agent {agent_id}") from None

    def agents(self) -> tuple[AgentState, ...]:
        return tuple(self._agents.values())

    def group(self, group_id: str) -> SeatGroup:
        return self._queue(group_id).group

    def groups(self) -> tuple[SeatGroup, ...]:
        return tuple(queue.group for queue in self._queues.values())

    def queue(self, group_id: str) -> tuple[QueuedCall, ...]:
        """The group's calls in the order they are served (ringing ones included)."""
        return tuple(self._queue(group_id))

    def position(self, call_id: str) -> int:
        call = self._queued(call_id)
        return self._queues[call.group_id].position(call_id)

    def ringing_agent(self, call_id: str) -> str | None:
        """The agent whose phone rings with ``call_id``, if any."""
        ringing = self._ringing.get(call_id)
        return ringing.agent_id if ringing else None

    def connected_agent(self, call_id: str) -> str | None:
        connected = self._connected.get(call_id)
        return connected.agent_id if connected else None

    def next_timer_at(self) -> float | None:
        """When the next timer is due (ring timeout, wrap-up end, maximum wait)."""
        due = [deadline for deadline, *_ in self._timers()]
        return min(due) if due else None

    # ----- agents --------------------------------------------------------------

    def add_agent(self, agent: Agent) -> AgentState:
        if agent.id in self._agents:
            raise ValueError(f"agent {agent.id} is defined twice")
        unknown = [group for group in agent.seat_groups if group not in self._queues]
        if unknown:
            raise ValueError(f"agent {agent.id}: unknown seat group(s) {', '.join(unknown)}")
        state = AgentState(agent)
        self._agents[agent.id] = state
        return state

    def log_in(self, agent_id: str, now: float) -> None:
        self._advance(now)
        self.agent(agent_id).log_in(now)

    def log_out(self, agent_id: str, now: float) -> None:
        self._advance(now)
        self.agent(agent_id).log_out(now)

    def agent_ready(self, agent_id: str, now: float) -> None:
        """Ready after not ready, or wrap-up done before its timer."""
        self._advance(now)
        self.agent(agent_id).ready(now)

    def agent_not_ready(self, agent_id: str, reason: str, now: float) -> None:
        self._advance(now)
        self.agent(agent_id).not_ready(reason, now)

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
        if self._find(call_id) is not None or call_id in self._connected:
            raise ValueError(f"call {call_id} is already in the ACD")
        needs = queue.group.needs()
        for skill, level in (skills or {}).items():
            needs[skill] = max(level, needs.get(skill, 0))
        self._seq += 1
        call = QueuedCall(call_id, group_id, now, priority, needs, self._seq)
        queue.add(call)
        return call

    def offer_answered(self, call_id: str, now: float) -> Answered:
        self._advance(now)
        ringing = self._ringing.pop(call_id, None)
        if ringing is None:
            raise UnknownId(f"call {call_id} is not ringing any agent")
        self.agent(ringing.agent_id).answer(now)
        call = self._queues[ringing.call.group_id].remove(call_id)
        self._connected[call_id] = _Connected(call, ringing.agent_id)
        return Answered(call_id, ringing.agent_id, call.group_id, now, now - call.enqueued_at)

    def offer_failed(self, call_id: str, failure: OfferFailure, now: float) -> list[Decision]:
        """The agent's leg failed (rejected, busy, unreachable, or no answer seen by
        the hub); the call waits again in its place."""
        self._advance(now)
        ringing = self._ringing.pop(call_id, None)
        if ringing is None:
            raise UnknownId(f"call {call_id} is not ringing any agent")
        return self._fail(ringing, failure, now)

    def call_ended(self, call_id: str, now: float) -> None:
        """Either side hung up a connected call: the agent goes to wrap-up."""
        self._advance(now)
        connected = self._connected.pop(call_id, None)
        if connected is None:
            raise UnknownId(f"call {call_id} is not connected to an agent")
        wrap_up_s = self._queues[connected.call.group_id].group.wrap_up_s
        self.agent(connected.agent_id).end_call(now, wrap_up_s)

    def caller_hung_up(self, call_id: str, now: float) -> Abandoned:
        """The caller left before an agent answered."""
        self._advance(now)
        if call_id in self._connected:
            raise InvalidTransition(f"call {call_id} is connected; report call_ended instead")
        call = self._queued(call_id)
        withdrawn = self._leave(call, now)
        return Abandoned(call_id, call.group_id, now, now - call.enqueued_at, withdrawn)

    # ----- time ----------------------------------------------------------------

    def tick(self, now: float) -> list[Decision]:
        """Fire every timer due at or before ``now`` (each at its own time, in order),
        then offer waiting calls to available agents."""
        self._advance(now)
        decisions: list[Decision] = []
        for deadline, kind, key in sorted(self._timers()):
            if deadline > now:
                break
            decisions.extend(self._fire(deadline, kind, key))
        decisions.extend(self._match(now))
        return decisions

    # ----- inside --------------------------------------------------------------

    def _advance(self, now: float) -> None:
        if now < self._now:
            raise TimeWentBack(f"time went back from {self._now} to {now}")
        self._now = now

    def _queue(self, group_id: str) -> CallQueue:
        try:
            return self._queues[group_id]
        except KeyError:
            raise UnknownId(f"no seat group {group_id}") from None

    def _find(self, call_id: str) -> QueuedCall | None:
        for queue in self._queues.values():
            for call in queue:
                if call.call_id == call_id:
                    return call
        return None

    def _queued(self, call_id: str) -> QueuedCall:
        call = self._find(call_id)
        if call is None:
            raise UnknownId(f"call {call_id} is not waiting in any queue")
        return call

    def _timers(self) -> list[tuple[float, int, str]]:
        timers = [(r.ring_until, _RING, call_id) for call_id, r in self._ringing.items()]
        timers += [
            (state.wrap_up_until, _WRAP_UP, state.id)
            for state in self._agents.values()
            if state.status is AgentStatus.WRAP_UP and state.wrap_up_until is not None
        ]
        for queue in self._queues.values():
            if queue.group.max_wait_s is not None:
                timers += [
                    (call.enqueued_at + queue.group.max_wait_s, _MAX_WAIT, call.call_id)
                    for call in queue
                ]
        return timers

    def _fire(self, deadline: float, kind: int, key: str) -> list[Decision]:
        if kind == _RING:
            ringing = self._ringing.get(key)
            if ringing is None or ringing.ring_until != deadline:
                return []
            del self._ringing[key]
            decisions: list[Decision] = [RingTimeout(key, ringing.agent_id, deadline)]
            return decisions + self._fail(ringing, OfferFailure.NO_ANSWER, deadline)
        if kind == _WRAP_UP:
            state = self._agents[key]
            if state.status is not AgentStatus.WRAP_UP or state.wrap_up_until != deadline:
                return []
            state.ready(deadline)
            return [WrapUpEnded(key, deadline)]
        call = self._find(key)
        max_wait_s = self._queues[call.group_id].group.max_wait_s if call else None
        if call is None or max_wait_s is None or call.enqueued_at + max_wait_s != deadline:
            return []
        withdrawn = self._leave(call, deadline)
        return [WaitTimeout(key, call.group_id, deadline, deadline - call.enqueued_at, withdrawn)]

    def _fail(self, ringing: _Ringing, failure: OfferFailure, now: float) -> list[Decision]:
        state = self.agent(ringing.agent_id)
        reason = state.fail_offer(failure, now, self.offer_policy)
        return [AgentNotReady(state.id, reason, now)] if reason is not None else []

    def _leave(self, call: QueuedCall, now: float) -> str | None:
        """Take ``call`` out of its queue, withdrawing its offer; returns the agent
        whose phone was ringing, if any."""
        self._queues[call.group_id].remove(call.call_id)
        ringing = self._ringing.pop(call.call_id, None)
        if ringing is None:
            return None
        self.agent(ringing.agent_id).withdraw_offer(now)
        return ringing.agent_id

    def _match(self, now: float) -> list[Decision]:
        waiting = sorted(
            (call for queue in self._queues.values() for call in queue),
            key=lambda call: call.place,
        )
        free = [s for s in self._agents.values() if s.status is AgentStatus.AVAILABLE]
        offers: list[Decision] = []
        for call in waiting:
            if not free:
                break
            if call.call_id in self._ringing:
                continue
            group = self._queues[call.group_id].group
            candidates = [
                s for s in free if group.id in s.agent.seat_groups and s.agent.meets(call.skills)
            ]
            chosen = choose_agent(
                call,
                candidates,
                now,
                group.strategy,
                last_agent_id=self._last_agent.get(group.id),
            )
            if chosen is None:
                continue
            chosen.offer(call.call_id, now)
            free.remove(chosen)
            self._last_agent[group.id] = chosen.id
            ring_until = now + group.ring_timeout_s
            self._ringing[call.call_id] = _Ringing(call, chosen.id, ring_until)
            offers.append(Offer(call.call_id, chosen.id, group.id, now, ring_until))
        return offers
