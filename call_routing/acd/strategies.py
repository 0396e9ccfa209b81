"""Choosing an agent for a call: one function, a strategy per seat group.

Every strategy is deterministic: ties go to the longest idle agent, then to the
smallest agent id.
"""

from __future__ import annotations

from collections.abc import Sequence

from call_routing.acd.agents import AgentState
from call_routing.acd.queues import QueuedCall, Strategy


def _idle_then_id(state: AgentState) -> tuple[float, str]:
    return (state.since, state.id)


def choose_agent(
    call: QueuedCall,
    candidates: Sequence[AgentState],
    now: float,
    strategy: Strategy = Strategy.LONGEST_IDLE,
    *,
    last_agent_id: str | None = None,
) -> AgentState | None:
    """The agent among ``candidates`` (all able to take ``call`` now) that
    ``strategy`` picks, or ``None`` when there is none.

    - longest idle: available for the longest time (earliest ``since``);
    - round robin: the next agent id after ``last_agent_id``, wrapping round;
    - fewest calls: fewest calls answered;
    - least talk time: least total talk time;
    - skill weighted: highest sum of levels in the skills the call needs.
    """
    if not candidates:
        return None
    match strategy:
        case Strategy.LONGEST_IDLE:
            return min(candidates, key=_idle_then_id)
        case Strategy.ROUND_ROBIN:
            ordered = sorted(candidates, key=lambda state: state.id)
            if last_agent_id is None:
                return ordered[0]
            return next((s for s in ordered if s.id > last_agent_id), ordered[0])
        case Strategy.FEWEST_CALLS:
            return min(candidates, key=lambda s: (s.calls_answered, *_idle_then_id(s)))
        case Strategy.LEAST_TALK_TIME:
            return min(candidates, key=lambda s: (s.talk_time_s, *_idle_then_id(s)))
        case Strategy.SKILL_WEIGHTED:

            def score(state: AgentState) -> int:
                return sum(state.agent.level(skill) for skill in call.skills)

            return min(candidates, key=lambda s: (-score(s), *_idle_then_id(s)))
        case _:
            raise ValueError(f"unknown strategy {strategy!r}")
