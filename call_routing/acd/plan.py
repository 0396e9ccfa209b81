"""From settings to seat groups and agents, checked at start-up (pure).

:func:`check_plan` returns every problem as a clear English message naming the
setting key and the fix; :func:`plan_from_settings` maps the settings to
:class:`SeatGroup` and :class:`Agent` values (refusing a plan with problems);
:func:`build_acd` makes the :class:`Acd`.

The seat groups are the taxonomy's (those calls are routed to), the general
group, and any configured under ``[seat_groups.<id>]``. A taxonomy group with
no ``[seat_groups.<id>]`` entry and no agents of its own falls back to the
general group (an implicit ``backup_groups = [general]``, ``backup_after_s =
0``); only configured groups and the general group itself must have agents or a
backup path to some. Opening-hours windows may overlap (the node is open in
their union); group windows switching the same group may not, as that is
almost always a mistake in one of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from call_routing.acd.agents import Agent, OfferPolicy
from call_routing.acd.dispatcher import Acd, CallbackPolicy
from call_routing.acd.queues import SeatGroup, Strategy
from call_routing.acd.windows import Schedule, ScheduleState, WindowLike, clock_text, span
from sip_config.acd_settings import AcdSection, AgentSettings, SeatGroupSettings


class PlanSettings(Protocol):
    """The parts of ``sip_config.Settings`` a plan reads."""

    @property
    def acd(self) -> AcdSection: ...
    @property
    def agents(self) -> Sequence[AgentSettings]: ...
    @property
    def seat_groups(self) -> Mapping[str, SeatGroupSettings]: ...


class PlanError(ValueError):
    """The settings make no workable plan; ``problems`` lists each one."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Plan:
    groups: tuple[SeatGroup, ...]
    agents: tuple[Agent, ...]
    offer_policy: OfferPolicy
    callback_policy: CallbackPolicy
    schedule: Schedule
    implicit_fallback: tuple[str, ...]  # taxonomy groups served by the general group


def _group_ids(settings: PlanSettings, taxonomy_groups: Iterable[str], general: str) -> list[str]:
    return list(dict.fromkeys([*taxonomy_groups, general, *settings.seat_groups]))


def _members(settings: PlanSettings) -> dict[str, list[AgentSettings]]:
    members: dict[str, list[AgentSettings]] = {}
    for agent in settings.agents:
        for group_id in dict.fromkeys(agent.seat_groups):
            members.setdefault(group_id, []).append(agent)
    return members


def _backups(
    settings: PlanSettings, groups: Sequence[str], general: str, members: Mapping[str, list]
) -> dict[str, tuple[str, ...]]:
    """Each group's backup groups, the implicit fallback included."""
    backups: dict[str, tuple[str, ...]] = {}
    for group_id in groups:
        configured = settings.seat_groups.get(group_id)
        if configured is not None:
            backups[group_id] = tuple(configured.backup_groups)
        elif group_id != general and not members.get(group_id):
            backups[group_id] = (general,)
        else:
            backups[group_id] = ()
    return backups


def check_plan(
    settings: PlanSettings, taxonomy_groups: Iterable[str], general_group: str
) -> list[str]:
    """Every problem with the seat allocation settings (empty: none)."""
    groups = _group_ids(settings, taxonomy_groups, general_group)
    known = set(groups)
    members = _members(settings)
    backups = _backups(settings, groups, general_group, members)
    problems: list[str] = []
    names = ", ".join(groups)
    for index, agent in enumerate(settings.agents):
        for group_id in agent.seat_groups:
            if group_id not in known:
                problems.append(
                    f"agents[{index}] (id {agent.id}).seat_groups names {group_id!r}, which is"
                    f" no seat group: use one of {names}, or add [seat_groups.{group_id}]"
                )
    for group_id, configured in settings.seat_groups.items():
        for backup in configured.backup_groups:
            if backup not in known:
                problems.append(
                    f"seat_groups.{group_id}.backup_groups names {backup!r}, which is no seat"
                    f" group: use one of {names}"
                )
            elif backup == group_id:
                problems.append(
                    f"seat_groups.{group_id}.backup_groups names the group itself: remove it"
                )
        if configured.widen_after_s is not None and not configured.required_skill:
            problems.append(
                f"seat_groups.{group_id}.widen_after_s is set but the group has no"
                " required_skill to widen: set required_skill or remove widen_after_s"
            )
    problems += _loops(backups)
    problems += _unserved(settings, groups, general_group, members, backups)
    problems += _skills(settings, members)
    problems += _windows(settings, known, names)
    return problems


