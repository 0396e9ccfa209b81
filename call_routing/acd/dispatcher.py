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

Matching is greedy in place order over every seat group: the first waiting call
that some free agent can take gets the agent its group's strategy picks. It is
kept incremental: after each tick no free agent can take a waiting call, so only
what changed since (an agent freed, a call queued or back in its place, a call
widened, a group switched on) needs looking at. Free agents sit in per-group,
per-skill-level heaps (``pools.py``), waiting calls in per-group buckets by
their needs, and timers in one heap with lazy invalidation, so one event costs
about O(log n) however many agents and calls there are.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from call_routing.acd.agents import Agent, AgentState, AgentStatus, OfferFailure, OfferPolicy
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
from call_routing.acd.errors import InvalidTransition, TimeWentBack, UnknownId
from call_routing.acd.pools import AgentPool
from call_routing.acd.queues import CallQueue, QueuedCall, SeatGroup, Strategy
from call_routing.acd.strategies import choose_agent

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

DIVERT_WAIT = "estimated_wait"
DIVERT_LOAD = "calls_per_agent"
DEFAULT_AHT_S = 180.0
_AHT_WINDOW = 20  # the moving average spans about this many calls


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


def _meets(agent: Agent, needs: tuple[tuple[str, int], ...]) -> bool:
    return all(agent.level(skill) >= level for skill, level in needs)


class Acd:
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

    def aht_s(self, group_id: str) -> float:
        """The group's average handling time (talk plus wrap-up): a moving average
        over about the last 20 calls, seeded with ``default_aht_s``."""
        self._queue(group_id)
        return self._aht[group_id]

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

    def estimated_wait_s(self, call_id: str, now: float) -> float:
        """How long the call will likely wait still: its position × the group's
        average handling time ÷ the logged-in agents who can take it now (its
        group's agents at its current skill level, plus its backup groups' agents
        once it may go to them; an agent in two of these counts twice). Infinite
        when no logged-in agent can take it. ``now`` is checked, not used: the
        estimate looks at the state as it is."""
        self._advance(now)
        entry = self._waiting(call_id)
        position = self._queues[entry.group.id].position(call_id)
        serving = self._serving(entry.group, entry.needs, entry.backup)
        return position * self._aht[entry.group.id] / serving if serving else math.inf

    def should_divert(
        self,
        group_id: str,
        now: float,
        *,
        wait_above_s: float | None = None,
        calls_per_agent_above: float | None = None,
    ) -> str | None:
        """Whether a new call for ``group_id`` should be offered a callback (or a
        voice message) instead of queueing: :data:`DIVERT_WAIT` when its
        estimated wait (as :meth:`estimated_wait_s`, at the back of the queue)
        is above ``wait_above_s``, :data:`DIVERT_LOAD` when the calls holding a
        place per logged-in agent who could take it are above
        ``calls_per_agent_above``, else ``None``. Backup groups count when the
        group overflows to them at once (``backup_after_s`` 0, or it is off)."""
        self._advance(now)
        group = self._queue(group_id).group
        waiting = len(self._queues[group_id])
        backup = group.has_backup and (
            group.backup_after_s == 0 or not self._open[group_id] or group_id in self._backup_now
        )
        serving = self._serving(group, group.needs(), backup)
        if wait_above_s is not None:
            wait = (waiting + 1) * self._aht[group_id] / serving if serving else math.inf
            if wait > wait_above_s:
                return DIVERT_WAIT
        if calls_per_agent_above is not None:
            load = waiting / serving if serving else math.inf
            if load > calls_per_agent_above:
                return DIVERT_LOAD
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

    def _dialing(self, call_id: str) -> _Entry:
        entry = self._calls.get(call_id)
        if entry is None or entry.where != _DIALING:
            raise UnknownId(f"call {call_id} is no callback being dialled")
        return entry

    def _serving(self, group: SeatGroup, needs: Mapping[str, int], backup: bool) -> int:
        serving = 0
        if self._open[group.id]:
            level = needs.get(group.required_skill, 0) if group.required_skill else 0
            serving += sum(self._logged_in[group.id][level:])
        if backup:
            for other in group.backup_groups:
                if self._open[other]:
                    serving += sum(self._logged_in[other])
        return serving

    def _observe(self, group_id: str, handling_s: float) -> None:
        n = self._aht_n[group_id] = min(self._aht_n[group_id] + 1, _AHT_WINDOW)
        self._aht[group_id] += (handling_s - self._aht[group_id]) / n

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

    def _fail(self, entry: _Entry, failure: OfferFailure, now: float) -> list[Decision]:
        assert entry.agent_id is not None
        state = self.agent(entry.agent_id)
        entry.agent_id = entry.ring_until = None
        self._make_pending(entry)
        reason = state.fail_offer(failure, now, self.offer_policy)
        self._sync(state)
        return [AgentNotReady(state.id, reason, now)] if reason is not None else []

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

    # ----- inside: matching ----------------------------------------------------

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


def _key(needs: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(needs.items()))
