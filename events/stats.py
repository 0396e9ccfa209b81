"""The retained statistics of a seat group (``hotline/v1/queues/{group}/stats``).

Pure functions over plain data: the hub gathers the inputs (who waits since
when, each agent's state, how calls left the queue) and publishes
:func:`queue_stats` retained, so a wallboard or another system that subscribes
gets the current figures at once.

Definitions (the same as the hub's queue log and the supervisor wallboard):

- a call is *offered* to a group when it leaves the group's queue — answered by
  an agent, abandoned (the caller hung up), left with a callback or a voice
  message;
- *service level* = calls answered within ``answer_within_s`` (15 s) / offered;
- *abandonment rate* = abandoned / offered;
- *average speed of answer* = mean wait of the answered calls;
- *today* starts at the hotline's local midnight, given by the caller.

All times of one payload are on one clock (``now``, ``since``, ``day_start``,
outcomes' ``at``): seconds, e.g. ``time.time()`` or the hub's monotonic clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

SERVICE_TARGET_S = 15.0
RECENT_WINDOW_S = 30 * 60.0

# Agent states as the ACD names them (call_routing.acd.AgentStatus values).
AGENT_STATES = ("available", "offered", "on_call", "wrap_up", "not_ready", "logged_out")
OUTCOMES = ("answered", "abandoned", "callback", "message")


@dataclass(frozen=True)
class WaitingCall:
    """A call in the group's queue since ``since``."""

    call_id: str
    since: float


@dataclass(frozen=True)
class AgentSnapshot:
    """One agent serving the group: their state and since when."""

    agent_id: str
    status: str  # one of AGENT_STATES
    since: float
    reason: str = ""  # why not ready (小休, 培训, …)


@dataclass(frozen=True)
class QueueOutcome:
    """How a call left the group's queue, at ``at``, after waiting ``waited_s``."""

    at: float
    outcome: str  # one of OUTCOMES
    waited_s: float


@dataclass(frozen=True)
class WindowSummary:
    """What happened to the calls that left the queue in one period."""

    offered: int
    answered: int
    answered_within: int
    abandoned: int
    service_level: float | None  # None: no call was offered
    asa_s: float | None
    abandon_rate: float | None


def summarise(
    outcomes: Iterable[QueueOutcome],
    since: float,
    answer_within_s: float = SERVICE_TARGET_S,
    until: float | None = None,
) -> WindowSummary:
    """The calls that left the queue at or after ``since`` (and before ``until``)."""
    chosen = [o for o in outcomes if o.at >= since and (until is None or o.at < until)]
    for outcome in chosen:
        if outcome.outcome not in OUTCOMES:
            raise ValueError(f"unknown queue outcome {outcome.outcome!r}; one of {OUTCOMES}")
    answered = [o for o in chosen if o.outcome == "answered"]
    within = sum(1 for o in answered if max(0.0, o.waited_s) <= answer_within_s)
    abandoned = sum(1 for o in chosen if o.outcome == "abandoned")
    offered = len(chosen)
    return WindowSummary(
        offered=offered,
        answered=len(answered),
        answered_within=within,
        abandoned=abandoned,
        service_level=round(within / offered, 4) if offered else None,
        asa_s=round(sum(max(0.0, o.waited_s) for o in answered) / len(answered), 1)
        if answered
        else None,
        abandon_rate=round(abandoned / offered, 4) if offered else None,
    )


def longest_wait_s(waiting: Iterable[WaitingCall], now: float) -> float:
    return round(max((max(0.0, now - w.since) for w in waiting), default=0.0), 1)


def agents_by_state(agents: Iterable[AgentSnapshot], now: float) -> dict[str, dict[str, Any]]:
    """Per state: how many agents, and the longest any of them has been in it.
    Every known state is present (0 agents) so consumers need not guess."""
    out: dict[str, dict[str, Any]] = {
        state: {"agents": 0, "longest_s": 0.0} for state in AGENT_STATES
    }
    for agent in agents:
        entry = out.setdefault(agent.status, {"agents": 0, "longest_s": 0.0})
        entry["agents"] += 1
        entry["longest_s"] = max(entry["longest_s"], round(max(0.0, now - agent.since), 1))
    return out


def queue_stats(
    group: str,
    *,
    now: float,
    day_start: float,
    waiting: Iterable[WaitingCall],
    agents: Iterable[AgentSnapshot],
    outcomes: Iterable[QueueOutcome] = (),
    today: WindowSummary | None = None,
    last_30_min: WindowSummary | None = None,
    answer_within_s: float = SERVICE_TARGET_S,
    is_open: bool = True,
    at: float | None = None,
) -> dict[str, Any]:
    """The ``data`` of a ``queue.stats`` message for ``group``.

    Give either the raw ``outcomes`` (summarised here for today, from
    ``day_start``, and for the last 30 minutes) or the hub's own summaries
    ``today`` and ``last_30_min`` (then ``outcomes`` is not read).  ``at`` is
    the wall-clock time of the figures (``time.time()``), for consumers."""
    waiting = list(waiting)
    agents = list(agents)
    outcomes = list(outcomes)
    if today is None:
        today = summarise(outcomes, day_start, answer_within_s)
    if last_30_min is None:
        last_30_min = summarise(outcomes, now - RECENT_WINDOW_S, answer_within_s)
    by_state = agents_by_state(agents, now)
    return {
        "group": group,
        "open": is_open,
        "at": round(at, 3) if at is not None else None,
        "waiting": len(waiting),
        "longest_wait_s": longest_wait_s(waiting, now),
        "agents": by_state,
        "agents_logged_in": sum(
            entry["agents"] for state, entry in by_state.items() if state != "logged_out"
        ),
        "service_target_s": answer_within_s,
        "today": asdict(today),
        "last_30_min": asdict(last_30_min),
    }


def changed(previous: dict[str, Any] | None, current: dict[str, Any]) -> bool:
    """Whether ``current`` differs from the last published payload in anything but
    the times that tick on their own (``at``, ``longest_wait_s``, ``longest_s``):
    the hub republishes on a change, and every few seconds while calls wait."""
    if previous is None:
        return True

    def stable(payload: dict[str, Any]) -> dict[str, Any]:
        agents = {
            state: entry.get("agents") for state, entry in dict(payload.get("agents", {})).items()
        }
        return {
            **{k: v for k, v in payload.items() if k not in ("at", "longest_wait_s", "agents")},
            "agents": agents,
        }

    return stable(previous) != stable(current)
