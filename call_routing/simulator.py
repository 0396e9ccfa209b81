"""A day of calls through the real ACD (``call_routing.acd``) with virtual time.

Arrivals are Poisson with a rate that may change by the hour (a morning peak),
handling times are exponential with the given mean, and callers hang up after an
exponential patience (or never).  Agents answer every offer at once.  The result
is what a supervisor reads: service level, average speed of answer, abandonment
and occupancy; for one flat group it agrees with Erlang C (``staffing.py``).

With ``groups`` above 1 the day has the general group 综合 and specialist groups
that need their own skill at level 3 (agents' levels run 1–5, so some can take
a group's calls only once they widen); the load is uneven between them. An
:class:`Overflow` policy switches on skill widening, the general group as backup,
callbacks offered after a wait (a share of callers accept; a share of citizens
answer the callback) and diversion before queueing, and the result counts what
each did. Arrivals and routing come from their own random streams, so every
policy sees the same callers on the same seed.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from call_routing.acd.agents import Agent
from call_routing.acd.decisions import BACKUP, CallbackDue, CallbackGaveUp, Offer, Widened
from call_routing.acd.dispatcher import Acd, CallbackPolicy
from call_routing.acd.queues import SeatGroup

GROUP = "综合"
SPECIALISTS = (
    "城建",
    "环保",
    "交通",
    "教育",
    "人社",
    "商贸",
    "卫健",
    "市监",
    "公安",
    "民政",
    "农业",
)
LOAD = (1.6, 0.6, 1.0)  # specialist groups' load, in turn, against the general group's 1.0
SKILL_LEVEL = 3
DIAL_S = 8.0  # from the agent answering a callback to the citizen answering


@dataclass(frozen=True)
class Overflow:
    """An overflow policy: ``None`` switches a rule off."""

    name: str = "none"
    widen_after_s: float | None = None  # specialists' calls to skill level 1
    backup_after_s: float | None = None  # specialists' calls to the general group
    callback_after_s: float | None = None  # callers still waiting are offered a callback
    callback_accept: float = 0.5  # share of callers who accept it
    callback_reach: float = 0.8  # share of callbacks the citizen answers
    callback_ring_s: float = 30.0
    callback_retries: int = 2
    callback_retry_s: float = 300.0
    divert_wait_above_s: float | None = None  # offered a callback before queueing


POLICIES: dict[str, Overflow] = {
    "none": Overflow(),
    "widen": Overflow("widen", widen_after_s=30),
    "backup": Overflow("backup", backup_after_s=60),
    "callback": Overflow("callback", callback_after_s=45),
    "all": Overflow(
        "all", widen_after_s=30, backup_after_s=60, callback_after_s=45, divert_wait_above_s=600
    ),
}


@dataclass(frozen=True)
class Scenario:
    agents: int
    calls_per_hour: float  # the mean; ``profile`` scales it hour by hour
    aht_s: float
    hours: float
    seed: int = 1
    patience_s: float | None = None  # None: callers wait as long as it takes
    answer_within_s: float = 15.0
    wrap_up_s: float = 0.0
    profile: tuple[float, ...] = ()  # per hour, e.g. a morning peak; empty = flat
    groups: int = 1  # 1: one flat group; more: 综合 plus specialist groups
    overflow: Overflow = Overflow()

    def __post_init__(self) -> None:
        if not 1 <= self.groups <= len(SPECIALISTS) + 1:
            raise ValueError(f"groups must be from 1 to {len(SPECIALISTS) + 1}")
        if self.groups > self.agents:
            raise ValueError("every group needs an agent: more agents than groups")


@dataclass
class Result:
    calls: int = 0
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    wait_answered_s: float = 0.0
    busy_s: float = 0.0
    seconds: float = 0.0
    agents: int = 0
    answer_within_s: float = 15.0
    longest_wait_s: float = 0.0
    per_hour: list[int] = field(default_factory=list)
    overflowed: int = 0  # answered by a lower skill level or a backup group
    widened: int = 0  # calls that reached the skill-widening stage
    backed_up: int = 0  # calls that reached the backup stage
    callbacks_requested: int = 0
    callbacks_completed: int = 0
    callbacks_gave_up: int = 0
    callback_attempts: int = 0
    diverted: int = 0  # diverted before queueing (to a callback, or away)

    def as_dict(self) -> dict:
        return {
            "calls": self.calls,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "service_level": round(self.answered_within / self.calls, 4) if self.calls else 1.0,
            "answer_within_s": self.answer_within_s,
            "asa_s": round(self.wait_answered_s / self.answered, 2) if self.answered else 0.0,
            "abandon_rate": round(self.abandoned / self.calls, 4) if self.calls else 0.0,
            "occupancy": round(self.busy_s / (self.agents * self.seconds), 4)
            if self.seconds and self.agents
            else 0.0,
            "longest_wait_s": round(self.longest_wait_s, 1),
            "overflowed": self.overflowed,
            "widened": self.widened,
            "backed_up": self.backed_up,
            "callbacks_requested": self.callbacks_requested,
            "callbacks_completed": self.callbacks_completed,
            "callbacks_gave_up": self.callbacks_gave_up,
            "callback_attempts": self.callback_attempts,
            "diverted": self.diverted,
        }


def _layout(scenario: Scenario) -> tuple[list[SeatGroup], list[Agent], list[float]]:
    """Seat groups, agents and each group's share of the calls."""
    policy = scenario.overflow
    common = {"wrap_up_s": scenario.wrap_up_s, "ring_timeout_s": 30.0}
    if scenario.groups == 1:
        agents = [
            Agent(f"a{i}", f"坐席{i}", f"sip:{8000 + i}@sim", (GROUP,))
            for i in range(scenario.agents)
        ]
        return [SeatGroup(GROUP, **common)], agents, [1.0]  # type: ignore[arg-type]
    names = SPECIALISTS[: scenario.groups - 1]
    groups = [SeatGroup(GROUP, **common)]  # type: ignore[arg-type]
    for name in names:
        groups.append(
            SeatGroup(
                name,
                required_skill=name,
                required_level=SKILL_LEVEL,
                widen_after_s=policy.widen_after_s,
                widen_to_level=1,
                backup_groups=(GROUP,) if policy.backup_after_s is not None else (),
                backup_after_s=policy.backup_after_s,
                **common,  # type: ignore[arg-type]
            )
        )
    per_group = scenario.agents // scenario.groups
    agents = []
    for index in range(scenario.agents):
        slot = index // per_group if per_group else 0
        if slot < len(names):
            name = names[slot]
            level = 1 + index % 5
            agents.append(
                Agent(
                    f"a{index}", f"坐席{index}", f"sip:{8000 + index}@sim", (name,), {name: level}
                )
            )
        else:
            agents.append(Agent(f"a{index}", f"坐席{index}", f"sip:{8000 + index}@sim", (GROUP,)))
    shares = [1.0] + [LOAD[i % len(LOAD)] for i in range(len(names))]
    return groups, agents, shares


