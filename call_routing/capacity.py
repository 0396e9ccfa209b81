"""Sizing a node for a city's peak: how many call legs, media workers, ASR streams
and hosts carry an offered load, by Erlang B (a call that finds every line busy is
refused, not queued: the node sheds it with 503), as pure functions.

A call occupies the node from its answer to its end: the greeting and the caller's
words, the wait in the queue, and the conversation with an agent (two legs then).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LEGS_PER_WORKER = 4  # the pjsua2 wheel's compiled limit per process


def erlang_b(lines: int, load: float) -> float:
    """The share of calls that find all ``lines`` busy at ``load`` Erlang."""
    if lines < 0 or load < 0:
        raise ValueError("lines and load must not be negative")
    if load == 0:
        return 0.0
    blocked = 1.0
    for k in range(1, lines + 1):
        blocked = load * blocked / (k + load * blocked)
    return blocked


def lines_needed(load: float, blocking: float, max_lines: int = 1_000_000) -> int:
    """The fewest concurrent calls that refuse at most ``blocking`` of the calls."""
    if not 0 < blocking < 1:
        raise ValueError("the blocking target must be between 0 and 1, e.g. 0.01")
    lines = max(0, math.floor(load))
    blocked = erlang_b(lines, load)
    while blocked > blocking:
        lines += 1
        if lines > max_lines:
            raise ValueError(f"more than {max_lines} lines would be needed")
        blocked = load * blocked / (lines + load * blocked)
    return lines


@dataclass(frozen=True)
class NodeSize:
    load_erlang: float  # calls on the node at once, on average
    calls: int  # concurrent calls to provide for
    blocking: float  # the share refused at that size (Erlang B)
    workers: int  # media worker processes
    asr_streams: int  # callers talking to the ASR service at once, on average, rounded up
    hosts: int  # machines, at the measured calls per host

    def as_dict(self) -> dict:
        return {
            "load_erlang": round(self.load_erlang, 2),
            "calls": self.calls,
            "blocking": round(self.blocking, 5),
            "workers": self.workers,
            "asr_streams": self.asr_streams,
            "hosts": self.hosts,
        }


def node_size(
    calls_per_hour: float,
    call_s: float,
    blocking: float = 0.01,
    with_agents: bool = True,
    listening_share: float = 0.25,
    calls_per_host: int = 200,
) -> NodeSize:
    """What a node needs for ``calls_per_hour`` calls lasting ``call_s`` on average.

    With agents, each caller keeps room on their worker for the agent's leg, so a
    worker carries two callers, not four.  ``listening_share`` is the part of a
    call's time the caller's audio streams to the ASR service (the greeting and
    their words, not the wait or the conversation).
    """
    if calls_per_hour < 0 or call_s <= 0:
        raise ValueError("calls per hour ≥ 0 and a call length > 0 are needed")
    if not 0 <= listening_share <= 1:
        raise ValueError("the listening share must be between 0 and 1")
    if calls_per_host <= 0:
        raise ValueError("calls per host must be more than 0")
    load = calls_per_hour / 3600 * call_s
    calls = lines_needed(load, blocking)
    per_worker = LEGS_PER_WORKER // 2 if with_agents else LEGS_PER_WORKER
    return NodeSize(
        load_erlang=load,
        calls=calls,
        blocking=erlang_b(calls, load),
        workers=math.ceil(calls / per_worker),
        asr_streams=math.ceil(load * listening_share),
        hosts=max(1, math.ceil(calls / calls_per_host)),
    )
