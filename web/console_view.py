"""The hub as the web sees it: :class:`ConsoleView`, what ``WebContext.console``
holds.  The hub's assembly hands in its implementation (``ivr.hub.console.Console``);
the web never imports the hub, and tests may hand in a fake with the methods
their routes use.

Everything crosses as plain data: str, int, float, bool and dicts and lists of
them (JSON-ready), keys as each method says.  The acting methods (``async``)
answer "" when done, else a sentence saying why not.
"""

from __future__ import annotations

from typing import Any, Protocol


class ConsoleView(Protocol):
    # ---- the node ---------------------------------------------------------------------
    def has_agents(self) -> bool:
        """Whether the node has agents (seat groups, the ACD); without them the agent
        and supervisor methods raise ``LookupError``."""
        ...

    def workers(self) -> dict[str, dict[str, Any]]:
        """Each media worker's last status as it reported it: ``state`` (up, or what
        it last said), ``calls`` (the calls it holds), ``asr_frames_dropped``."""
        ...

    def asr_services(self) -> dict[str, dict[str, Any]]:
        """Each ASR service (by name) as it last reported: ``streams``, ``capacity``."""
        ...

    def asr_latencies(self) -> list[float]:
        """End of speech to transcript (s), over the last 500 utterances, as they came."""
        ...

    def agent_counts(self) -> dict[str, int]:
        """Agents by status (``available``, ``on_call`` …); {} without agents."""
        ...

    def queue_levels(self) -> dict[str, dict[str, Any]]:
        """Per seat group: ``waiting`` (calls), ``service_level`` ``{"today": …, "30m": …}``
        (share answered within 15 s, None before any call); {} without agents."""
        ...

    def understand(self, text: str) -> dict[str, Any] | None:
        """The hub's understanding of a citizen's words in its plain form (request
        type, domain, category, departments, emergency, slots, summary …); None when
        the node has no model.  Blocking: call it in a thread."""
        ...

    # ---- agents -------------------------------------------------------------------------
    def agent_view(self, agent_id: str) -> dict[str, Any]:
        """The agent's state (``status``, ``reason``, ``since_s`` …) and ``call``: the call
        offered to or connected with them (``call_id``, ``caller``, ``step``,
        ``seat_group``, ``ticket``, ``marked``, ``understanding``, ``transcript``), or
        None.  ``LookupError`` for no such agent."""
        ...

    def agent_call_id(self, agent_id: str) -> str:
        """The call offered to or connected with the agent now, "" when none;
        ``LookupError`` for no such agent."""
        ...

    def agent_calls(self, agent_id: str) -> list[dict[str, Any]]:
        """The calls the agent took (``agent_id`` theirs) or is offered now: those in
        progress, then finished ones newest first; each with ``call_id``, ``caller``,
        ``seat_group``, ``ticket``, ``step``, ``end_reason``, ``agent_id`` and from the
        understanding ``request_type``, ``domain``, ``summary``.  ``LookupError`` for
        no such agent."""
        ...

    def caller_priority(self, call_id: str) -> int:
        """The caller's priority (``call_routing.acd.CallerPriority``; any int, higher
        first): as queued while the call waits or rings, else the hub's standing rule
        (emergency-adjacent, then marked or listed callers, else normal)."""
        ...

    def seat_groups(self) -> list[str]:
        """The seat groups' ids, in the plan's order."""
        ...

    async def agent_command(self, agent_id: str, action: str, reason: str = "") -> str:
        """``action``: login, logout, ready, not_ready (with ``reason``), wrap_up_done."""
        ...

    async def transfer(self, agent_id: str, group: str) -> str:
        """The agent hands their connected caller to another seat group (转接)."""
        ...

    # ---- supervisors ----------------------------------------------------------------------
    def wallboard(self) -> dict[str, Any]:
        """``at``, ``node_open``, ``callback_offer``, ``callbacks_waiting`` and ``groups``:
        per seat group its queue, service level, abandonment, agents, staffing advice
        and switches (``backup_now``, ``forced``)."""
        ...

    async def set_callback_offer(self, on: bool) -> str:
        """Offer callers waiting long a callback (node-wide), or stop."""
        ...

    async def set_backup_now(self, group: str, on: bool) -> str:
        """Overflow ``group`` to its backup groups at once (or stop doing so)."""
        ...

    async def force_group(self, group: str, on: bool | None) -> str:
        """Switch an extra seat group on or off now; ``None``: back to its windows."""
        ...

    # ---- 回访 ---------------------------------------------------------------------
    def verification_status(self) -> dict[str, Any] | None:
        """The node's survey calls: ``paused``, ``calls`` on the line, ``max_calls``;
        None when 回访 calls are off (``verification.enabled``)."""
        ...

    async def call_for_verification(self, task_id: int, agent_id: str) -> str:
        """Ring the verifier's softphone (``agent_id``, one of ``[[agents]]``), then
        the citizen of 回访 task ``task_id``; the call is recorded onto the task."""
        ...
