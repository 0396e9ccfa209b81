"""Seat groups (坐席组) and their queues of waiting calls.

A queue is ordered by priority (higher first), then by arrival; a call keeps its
place while it is offered to agents, until it is answered or leaves.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from call_routing.acd.agents import MAX_LEVEL, MIN_LEVEL
from call_routing.acd.errors import QueueFull, UnknownId


class Strategy(enum.Enum):
    """How a seat group picks among the agents who could take a call."""

    LONGEST_IDLE = "longest_idle"
    ROUND_ROBIN = "round_robin"
    FEWEST_CALLS = "fewest_calls"
    LEAST_TALK_TIME = "least_talk_time"
    SKILL_WEIGHTED = "skill_weighted"


class CallerPriority(enum.IntEnum):
    """Named caller priorities; any int works, higher is served first."""

    NORMAL = 0
    REPEAT_CALLER = 1  # called within the last 24 h
    MARKED = 2  # elderly or other priority callers, by key press or number list
    EMERGENCY_ADJACENT = 3


@dataclass(frozen=True)
class SeatGroup:
    """A group of seats sharing one queue (e.g. 市场监管, 住建).

    ``max_wait_s`` and ``max_length`` are ``None`` for no limit. A call needs the
    group's ``required_skill`` at ``required_level`` or more, if one is set.
    """

    id: str
    strategy: Strategy = Strategy.LONGEST_IDLE
    max_wait_s: float | None = None
    max_length: int | None = None
    wrap_up_s: float = 0.0
    ring_timeout_s: float = 20.0
    required_skill: str | None = None
    required_level: int = MIN_LEVEL

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("seat group: id must not be empty")
        if self.max_wait_s is not None and self.max_wait_s <= 0:
            raise ValueError(f"seat group {self.id}: max_wait_s must be positive")
        if self.max_length is not None and self.max_length < 1:
            raise ValueError(f"seat group {self.id}: max_length must be at least 1")
        if self.wrap_up_s < 0:
            raise ValueError(f"seat group {self.id}: wrap_up_s must not be negative")
        if self.ring_timeout_s <= 0:
            raise ValueError(f"seat group {self.id}: ring_timeout_s must be positive")
        if not MIN_LEVEL <= self.required_level <= MAX_LEVEL:
            raise ValueError(
                f"seat group {self.id}: required_level {self.required_level}"
                f" is outside {MIN_LEVEL}–{MAX_LEVEL}"
            )

    def needs(self) -> dict[str, int]:
        """The skills every call of this group needs."""
        return {self.required_skill: self.required_level} if self.required_skill else {}


@dataclass(frozen=True)
class QueuedCall:
    """A caller waiting for an agent of ``group_id``.

    ``skills`` is every skill the call needs (the group's and the call's own),
    name → minimum level. ``seq`` breaks ties between equal arrival times.
    """

    call_id: str
    group_id: str
    enqueued_at: float
    priority: int = CallerPriority.NORMAL
    skills: Mapping[str, int] = field(default_factory=dict)
    seq: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "skills", MappingProxyType(dict(self.skills)))

    @property
    def place(self) -> tuple[int, float, int]:
        """Sort key: priority first (higher earlier), then arrival."""
        return (-self.priority, self.enqueued_at, self.seq)


class CallQueue:
    """The waiting calls of one seat group, in the order they are served."""

    def __init__(self, group: SeatGroup) -> None:
        self.group = group
        self._calls: list[QueuedCall] = []
        self._places: list[tuple[int, float, int]] = []

    def __len__(self) -> int:
        return len(self._calls)

    def __iter__(self) -> Iterator[QueuedCall]:
        return iter(tuple(self._calls))

    def __contains__(self, call_id: object) -> bool:
        return any(call.call_id == call_id for call in self._calls)

    def add(self, call: QueuedCall) -> int:
        """Put ``call`` in its place; returns its 1-based position."""
        if call.group_id != self.group.id:
            raise ValueError(f"call {call.call_id} is for {call.group_id}, not {self.group.id}")
        if call.call_id in self:
            raise ValueError(f"call {call.call_id} is already queued in {self.group.id}")
        if self.group.max_length is not None and len(self._calls) >= self.group.max_length:
            raise QueueFull(
                f"seat group {self.group.id}: queue holds its maximum of {self.group.max_length}"
            )
        index = bisect.bisect_right(self._places, call.place)
        self._places.insert(index, call.place)
        self._calls.insert(index, call)
        return index + 1

    def remove(self, call_id: str) -> QueuedCall:
        for index, call in enumerate(self._calls):
            if call.call_id == call_id:
                del self._calls[index]
                del self._places[index]
                return call
        raise UnknownId(f"call {call_id} is not queued in {self.group.id}")

    def position(self, call_id: str) -> int:
        """1-based position of the call, counting every call ahead of it."""
        for index, call in enumerate(self._calls):
            if call.call_id == call_id:
                return index + 1
        raise UnknownId(f"call {call_id} is not queued in {self.group.id}")
