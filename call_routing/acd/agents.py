"""Agents (话务员) and their state machine.

An :class:`Agent` is who the agent is (id, name, softphone, seat groups, skills);
an :class:`AgentState` is where they are now, changed only through its transition
methods, each of which refuses a move the machine does not allow with
:class:`InvalidTransition`. Time is passed in as seconds on any monotonic clock.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from call_routing.acd.errors import InvalidTransition

MIN_LEVEL = 1
MAX_LEVEL = 5
MISSED_REASON = "未接听"
UNREACHABLE_REASON = "无法接通"


class AgentStatus(enum.Enum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    OFFERED = "offered"  # the agent's phone is ringing with a call
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"  # after a call, for the group's wrap-up time
    NOT_READY = "not_ready"  # with a reason code


class OfferFailure(enum.Enum):
    """Why an offered call did not connect to the agent."""

    NO_ANSWER = "no_answer"  # rang until the ring timeout
    REJECTED = "rejected"  # the agent declined
    BUSY = "busy"  # the phone answered busy (486)
    UNREACHABLE = "unreachable"  # not registered, network error, 404/408/503


def _check_skills(skills: Mapping[str, int], what: str) -> Mapping[str, int]:
    for name, level in skills.items():
        if not name:
            raise ValueError(f"{what}: a skill needs a name")
        if isinstance(level, bool) or not isinstance(level, int):
            raise ValueError(f"{what}: skill {name!r} level must be an integer, not {level!r}")
        if not MIN_LEVEL <= level <= MAX_LEVEL:
            raise ValueError(
                f"{what}: skill {name!r} level {level} is outside {MIN_LEVEL}–{MAX_LEVEL}"
            )
    return MappingProxyType(dict(skills))


@dataclass(frozen=True)
class Agent:
    """A person answering calls (话务员): their softphone and what they can handle."""

    id: str
    name: str
    sip_uri: str
    seat_groups: tuple[str, ...]
    skills: Mapping[str, int] = field(default_factory=dict)  # skill name → level 1–5

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("agent: id must not be empty")
        if not self.sip_uri.startswith(("sip:", "sips:")):
            raise ValueError(f"agent {self.id}: sip_uri {self.sip_uri!r} must start with sip:")
        if not self.seat_groups:
            raise ValueError(f"agent {self.id}: belongs to no seat group")
        object.__setattr__(self, "seat_groups", tuple(self.seat_groups))
        object.__setattr__(self, "skills", _check_skills(self.skills, f"agent {self.id}"))

    def level(self, skill: str) -> int:
        """The agent's level in ``skill``, 0 when they do not have it."""
        return self.skills.get(skill, 0)

    def meets(self, needs: Mapping[str, int]) -> bool:
        """Whether the agent has every skill in ``needs`` at least at its level."""
        return all(self.level(skill) >= level for skill, level in needs.items())


@dataclass(frozen=True)
class OfferPolicy:
    """What a failed offer does to the agent.

    Failures listed in ``counts_as_missed`` add to the agent's run of consecutive
    missed offers; at ``max_missed`` the agent goes not ready with reason
    :data:`MISSED_REASON`. Failures in ``not_ready_at_once`` make the agent not
    ready at once with the reason given. Any other failure leaves the agent
    available.
    """

    max_missed: int = 3
    counts_as_missed: frozenset[OfferFailure] = frozenset(
        {OfferFailure.NO_ANSWER, OfferFailure.REJECTED, OfferFailure.BUSY}
    )
    not_ready_at_once: Mapping[OfferFailure, str] = field(
        default_factory=lambda: {OfferFailure.UNREACHABLE: UNREACHABLE_REASON}
    )

    def __post_init__(self) -> None:
        if self.max_missed < 1:
            raise ValueError(f"offer policy: max_missed must be at least 1, not {self.max_missed}")
        both = self.counts_as_missed & set(self.not_ready_at_once)
        if both:
            names = ", ".join(sorted(failure.value for failure in both))
            raise ValueError(f"offer policy: {names} both counted as missed and not ready at once")


_ALLOWED: dict[str, frozenset[AgentStatus]] = {
    "log_in": frozenset({AgentStatus.LOGGED_OUT}),
    "log_out": frozenset({AgentStatus.AVAILABLE, AgentStatus.NOT_READY, AgentStatus.WRAP_UP}),
    "ready": frozenset({AgentStatus.NOT_READY, AgentStatus.WRAP_UP}),
    "not_ready": frozenset({AgentStatus.AVAILABLE, AgentStatus.NOT_READY, AgentStatus.WRAP_UP}),
    "offer": frozenset({AgentStatus.AVAILABLE}),
    "answer": frozenset({AgentStatus.OFFERED}),
    "fail_offer": frozenset({AgentStatus.OFFERED}),
    "withdraw_offer": frozenset({AgentStatus.OFFERED}),
    "end_call": frozenset({AgentStatus.ON_CALL}),
    "cancel_call": frozenset({AgentStatus.ON_CALL}),
}


