"""Staffing maths: Erlang C (callers wait as long as it takes) and Erlang A
(callers give up after an exponentially distributed patience), as pure functions.

Load ``a = calls per second × average handling time``.  For ``agents`` seats:
the probability a caller waits, the service level (answered within ``t`` seconds),
the average speed of answer and, for Erlang A, the probability of abandoning.
``agents_needed`` finds the fewest seats that meet a service-level target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Staffing:
    agents: int
    service_level: float  # answered within the target time, share of all callers
    asa_s: float  # average wait before an agent answers (answered callers)
    p_wait: float  # a caller finds every agent busy
    p_abandon: float  # a caller hangs up before being answered (0 for Erlang C)
    occupancy: float

    def as_dict(self) -> dict:
        return {
            "agents": self.agents,
            "service_level": round(self.service_level, 4),
            "asa_s": round(self.asa_s, 2),
            "p_wait": round(self.p_wait, 4),
            "p_abandon": round(self.p_abandon, 4),
            "occupancy": round(self.occupancy, 4),
        }


def erlang_c(agents: int, load: float) -> float:
    """P(wait) for ``agents`` seats and ``load`` Erlang; 1 when the queue cannot settle."""
    if agents <= 0 or load >= agents:
        return 1.0
    if load <= 0:
        return 0.0
    # Erlang B by its stable recursion, then C from B.
    b = 1.0
    for k in range(1, agents + 1):
        b = load * b / (k + load * b)
    return b / (1 - (load / agents) * (1 - b))


def erlang_c_staffing(
    agents: int, calls_per_s: float, aht_s: float, answer_within_s: float
) -> Staffing:
    load = calls_per_s * aht_s
    p_wait = erlang_c(agents, load)
    if load >= agents:
        return Staffing(agents, 0.0, math.inf, 1.0, 0.0, 1.0)
    service_level = 1 - p_wait * math.exp(-(agents - load) * answer_within_s / aht_s)
    asa = p_wait * aht_s / (agents - load)
    return Staffing(agents, service_level, asa, p_wait, 0.0, load / agents)


def erlang_a_staffing(
    agents: int, calls_per_s: float, aht_s: float, answer_within_s: float, patience_s: float
) -> Staffing:
    """M/M/N+M: the birth-death chain of callers in the system, truncated where its
    probabilities vanish; waits from the absorbing chain of one waiting caller."""
    lam, mu, theta = calls_per_s, 1 / aht_s, 1 / patience_s
    if agents <= 0 or lam <= 0:
        return Staffing(agents, 1.0 if lam <= 0 else 0.0, 0.0, 0.0, 0.0, 0.0)
    weights = [1.0]
    n = 0
    while True:
        n += 1
        death = min(n, agents) * mu + max(n - agents, 0) * theta
        weights.append(weights[-1] * lam / death)
        if n > agents and weights[-1] < 1e-14 * max(weights):
            break
        if n > agents + 100_000:
            break
    pi = np.array(weights) / sum(weights)
    waiting = pi[agents:]  # an arrival (PASTA) finds n ≥ agents: it waits
    p_wait = float(waiting.sum())
    abandon_rate = sum((k - agents) * theta * p for k, p in enumerate(pi) if k > agents)
    p_abandon = float(abandon_rate / lam)
    served_within, mean_wait_served = _waits(waiting, agents, mu, theta, answer_within_s)
    busy = float(sum(min(k, agents) * p for k, p in enumerate(pi)))
    return Staffing(
        agents,
        float(pi[:agents].sum()) + served_within,
        mean_wait_served,
        p_wait,
        p_abandon,
        busy / agents,
    )


def _waits(
    waiting: np.ndarray, agents: int, mu: float, theta: float, t: float
) -> tuple[float, float]:
    """For arrivals that wait: P(answered within ``t``) and the mean wait of those answered.

    A caller with ``i`` callers ahead moves up at rate ``agents·μ + i·θ`` (a seat frees
    or someone ahead gives up) and gives up itself at ``θ``; at the head it is answered
    at ``agents·μ``.
    """
    from scipy.linalg import expm

    size = len(waiting)  # states: i callers ahead, 0..size-1
    rates_up = agents * mu + np.arange(size) * theta
    q = np.zeros((size, size))
    for i in range(size):
        q[i, i] = -(rates_up[i] + theta)
        if i > 0:
            q[i, i - 1] = rates_up[i]
    answered_rate = np.zeros(size)
    answered_rate[0] = agents * mu  # from the head of the queue
    # P(answered by t) = ∫0..t P(s)·answered_rate ds, from the augmented matrix.
    augmented = np.zeros((size + 1, size + 1))
    augmented[:size, :size] = q
    augmented[:size, size] = answered_rate
    answered_by_t = expm(augmented * t)[:size, size]
    within = float(waiting @ answered_by_t)
    # Mean time to answer among the answered: E[T·1{answered}] / P(answered).
    fundamental = np.linalg.inv(-q)
    p_answered = fundamental @ answered_rate
    time_answered = fundamental @ (fundamental @ answered_rate)
    answered = float(waiting @ p_answered)
    mean_wait = float(waiting @ time_answered) / answered if answered else math.inf
    total_answered = float(1 - waiting.sum()) + answered
    return within, mean_wait * answered / total_answered if total_answered else math.inf


def staffing(
    agents: int,
    calls_per_hour: float,
    aht_s: float,
    answer_within_s: float,
    patience_s: float | None = None,
) -> Staffing:
    """Erlang C when ``patience_s`` is None (callers never give up), else Erlang A."""
    if calls_per_hour < 0 or aht_s <= 0 or answer_within_s < 0:
        raise ValueError("calls per hour ≥ 0, handling time > 0 and answer time ≥ 0 are needed")
    if patience_s is not None and patience_s <= 0:
        raise ValueError("patience must be more than 0 seconds")
    rate = calls_per_hour / 3600
    if patience_s is None:
        return erlang_c_staffing(agents, rate, aht_s, answer_within_s)
    return erlang_a_staffing(agents, rate, aht_s, answer_within_s, patience_s)


def agents_needed(
    calls_per_hour: float,
    aht_s: float,
    answer_within_s: float,
    service_level: float,
    patience_s: float | None = None,
    max_agents: int = 10_000,
) -> Staffing:
    """The fewest seats whose service level reaches ``service_level`` (0–1)."""
    if not 0 < service_level < 1:
        raise ValueError("the service-level target must be between 0 and 1, e.g. 0.95")
    load = calls_per_hour / 3600 * aht_s
    first = max(1, math.floor(load) + (1 if patience_s is None else 0))
    for agents in range(first, max_agents + 1):
        result = staffing(agents, calls_per_hour, aht_s, answer_within_s, patience_s)
        if result.service_level >= service_level:
            return result
    raise ValueError(f"no staffing up to {max_agents} seats meets the target")