def simulate(scenario: Scenario, progress: Callable[[float], None] | None = None) -> Result:
    """Run the day; ``progress`` gets the share of the day done (0–1) now and then."""
    rng = random.Random(scenario.seed)
    # Arrivals and patience come from ``rng`` in arrival order, routing and the
    # callers' choices from their own streams: every policy sees the same callers.
    routing = random.Random(f"{scenario.seed}/routing")
    handling = random.Random(f"{scenario.seed}/handling")
    choices = random.Random(f"{scenario.seed}/callers")
    policy = scenario.overflow
    groups, people, shares = _layout(scenario)
    group_ids = [group.id for group in groups]
    by_id = {group.id: group for group in groups}
    acd = Acd(
        groups,
        people,
        callback_policy=CallbackPolicy(policy.callback_retries, policy.callback_retry_s),
    )
    agents = {agent.id: agent for agent in people}
    for agent in people:
        acd.log_in(agent.id, 0.0)
    end = scenario.hours * 3600
    result = Result(agents=scenario.agents, seconds=end, answer_within_s=scenario.answer_within_s)
    events: list[tuple[float, int, str, str]] = []  # (time, order, kind, call id)
    order = 0

    def schedule(at: float, kind: str, call_id: str) -> None:
        nonlocal order
        order += 1
        heapq.heappush(events, (at, order, kind, call_id))

    def rate(at: float) -> float:
        if not scenario.profile:
            return scenario.calls_per_hour / 3600
        hour = min(int(at // 3600), len(scenario.profile) - 1)
        return scenario.calls_per_hour * scenario.profile[hour] / 3600

    arrived_at: dict[str, float] = {}  # live callers still waiting
    started: dict[str, float] = {}  # agent busy since, by call id
    serial = 0
    next_arrival = rng.expovariate(rate(0.0)) if rate(0.0) > 0 else end
    last_report = 0.0

    def to_callback(call_id: str, now: float) -> None:
        arrived_at.pop(call_id, None)
        acd.request_callback(call_id, f"n{call_id}", now)
        result.callbacks_requested += 1

    while True:
        timer = acd.next_timer_at()
        never = float("inf")
        now = min(
            next_arrival, events[0][0] if events else never, never if timer is None else timer
        )
        if now == never:
            break  # closed, every call answered or abandoned and finished
        if now == next_arrival:
            serial += 1
            call_id = f"c{serial}"
            result.calls += 1
            group_id = group_ids[0]
            if len(group_ids) > 1:
                group_id = routing.choices(group_ids, shares)[0]
            patience = None
            if scenario.patience_s is not None:
                patience = rng.expovariate(1 / scenario.patience_s)
            divert = policy.divert_wait_above_s is not None and acd.should_divert(
                group_id, now, wait_above_s=policy.divert_wait_above_s
            )
            if divert and policy.callback_after_s is None:
                result.diverted += 1  # told to call later or leave a message
            else:
                arrived_at[call_id] = now
                acd.enqueue(call_id, group_id, now)
                if divert:
                    result.diverted += 1
                    to_callback(call_id, now)
                else:
                    if patience is not None:
                        schedule(now + patience, "patience", call_id)
                    if policy.callback_after_s is not None:
                        schedule(now + policy.callback_after_s, "offer_callback", call_id)
            r = rate(now)
            next_arrival = now + rng.expovariate(r) if r > 0 and now < end else float("inf")
            if next_arrival >= end:
                next_arrival = float("inf")
        elif events and now == events[0][0]:
            _, _, kind, call_id = heapq.heappop(events)
            if kind == "end" and call_id in started:
                acd.call_ended(call_id, now)
                result.busy_s += now - started.pop(call_id)
            elif kind == "patience" and call_id in arrived_at:
                acd.caller_hung_up(call_id, now)
                waited = now - arrived_at.pop(call_id)
                result.abandoned += 1
                result.longest_wait_s = max(result.longest_wait_s, waited)
            elif kind == "offer_callback" and call_id in arrived_at:
                if acd.ringing_agent(call_id) is None and choices.random() < policy.callback_accept:
                    to_callback(call_id, now)
            elif kind == "reached":
                acd.callback_reached(call_id, now)
                result.callbacks_completed += 1
                schedule(now + handling.expovariate(1 / scenario.aht_s), "end", call_id)
            elif kind == "unreached":
                result.busy_s += now - started.pop(call_id)
                for decision in acd.callback_unreached(call_id, now):
                    if isinstance(decision, CallbackGaveUp):
                        result.callbacks_gave_up += 1
        for decision in acd.tick(now):
            if isinstance(decision, Offer):
                acd.offer_answered(decision.call_id, now)
                waited = now - arrived_at.pop(decision.call_id)
                result.answered += 1
                result.answered_within += waited <= scenario.answer_within_s
                result.wait_answered_s += waited
                result.longest_wait_s = max(result.longest_wait_s, waited)
                started[decision.call_id] = now
                schedule(now + handling.expovariate(1 / scenario.aht_s), "end", decision.call_id)
                group = by_id[decision.group_id]
                agent = agents[decision.agent_id]
                if group.id not in agent.seat_groups or not agent.meets(group.needs()):
                    result.overflowed += 1
            elif isinstance(decision, CallbackDue):
                acd.offer_answered(decision.call_id, now)
                started[decision.call_id] = now
                result.callback_attempts += 1
                if choices.random() < policy.callback_reach:
                    schedule(now + DIAL_S, "reached", decision.call_id)
                else:
                    schedule(now + policy.callback_ring_s, "unreached", decision.call_id)
            elif isinstance(decision, Widened):  # once per stage and call
                if decision.stage == BACKUP:
                    result.backed_up += 1
                else:
                    result.widened += 1
        if progress is not None and now - last_report >= 600 and now <= end:
            last_report = now
            progress(min(now / end, 1.0))
    if progress is not None:
        progress(1.0)
    return result
