"""How busy the seat groups are: each group's average handling time (a moving
average over about the last 20 calls), a waiting call's estimated wait, and whether
a new call should be offered a callback instead of queueing."""

from __future__ import annotations

import math
from collections.abc import Mapping

from call_routing.acd.core import AcdCore
from call_routing.acd.queues import SeatGroup

DIVERT_WAIT = "estimated_wait"
DIVERT_LOAD = "calls_per_agent"
DEFAULT_AHT_S = 180.0
_AHT_WINDOW = 20  # the moving average spans about this many calls


class Estimates(AcdCore):
    """The estimates part of :class:`~call_routing.acd.Acd`."""

    _aht: dict[str, float]  # group → average handling time
    _aht_n: dict[str, int]  # group → calls in the average, up to the window

    def aht_s(self, group_id: str) -> float:
        """The group's average handling time (talk plus wrap-up): a moving average
        over about the last 20 calls, seeded with ``default_aht_s``."""
        self._queue(group_id)
        return self._aht[group_id]

    def estimated_wait_s(self, call_id: str, now: float) -> float:
        """How long the call will likely wait still: its position × the group's
        average handling time ÷ the logged-in agents who can take it now (its
        group's agents at its current skill level, plus its backup groups' agents
        once it may go to them; an agent in two of these counts twice). Infinite
        when no logged-in agent can take it. ``now`` is checked, not used: the
        estimate looks at the state as it is."""
        self._advance(now)
        entry = self._waiting(call_id)
        position = self._queues[entry.group.id].position(call_id)
        serving = self._serving(entry.group, entry.needs, entry.backup)
        return position * self._aht[entry.group.id] / serving if serving else math.inf

    def should_divert(
        self,
        group_id: str,
        now: float,
        *,
        wait_above_s: float | None = None,
        calls_per_agent_above: float | None = None,
    ) -> str | None:
        """Whether a new call for ``group_id`` should be offered a callback (or a
        voice message) instead of queueing: :data:`DIVERT_WAIT` when its
        estimated wait (as :meth:`estimated_wait_s`, at the back of the queue)
        is above ``wait_above_s``, :data:`DIVERT_LOAD` when the calls holding a
        place per logged-in agent who could take it are above
        ``calls_per_agent_above``, else ``None``. Backup groups count when the
        group overflows to them at once (``backup_after_s`` 0, or it is off)."""
        self._advance(now)
        group = self._queue(group_id).group
        waiting = len(self._queues[group_id])
        backup = group.has_backup and (
            group.backup_after_s == 0 or not self._open[group_id] or group_id in self._backup_now
        )
        serving = self._serving(group, group.needs(), backup)
        if wait_above_s is not None:
            wait = (waiting + 1) * self._aht[group_id] / serving if serving else math.inf
            if wait > wait_above_s:
                return DIVERT_WAIT
        if calls_per_agent_above is not None:
            load = waiting / serving if serving else math.inf
            if load > calls_per_agent_above:
                return DIVERT_LOAD
        return None

    # ----- inside: estimates ---------------------------------------------------

    def _serving(self, group: SeatGroup, needs: Mapping[str, int], backup: bool) -> int:
        serving = 0
        if self._open[group.id]:
            level = needs.get(group.required_skill, 0) if group.required_skill else 0
            serving += sum(self._logged_in[group.id][level:])
        if backup:
            for other in group.backup_groups:
                if self._open[other]:
                    serving += sum(self._logged_in[other])
        return serving

    def _observe(self, group_id: str, handling_s: float) -> None:
        n = self._aht_n[group_id] = min(self._aht_n[group_id] + 1, _AHT_WINDOW)
        self._aht[group_id] += (handling_s - self._aht[group_id]) / n