def _loops(backups: Mapping[str, tuple[str, ...]]) -> list[str]:
    problems: list[str] = []
    seen: set[frozenset[str]] = set()

    def walk(path: list[str]) -> None:
        for nxt in backups.get(path[-1], ()):
            if nxt == path[0] and len(path) > 1:
                cycle = frozenset(path)
                if cycle not in seen:
                    seen.add(cycle)
                    shown = " → ".join([*path, nxt])
                    problems.append(
                        f"seat_groups.{path[0]}.backup_groups makes a loop {shown}: remove"
                        f" {nxt} from seat_groups.{path[-1]}.backup_groups (or another link)"
                    )
            elif nxt not in path and nxt in backups:
                walk([*path, nxt])

    for start in backups:
        walk([start])
    return problems


def _unserved(
    settings: PlanSettings,
    groups: Sequence[str],
    general: str,
    members: Mapping[str, list],
    backups: Mapping[str, tuple[str, ...]],
) -> list[str]:
    def served(group_id: str, seen: frozenset[str]) -> bool:
        if members.get(group_id):
            return True
        return any(
            served(other, seen | {other})
            for other in backups.get(group_id, ())
            if other not in seen
        )

    problems = []
    for group_id in groups:
        if group_id != general and group_id not in settings.seat_groups:
            continue  # an implicit group: served when the general group is
        if not served(group_id, frozenset({group_id})):
            problems.append(
                f"seat_groups.{group_id} has no agents and no backup group with agents: add an"
                f' agent with seat_groups = ["{group_id}"] or set'
                f" seat_groups.{group_id}.backup_groups"
            )
    return problems


def _skills(settings: PlanSettings, members: Mapping[str, list[AgentSettings]]) -> list[str]:
    problems = []
    for group_id, configured in settings.seat_groups.items():
        skill = configured.required_skill
        agents = members.get(group_id, [])
        if not skill or not agents:
            continue
        best = max(agent.skills.get(skill, 0) for agent in agents)
        lowest = configured.required_level
        if configured.widen_after_s is not None:
            lowest = min(lowest, configured.widen_to_level)
        if best < lowest:
            has = f"level {best} at most" if best else "it at all"
            problems.append(
                f"seat_groups.{group_id}.required_skill = {skill!r} at level {lowest}, but no"
                f" agent of {group_id} has {has}: give an agent skills.{skill} ="
                f" {configured.required_level}, or lower seat_groups.{group_id}.required_level"
            )
    return problems


def _windows(settings: PlanSettings, known: set[str], names: str) -> list[str]:
    problems = []
    for index, window in enumerate(settings.acd.open_hours):
        if window.seat_groups:
            problems.append(
                f"acd.open_hours[{index}] ({window.name}) lists seat_groups, but opening hours"
                " are for the whole node: move the window to acd.windows"
            )
    windows = settings.acd.windows
    for index, window in enumerate(windows):
        if not window.seat_groups:
            problems.append(
                f"acd.windows[{index}] ({window.name}) switches no seat group: list its"
                " seat_groups or remove it"
            )
        for group_id in window.seat_groups:
            if group_id not in known:
                problems.append(
                    f"acd.windows[{index}] ({window.name}).seat_groups names {group_id!r},"
                    f" which is no seat group: use one of {names}"
                )
    for i, first in enumerate(windows):
        for j in range(i + 1, len(windows)):
            second = windows[j]
            both = [g for g in first.seat_groups if g in second.seat_groups]
            days = [d for d in first.days if d in second.days]
            (start_1, end_1), (start_2, end_2) = span(first), span(second)
            start, end = max(start_1, start_2), min(end_1, end_2)
            if both and days and start < end:
                problems.append(
                    f"acd.windows[{i}] ({first.name}) and acd.windows[{j}] ({second.name}) both"
                    f" switch {', '.join(both)} on ({','.join(days)}"
                    f" {clock_text(start)}–{clock_text(end)}): merge them or make them not overlap"
                )
    return problems


