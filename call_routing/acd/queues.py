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

    Overflow, each keeping the caller's place: after ``widen_after_s`` of waiting
    a call may go to the group's agents with ``widen_to_level`` or more in the
    required skill; after ``backup_after_s`` to the agents of ``backup_groups``
    (who then need only the call's own extra skills, not this group's).
    ``max_length`` counts every call holding a place, callbacks included.
    """

    id: str
    strategy: Strategy = Strategy.LONGEST_IDLE
    max_wait_s: float | None = None
    max_length: int | None = None
    wrap_up_s: float = 0.0
    ring_timeout_s: float = 20.0
    required_skill: str | None = None
    required_level: int = MIN_LEVEL
    widen_after_s: float | None = None
    widen_to_level: int = MIN_LEVEL
    backup_groups: tuple[str, ...] = ()
    backup_after_s: float | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("seat group: id must not be empty")
        object.__setattr__(self, "backup_groups", tuple(self.backup_groups))
        if self.widen_after_s is not None and self.widen_after_s < 0:
            raise ValueError(f"seat group {self.id}: widen_after_s must not be negative")
        if self.backup_after_s is not None and self.backup_after_s < 0:
            raise ValueError(f"seat group {self.id}: backup_after_s must not be negative")
        if self.backup_groups and self.backup_after_s is None:
            raise ValueError(f"seat group {self.id}: backup_groups needs backup_after_s")
        if self.id in self.backup_groups:
            raise ValueError(f"seat group {self.id}: cannot be its own backup group")
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
        if not MIN_LEVEL <= self.widen_to_level <= self.required_level:
            raise ValueError(
                f"seat group {self.id}: widen_to_level {self.widen_to_level}"
                f" must be from {MIN_LEVEL} to required_level {self.required_level}"
            )

    def needs(self) -> dict[str, int]:
        """The skills every call of this group needs."""
        return {self.required_skill: self.required_level} if self.required_skill else {}

    @property
    def widens(self) -> bool:
        """Whether waiting calls are offered to lower skill levels after a while."""
        return (
            self.widen_after_s is not None
            and self.required_skill is not None
            and self.widen_to_level < self.required_level
        )

    @property
    def has_backup(self) -> bool:
        return bool(self.backup_groups) and self.backup_after_s is not None


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
    """The waiting calls of one seat group, in the order they are served.

    Kept sorted by place; adding, removing and finding a position are
    O(log n) searches (plus a list shift).
    """

    def __init__(self, group: SeatGroup) -> None:
        self.group = group
        self._calls: list[QueuedCall] = []
        self._places: list[tuple[int, float, int]] = []
        self._by_id: dict[str, QueuedCall] = {}

    def __len__(self) -> int:
        return len(self._calls)

    def __iter__(self) -> Iterator[QueuedCall]:
        return iter(tuple(self._calls))

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._by_id

    def get(self, call_id: str) -> QueuedCall | None:
        return self._by_id.get(call_id)

    def add(self, call: QueuedCall, *, keep_place: bool = False) -> int:
        """Put ``call`` in its place; returns its 1-based position. ``keep_place``
        puts back a call that never gave up its place (a callback being retried),
        even when the queue is at its maximum length."""
        if call.group_id != self.group.id:
            raise ValueError(f"call {call.call_id} is for {call.group_id}, not {self.group.id}")
        if call.call_id in self._by_id:
            raise ValueError(f"call {call.call_id} is already queued in {self.group.id}")
        limit = self.group.max_length
        if not keep_place and limit is not None and len(self._calls) >= limit:
            raise QueueFull(f"seat group {self.group.id}: queue holds its maximum of {limit}")
        index = bisect.bisect_right(self._places, call.place)
        self._places.insert(index, call.place)
        self._calls.insert(index, call)
        self._by_id[call.call_id] = call
        return index + 1

    def _index(self, call_id: str) -> int:
        call = self._by_id.get(call_id)
        if call is None:
            raise UnknownId(f"call {call_id} is not queued in {self.group.id}")
        index = bisect.bisect_left(self._places, call.place)
        while self._calls[index].call_id != call_id:  # equal places: the same key twice
            index += 1
        return index

    def remove(self, call_id: str) -> QueuedCall:
        index = self._index(call_id)
        call = self._calls.pop(index)
        del self._places[index]
        del self._by_id[call_id]
        return call

    def position(self, call_id: str) -> int:
        """1-based position of the call, counting every call ahead of it."""
        return self._index(call_id) + 1
