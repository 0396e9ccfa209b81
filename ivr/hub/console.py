"""The hub as the consoles see it: an agent's state and call, the queues and the
supervisors' overflow switches.

The web routers (same event loop as the hub) call this facade rather than the
hub's internals: it implements ``web.console_view.ConsoleView`` (structurally; the
hub does not import the web).  Every method answers plain JSON-ready data, and
the acting ones return "" when done or a sentence saying why not.  Without agents
(no seating) the node's health and the understanding still answer; the agent and
supervisor methods raise ``LookupError``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from call_routing.acd import AcdError, CallerPriority
from call_routing.staffing import agents_needed
from events import messages as m
from ivr.hub.seating import agent_state

if TYPE_CHECKING:
    from ivr.hub.flow import CallFlow
    from ivr.hub.hub import Hub
    from ivr.hub.seating import Seating

SERVICE_TARGET_S = 15.0  # GB/T 33358: answered within 15 s …
SERVICE_TARGET = 0.95  # … for at least 95 % of calls
AGENT_COMMANDS = {
    "login": m.AGENT_LOGIN,
    "logout": m.AGENT_LOGOUT,
    "ready": m.AGENT_READY,
    "not_ready": m.AGENT_NOT_READY,
    "wrap_up_done": m.AGENT_WRAP_UP_DONE,
}


class Console:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    @property
    def seating(self) -> Seating:
        if self.hub.seating is None:
            raise LookupError("no agents are configured on this node")
        return self.hub.seating

    def has_agents(self) -> bool:
        return self.hub.seating is not None

    # ---- the node -------------------------------------------------------------------
    def workers(self) -> dict[str, dict[str, Any]]:
        """Each media worker's last status as it reported it (state, calls …)."""
        return {worker: dict(status) for worker, status in self.hub.workers.items()}

    def asr_services(self) -> dict[str, dict[str, Any]]:
        """Each ASR service by name (its status topic's) as it last reported."""
        return {topic.split("/")[-2]: dict(status) for topic, status in self.hub.asr.items()}

    def asr_latencies(self) -> list[float]:
        return list(self.hub.asr_latencies)

    def agent_counts(self) -> dict[str, int]:
        """Agents by status; {} without agents."""
        counts: dict[str, int] = {}
        if self.hub.seating is not None:
            for state in self.hub.seating.acd.agents():
                counts[state.status.value] = counts.get(state.status.value, 0) + 1
        return counts

    def queue_levels(self) -> dict[str, dict[str, Any]]:
        """Per seat group: calls waiting, and the share answered within 15 s today and
        in the last 30 minutes (None before any call); {} without agents."""
        seating = self.hub.seating
        if seating is None:
            return {}
        wall = seating.wall_clock()
        periods = {
            "today": wall.replace(hour=0, minute=0, second=0, microsecond=0),
            "30m": wall - timedelta(minutes=30),
        }
        return {
            group.id: {
                "waiting": sum(1 for w in seating.waiting.values() if w.group == group.id),
                "service_level": {
                    period: seating.log.summary(group.id, since).service_level
                    for period, since in periods.items()
                },
            }
            for group in seating.acd.groups()
        }

    def understand(self, text: str) -> dict[str, Any] | None:
        """The hub's understanding of ``text`` as a dict; None without a model (blocking)."""
        if self.hub.understand is None:
            return None
        found: Any = self.hub.understand(text)
        return found.as_dict() if hasattr(found, "as_dict") else found

    # ---- agents ---------------------------------------------------------------------
    def agent_view(self, agent_id: str) -> dict[str, Any]:
        """The agent's state and, while a call is offered or connected, the call:
        caller, what they said, the understanding and the draft ticket number."""
        try:
            state = self.seating.acd.agent(agent_id)
        except AcdError:
            raise LookupError(f"no agent {agent_id}") from None
        view = agent_state(state)
        view["since_s"] = round(max(0.0, self.hub.clock() - state.since), 1)
        view["call"] = self._call(state.call_id) if state.call_id else None
        return view

    def _call(self, call_id: str) -> dict[str, Any] | None:
        flow = self.hub.flows.get(call_id)
        if flow is None:
            return {"call_id": call_id}  # e.g. a callback being dialled
        return {
            "call_id": call_id,
            "caller": flow.caller,
            "step": flow.step.value,
            "seat_group": flow.seat_group,
            "ticket": flow.ticket,
            "marked": flow.marked,
            "understanding": flow.understanding_data(),
            "transcript": [line for line in flow.transcript if line.get("text")],
        }

    def agent_call_id(self, agent_id: str) -> str:
        """The call offered to or connected with the agent now, "" when none."""
        try:
            return self.seating.acd.agent(agent_id).call_id or ""
        except AcdError:
            raise LookupError(f"no agent {agent_id}") from None

    def agent_calls(self, agent_id: str) -> list[dict[str, Any]]:
        """The calls the agent took or is offered now, in progress first, then finished
        ones newest first."""
        current = self.agent_call_id(agent_id)
        return [
            _call_entry(flow)
            for flow in self._flows()
            if flow.agent_id == agent_id or flow.call_id == current
        ]

    def _flows(self) -> Iterator[CallFlow]:
        """Calls in progress, then finished ones newest first."""
        yield from self.hub.flows.values()
        yield from reversed(list(self.hub.finished.values()))

    def caller_priority(self, call_id: str) -> int:
        """As queued while the call waits or rings, else the hub's standing rule;
        normal for a call the hub no longer holds."""
        flow = self.hub.flows.get(call_id)
        if flow is None:
            return CallerPriority.NORMAL
        if self.hub.seating is not None:
            with contextlib.suppress(LookupError):  # the ACD's UnknownId is a LookupError
                for queued in self.hub.seating.acd.queue(flow.seat_group):
                    if queued.call_id == call_id:
                        return int(queued.priority)
        return self.hub.standing_priority(flow)

    def seat_groups(self) -> list[str]:
        return [group.id for group in self.seating.acd.groups()]

    async def agent_command(self, agent_id: str, action: str, reason: str = "") -> str:
        """``action``: login, logout, ready, not_ready (with ``reason``), wrap_up_done."""
        command = AGENT_COMMANDS.get(action)
        if command is None:
            return f"unknown action {action!r}; use {', '.join(AGENT_COMMANDS)}"
        data = {"reason": reason} if reason else {}
        return await self.hub.agent_command(agent_id, command, data)

    async def transfer(self, agent_id: str, group: str) -> str:
        """The agent hands their caller to another seat group (转接)."""
        try:
            state = self.seating.acd.agent(agent_id)
        except (AcdError, LookupError) as exc:
            return str(exc)
        flow = self.hub.flows.get(state.call_id or "")
        if flow is None or self.seating.connected.get(flow.call_id) != agent_id:
            return "no caller is connected to this agent"
        try:
            actions = self.seating.transfer(flow, group, self.hub.clock())
        except ValueError as exc:
            return str(exc)
        await self.hub._act(actions)
        return ""

    # ---- supervisors ------------------------------------------------------------------
    def wallboard(self) -> dict[str, Any]:
        """Per seat group: calls waiting, longest wait, service level at 15 s today
        and in the last 30 minutes, abandonment, agents by state with time in state,
        and how many agents the observed arrivals need for the next half hours."""
        seating = self.seating
        now = self.hub.clock()
        wall = seating.wall_clock()
        midnight = wall.replace(hour=0, minute=0, second=0, microsecond=0)
        half_hour = wall - timedelta(minutes=30)
        groups = []
        for group in seating.acd.groups():
            waiting = [w for w in seating.waiting.values() if w.group == group.id]
            agents = [
                {**agent_state(s), "since_s": round(max(0.0, now - s.since), 1)}
                for s in seating.acd.agents()
                if group.id in s.agent.seat_groups
            ]
            groups.append(
                {
                    "group": group.id,
                    "open": seating.acd.group_open(group.id),
                    "waiting": len(waiting),
                    "longest_wait_s": round(max((now - w.since for w in waiting), default=0.0), 1),
                    "today": asdict(seating.log.summary(group.id, midnight, SERVICE_TARGET_S)),
                    "last_30_min": asdict(
                        seating.log.summary(group.id, half_hour, SERVICE_TARGET_S)
                    ),
                    "agents": agents,
                    "advice": self._advice(group.id, half_hour),
                    "backup_groups": list(group.backup_groups),
                    "backup_now": seating.acd.backup_now(group.id),
                    "forced": seating.forced_groups.get(group.id),
                }
            )
        return {
            "at": wall.isoformat(timespec="seconds"),
            "node_open": seating.open,
            "callback_offer": seating.options.callback,
            "callbacks_waiting": len(seating.callbacks),
            "groups": groups,
        }

    def _advice(self, group: str, since: datetime) -> dict[str, Any]:
        """Erlang C staffing for the next intervals at the rate of the last 30 minutes."""
        seating = self.seating
        calls_per_hour = seating.log.arrivals(group, since) * 2
        aht_s = seating.acd.aht_s(group)
        if calls_per_hour == 0:
            return {"calls_per_hour": 0, "aht_s": round(aht_s), "agents": 0}
        try:
            need = agents_needed(calls_per_hour, aht_s, SERVICE_TARGET_S, SERVICE_TARGET)
        except ValueError:
            return {"calls_per_hour": calls_per_hour, "aht_s": round(aht_s), "agents": None}
        return {
            "calls_per_hour": calls_per_hour,
            "aht_s": round(aht_s),
            "agents": need.agents,
            "service_level": round(need.service_level, 4),
            "asa_s": None if math.isinf(need.asa_s) else round(need.asa_s, 1),
        }

    async def set_callback_offer(self, on: bool) -> str:
        self.seating.set_callback_offer(on)
        return ""

    async def set_backup_now(self, group: str, on: bool) -> str:
        """Overflow ``group`` to its backup groups at once (or stop doing so)."""
        seating = self.seating
        now = self.hub.clock()
        try:
            seating.acd.set_backup_now(group, on, now)
        except (AcdError, ValueError) as exc:
            return str(exc)
        await self.hub._act(seating.tick(now))
        return ""

    async def force_group(self, group: str, on: bool | None) -> str:
        """Switch an extra seat group on or off now; ``None``: back to its windows."""
        seating = self.seating
        now = self.hub.clock()
        try:
            seating.force_group(group, on, now)
        except (AcdError, ValueError) as exc:
            return str(exc)
        await self.hub._act(seating.tick(now))
        return ""

    # ---- 回访 -------------------------------------------------------------------
    def verification_status(self) -> dict[str, Any] | None:
        """The survey calls' state (paused, calls on the line); None when off."""
        surveys = self.hub.surveys
        return surveys.status() if surveys is not None else None

    async def call_for_verification(self, task_id: int, agent_id: str) -> str:
        """A verifier's softphone rings, then the citizen of 回访 task ``task_id``;
        "" when the call is placed, else why not."""
        surveys = self.hub.surveys
        if surveys is None:
            return "回访 calls are off on this node (verification.enabled)"
        uri = self.hub.seating.agent_uris.get(agent_id) if self.hub.seating else None
        if not agent_id or uri is None:
            return f"no softphone for {agent_id or 'this user'}: add it to [[agents]] in node.toml"
        return await surveys.person_call(task_id, agent_id, uri)


def _call_entry(flow: CallFlow) -> dict[str, Any]:
    """A call as the agent's history lists it."""
    understanding = flow.understanding_data() or {}
    return {
        "call_id": flow.call_id,
        "caller": flow.caller,
        "seat_group": flow.seat_group,
        "ticket": flow.ticket,
        "step": flow.step.value,
        "end_reason": flow.end_reason,
        "agent_id": flow.agent_id,
        "request_type": understanding.get("request_type", ""),
        "domain": understanding.get("domain", ""),
        "summary": understanding.get("summary", ""),
    }
