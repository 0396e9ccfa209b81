"""What the ACD tells the hub to do or to note: plain, frozen values.

Every decision carries ``at``, the instant (on the ACD's clock) it happened, which
for a timer is its configured deadline, not the time of the tick that fired it.
"""

from __future__ import annotations

from dataclasses import dataclass


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


SKILL = "skill"
BACKUP = "backup"


@dataclass(frozen=True)
class Widened:
    """The call may now go to more agents, keeping its place: ``stage`` is
    :data:`SKILL` (agents with the group's lower ``widen_to_level``) or
    :data:`BACKUP` (agents of the group's backup groups). The hub logs and counts
    it as overflow."""

    call_id: str
    group_id: str
    stage: str
    at: float


@dataclass(frozen=True)
class CallbackDue:
    """A callback's turn came: ``agent_id`` is reserved (offered) for it. The hub
    rings the agent until ``ring_until``; once the agent answers
    (:meth:`Acd.offer_answered`) the hub dials ``number`` and reports
    :meth:`Acd.callback_reached` or :meth:`Acd.callback_unreached`.
    ``attempt`` counts from 1."""

    call_id: str
    agent_id: str
    group_id: str
    number: str
    attempt: int
    at: float
    ring_until: float


@dataclass(frozen=True)
class CallbackGaveUp:
    """The citizen was not reached after every attempt; the callback is dropped."""

    call_id: str
    group_id: str
    number: str
    attempts: int
    at: float


@dataclass(frozen=True)
class CallbackRequested:
    """What :meth:`Acd.request_callback` did. ``call_id`` is the callback entry that
    holds the place: the caller's own call, or (``merged``) the pending callback
    for the same number that the request was merged into."""

    call_id: str
    group_id: str
    number: str
    merged: bool
    at: float


Decision = (
    Offer
    | RingTimeout
    | WaitTimeout
    | Abandoned
    | Answered
    | WrapUpEnded
    | AgentNotReady
    | Widened
    | CallbackDue
    | CallbackGaveUp
)
