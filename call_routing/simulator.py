"""A day of calls through the real ACD (``call_routing.acd``) with virtual time.

Arrivals are Poisson with a rate that may change by the hour (a morning peak),
handling times are exponential with the given mean, and callers hang up after an
exponential patience (or never).  Agents answer every offer at once.  The result
is what a supervisor reads: service level, average speed of answer, abandonment
and occupancy; for one flat group it agrees with Erlang C (``staffing.py``).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from call_routing.acd.agents import Agent
from call_routing.acd.dispatcher import Acd, Offer
from call_routing.acd.queues import SeatGroup

GROUP = "综合"


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
        }


def simulate(scenario: Scenario, progress: Callable[[float], None] | None = None) -> Result:
    """Run the day; ``progress`` gets the share of the day done (0–1) now and then."""
    rng = random.Random(scenario.seed)
    acd = Acd(
        [SeatGroup(GROUP, wrap_up_s=scenario.wrap_up_s, ring_timeout_s=30.0)],
        [
            Agent(f"a{i}", f"坐席{i}", f"sip:{8000 + i}@sim", (GROUP,))
            for i in range(scenario.agents)
        ],
    )
    for index in range(scenario.agents):
        acd.log_in(f"a{index}", 0.0)
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

    arrived_at: dict[str, float] = {}
    started: dict[str, float] = {}
    serial = 0
    next_arrival = rng.expovariate(rate(0.0)) if rate(0.0) > 0 else end
    last_report = 0.0
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
            arrived_at[call_id] = now
            result.calls += 1
            acd.enqueue(call_id, GROUP, now)
            if scenario.patience_s is not None:
                schedule(now + rng.expovariate(1 / scenario.patience_s), "patience", call_id)
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
        for decision in acd.tick(now):
            if isinstance(decision, Offer):
                acd.offer_answered(decision.call_id, now)
                waited = now - arrived_at.pop(decision.call_id)
                result.answered += 1
                result.answered_within += waited <= scenario.answer_within_s
                result.wait_answered_s += waited
                result.longest_wait_s = max(result.longest_wait_s, waited)
                started[decision.call_id] = now
                schedule(now + rng.expovariate(1 / scenario.aht_s), "end", decision.call_id)
        if progress is not None and now - last_report >= 600 and now <= end:
            last_report = now
            progress(min(now / end, 1.0))
    if progress is not None:
        progress(1.0)
    return result