@dataclass
class AgentState:
    """Where an agent is now, with the counters the strategies and supervisors read.

    ``since`` is when the agent entered ``status``; while available it is the
    start of their idle time (longest-idle routing). ``call_id`` is the call
    offered to or connected with the agent. ``wrap_up_until`` is set in wrap-up.
    """

    agent: Agent
    status: AgentStatus = AgentStatus.LOGGED_OUT
    since: float = 0.0
    reason: str | None = None
    call_id: str | None = None
    call_started_at: float | None = None
    wrap_up_until: float | None = None
    calls_answered: int = 0
    talk_time_s: float = 0.0
    missed_in_a_row: int = 0
    failures: dict[OfferFailure, int] = field(
        default_factory=lambda: dict.fromkeys(OfferFailure, 0)
    )

    @property
    def id(self) -> str:
        return self.agent.id

    def _move(self, action: str, to: AgentStatus, now: float) -> None:
        if self.status not in _ALLOWED[action]:
            allowed = ", ".join(sorted(status.value for status in _ALLOWED[action]))
            raise InvalidTransition(
                f"agent {self.id}: cannot {action.replace('_', ' ')} while {self.status.value}"
                f" (only from {allowed})"
            )
        self.status = to
        self.since = now
        self.reason = None
        if to is not AgentStatus.WRAP_UP:
            self.wrap_up_until = None

    def log_in(self, now: float) -> None:
        self._move("log_in", AgentStatus.AVAILABLE, now)

    def log_out(self, now: float) -> None:
        self._move("log_out", AgentStatus.LOGGED_OUT, now)
        self.missed_in_a_row = 0

    def ready(self, now: float) -> None:
        """Back to available, from not ready or (wrap-up done) from wrap-up."""
        self._move("ready", AgentStatus.AVAILABLE, now)

    def not_ready(self, reason: str, now: float) -> None:
        if not reason:
            raise ValueError(f"agent {self.id}: not ready needs a reason code")
        self._move("not_ready", AgentStatus.NOT_READY, now)
        self.reason = reason

    def offer(self, call_id: str, now: float) -> None:
        self._move("offer", AgentStatus.OFFERED, now)
        self.call_id = call_id

    def answer(self, now: float) -> None:
        self._move("answer", AgentStatus.ON_CALL, now)
        self.call_started_at = now
        self.calls_answered += 1
        self.missed_in_a_row = 0

    def fail_offer(self, failure: OfferFailure, now: float, policy: OfferPolicy) -> str | None:
        """The offer did not connect; returns the not-ready reason if the agent was
        made not ready by it, else ``None`` (the agent is available again)."""
        self._move("fail_offer", AgentStatus.AVAILABLE, now)
        self.call_id = None
        self.failures[failure] += 1
        reason = policy.not_ready_at_once.get(failure)
        if failure in policy.counts_as_missed:
            self.missed_in_a_row += 1
            if self.missed_in_a_row >= policy.max_missed:
                reason = MISSED_REASON
        if reason is not None:
            self.missed_in_a_row = 0
            self.not_ready(reason, now)
        return reason

    def withdraw_offer(self, now: float) -> None:
        """The call went away while ringing (caller hung up, wait limit): no fault
        of the agent's, who is available again."""
        self._move("withdraw_offer", AgentStatus.AVAILABLE, now)
        self.call_id = None

    def end_call(self, now: float, wrap_up_s: float) -> None:
        """The conversation ended: wrap-up for ``wrap_up_s`` (none when 0)."""
        started = self.call_started_at if self.call_started_at is not None else self.since
        if self.status is AgentStatus.ON_CALL:
            self.talk_time_s += now - started
        self._move("end_call", AgentStatus.WRAP_UP, now)
        self.call_id = None
        self.call_started_at = None
        if wrap_up_s > 0:
            self.wrap_up_until = now + wrap_up_s
        else:
            self.ready(now)

    def cancel_call(self, now: float) -> None:
        """The call never connected (a callback whose citizen did not answer): the
        agent is available at once, and it counts neither as a call answered nor
        as talk time."""
        self._move("cancel_call", AgentStatus.AVAILABLE, now)
        self.call_id = None
        self.call_started_at = None
        self.calls_answered -= 1
