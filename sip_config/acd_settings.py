"""Settings for seat allocation: agents, seat groups, overflow and callbacks.

``[[agents]]`` lists the people answering calls; ``[seat_groups.<id>]`` tunes a
seat group (the taxonomy names the groups calls are routed to); ``[acd]`` holds
the node-wide overflow rules.  With no agents the node runs without seat
allocation: a caller who needs a human is told none is free.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_AGENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
StrategyName = Literal[
    "longest_idle", "round_robin", "fewest_calls", "least_talk_time", "skill_weighted"
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgentSettings(_Section):
    """One agent (话务员).  ``id`` is also the SIP user name their softphone
    registers with, using ``password`` (digest authentication); an agent whose
    phone cannot register gets a fixed ``sip_uri`` instead."""

    id: str
    name: str = ""
    password: str = ""
    sip_uri: str = ""
    seat_groups: list[str] = Field(min_length=1)
    skills: dict[str, int] = {}

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _AGENT_ID.match(value):
            raise ValueError(
                f"{value!r} is no SIP user name: use letters, digits, '.', '_' or '-', e.g. 1001"
            )
        return value

    @field_validator("sip_uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        if value and not re.match(r"^sips?:[^@\s]+@[^\s]+$", value):
            raise ValueError("must look like sip:1001@192.0.2.10:5060")
        return value

    @field_validator("skills")
    @classmethod
    def _levels(cls, value: dict[str, int]) -> dict[str, int]:
        for skill, level in value.items():
            if not 1 <= level <= 5:
                raise ValueError(f"skill {skill!r} = {level}: levels go from 1 to 5")
        return value

    @model_validator(mode="after")
    def _reachable(self) -> AgentSettings:
        if not self.password and not self.sip_uri:
            raise ValueError(
                f"agent {self.id}: set password (the softphone registers with the node) "
                "or sip_uri (a fixed address the node calls)"
            )
        return self


class SeatGroupSettings(_Section):
    """How one seat group (坐席组) queues and offers its calls.

    After ``widen_after_s`` of waiting a call is also offered to agents with a
    lower level (``widen_to_level``) in the group's required skill; after
    ``backup_after_s`` to the agents of ``backup_groups``.  The call keeps its
    place throughout."""

    strategy: StrategyName = "longest_idle"
    max_wait_s: float | None = Field(None, gt=0)
    max_length: int | None = Field(None, ge=1)
    wrap_up_s: float = Field(15.0, ge=0, le=3600)
    ring_timeout_s: float = Field(20.0, gt=0, le=300)
    required_skill: str = ""
    required_level: int = Field(1, ge=1, le=5)
    widen_after_s: float | None = Field(None, ge=0)
    widen_to_level: int = Field(1, ge=1, le=5)
    backup_groups: list[str] = []
    backup_after_s: float | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _order(self) -> SeatGroupSettings:
        if self.backup_groups and self.backup_after_s is None:
            raise ValueError("backup_groups is set: set backup_after_s too (0 for at once)")
        if self.widen_to_level > self.required_level:
            raise ValueError("widen_to_level must not be above required_level")
        return self


class TimeWindow(_Section):
    """A weekly time window, e.g. peak hours or 延时服务 evenings."""

    name: str = Field(min_length=1)
    days: list[Weekday] = list(WEEKDAYS)
    start: time
    end: time
    seat_groups: list[str] = []  # groups switched on only inside the window

    @model_validator(mode="after")
    def _span(self) -> TimeWindow:
        # end = 00:00 is midnight at the end of the day (a window to 24:00).
        if (_seconds(self.end) or 86_400) <= _seconds(self.start):
            raise ValueError(
                f"window {self.name}: end {self.end:%H:%M} must be after start"
                f" {self.start:%H:%M} (00:00 as the end means midnight; split a window"
                " across midnight into two)"
            )
        return self


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


class AcdSection(_Section):
    """Node-wide seat allocation rules (``[acd]``)."""

    max_missed: int = Field(3, ge=1, le=100)  # missed offers in a row → not ready "未接听"
    announce_every_s: float = Field(30.0, ge=0, le=600)  # position and wait; 0: never
    # Callback that keeps the caller's place ("按1预约回电"), offered after this wait.
    callback: bool = True
    callback_offer_after_s: float = Field(45.0, ge=0, le=3600)
    callback_retries: int = Field(2, ge=0, le=10)
    callback_retry_s: float = Field(300.0, gt=0, le=86400)
    callback_ring_s: float = Field(30.0, gt=0, le=300)
    # Where callbacks dial out: a URI with {number}; empty means the gateway the
    # original call came from.
    trunk_uri: str = ""
    # Diversion before queueing: when the estimated wait or the waiting calls per
    # logged-in agent pass these, the caller is offered a callback (or voicemail).
    divert_wait_above_s: float | None = Field(None, gt=0)
    divert_calls_per_agent_above: float | None = Field(None, gt=0)
    # Opening hours; outside them (or with every group closed) callers leave a
    # voice message that becomes a ticket with a callback task.  Empty: 7×24.
    open_hours: list[TimeWindow] = []
    voicemail_max_s: float = Field(120.0, ge=10, le=600)
    # Priority callers (elderly, disabled, …): served before others of the same group,
    # by number list or by a key pressed before they are queued ("" for none).
    priority_numbers: list[str] = []
    priority_key: Literal["", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"] = ""
    # Windows that switch extra seat groups on and off (peak hours, 延时服务).
    windows: list[TimeWindow] = []

    @field_validator("trunk_uri")
    @classmethod
    def _trunk(cls, value: str) -> str:
        if value and not re.match(r"^sips?:[^@\s]*\{number\}[^@\s]*@[^\s]+$", value):
            raise ValueError("must look like sip:{number}@gateway.example (with {number})")
        return value