def _uri(agent: AgentSettings, registered_uri: Callable[[str], str] | str) -> str:
    if not agent.password:
        return agent.sip_uri
    if callable(registered_uri):
        return registered_uri(agent.id)
    return f"sip:{agent.id}@{registered_uri}"


def plan_from_settings(
    settings: PlanSettings,
    taxonomy_groups: Iterable[str],
    general_group: str,
    *,
    registered_uri: Callable[[str], str] | str,
) -> Plan:
    """Seat groups, agents and policies from the settings; :class:`PlanError`
    lists every problem :func:`check_plan` finds. An agent with a password is
    reached at ``registered_uri(agent_id)`` (or ``sip:{id}@{registered_uri}``
    when it is a host), one without at their ``sip_uri``."""
    taxonomy_groups = list(taxonomy_groups)
    problems = check_plan(settings, taxonomy_groups, general_group)
    if problems:
        raise PlanError(problems)
    groups = _group_ids(settings, taxonomy_groups, general_group)
    members = _members(settings)
    defaults = SeatGroupSettings()
    seat_groups: list[SeatGroup] = []
    implicit: list[str] = []
    for group_id in groups:
        configured = settings.seat_groups.get(group_id)
        fallback = configured is None and group_id != general_group and not members.get(group_id)
        if fallback:
            implicit.append(group_id)
        s = configured or defaults
        seat_groups.append(
            SeatGroup(
                group_id,
                Strategy(s.strategy),
                s.max_wait_s,
                s.max_length,
                s.wrap_up_s,
                s.ring_timeout_s,
                s.required_skill or None,
                s.required_level,
                s.widen_after_s,
                s.widen_to_level,
                (general_group,) if fallback else tuple(s.backup_groups),
                0.0 if fallback else s.backup_after_s,
            )
        )
    agents = tuple(
        Agent(a.id, a.name or a.id, _uri(a, registered_uri), tuple(a.seat_groups), a.skills)
        for a in settings.agents
    )
    acd = settings.acd
    windows: tuple[WindowLike, ...] = tuple(acd.windows)
    return Plan(
        tuple(seat_groups),
        agents,
        OfferPolicy(max_missed=acd.max_missed),
        CallbackPolicy(retries=acd.callback_retries, retry_s=acd.callback_retry_s),
        Schedule(acd.open_hours, windows),
        tuple(implicit),
    )


def build_acd(
    settings: PlanSettings,
    taxonomy_groups: Iterable[str],
    general_group: str,
    clock_start: float = 0.0,
    *,
    registered_uri: Callable[[str], str] | str,
) -> Acd:
    """The node's :class:`Acd` (every agent logged out), its clock at ``clock_start``."""
    plan = plan_from_settings(
        settings, taxonomy_groups, general_group, registered_uri=registered_uri
    )
    acd = Acd(
        plan.groups,
        plan.agents,
        offer_policy=plan.offer_policy,
        callback_policy=plan.callback_policy,
    )
    acd.tick(clock_start)
    return acd


def apply_schedule(acd: Acd, schedule: Schedule, wall: datetime, now: float) -> ScheduleState:
    """Switch the Acd's groups on and off as ``schedule`` says at wall-clock ``wall``
    (``now`` on the Acd's clock); tick the Acd after it. The hub calls it at
    start-up and again at ``schedule.next_change(wall)``."""
    state = schedule.state_at(wall, (group.id for group in acd.groups()))
    for group in acd.groups():
        acd.set_group_open(group.id, group.id in state.groups_on, now)
    return state
