"""The supervisor's side of admission control: once a second, read what the node
measures, decide the share of new calls to admit (:mod:`ivr.node.admission`),
and set it in Kamailio, which refuses the rest with 503 and Retry-After.

Kamailio counts every call it refuses, by why (:data:`~sip_config.kamailio.SHED_STATS`);
those counters are read over its control socket and reported in the node's
status, so `hotline status`, ``/metrics`` and the wallboard can say how many
callers the node turned away and since when it is shedding.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psutil

from ivr.node.admission import Admission, AdmissionPolicy, Reading
from ivr.node.logs import fields
from sip_config.kamailio import SHED_STATS

log = logging.getLogger("supervisor")

Ctl = Callable[..., Awaitable[tuple[bool, str]]]  # kamcmd: (ok, output)
LOAD_FRESH_S = 3.0  # a hub.load older than this says nothing about the hub now
REAPPLY_S = 10.0  # the share is set again this often (a restarted Kamailio forgot it)


def parse_statistics(output: str) -> dict[str, int]:
    """``kamcmd stats.get_statistics …`` output (``script:shed_rate = 3`` lines)."""
    found = {}
    for match in re.finditer(r"^\s*(?:\w+:)?(\w+)\s*=\s*(\d+)\s*$", output, re.MULTILINE):
        found[match.group(1)] = int(match.group(2))
    return found


class Shedder:
    def __init__(
        self,
        ctl: Ctl,
        policy: AdmissionPolicy,
        clock: Callable[[], float] = time.monotonic,
        cpu: Callable[[], float] | None = None,
        cpu_unniced: Callable[[], float | None] | None = None,
    ) -> None:
        self.ctl = ctl
        self.admission = Admission(policy)
        self.clock = clock
        self.cpu = cpu or (lambda: psutil.cpu_percent(interval=None) / 100)
        self.cpu_unniced = cpu_unniced or UnnicedCpu()
        self.refused: dict[str, int] = {why: 0 for why in SHED_STATS}
        self._base: dict[str, int] = {}  # counters of an earlier Kamailio (restarted)
        self._seen: dict[str, int] = {}
        self._hub_load: tuple[float, dict] | None = None
        self._applied: tuple[int, float] | None = None  # (share, when)
        self._cpu = 0.0
        self._cpu_unniced: float | None = None
        self._hub_p90: float | None = None
        self._hub_lag: float | None = None

    def hub_load(self, data: dict) -> None:
        self._hub_load = (self.clock(), data)

    async def step(self) -> int:
        """One reading → the share admitted; set in Kamailio when it changed."""
        now = self.clock()
        slow = await self._read_refusals()
        fresh = self._hub_load is not None and now - self._hub_load[0] < LOAD_FRESH_S
        load = self._hub_load[1] if fresh and self._hub_load is not None else {}
        self._hub_p90 = _figure(load.get("p90_s"))
        self._hub_lag = _figure(load.get("lag_p90_s"))
        self._cpu = max(0.0, min(1.0, self.cpu()))
        self._cpu_unniced = self.cpu_unniced()
        before = self.admission.admit_pct
        share = self.admission.update(
            Reading(
                at=now,
                hub_p90_s=self._hub_p90,
                hub_lag_p90_s=self._hub_lag,
                hub_stale=int(load.get("stale", 0) or 0),
                hub_slow_refusals=slow,
                cpu=self._cpu,
                cpu_unniced=self._cpu_unniced,
                calls=_count(load.get("calls")),
                answered_per_s=_per_second(load.get("answered"), load.get("window_s")),
            )
        )
        if share != before:
            self._log_change(before, share)
        applied = self._applied
        if applied is None or applied[0] != share or now - applied[1] >= REAPPLY_S:
            ok, output = await self.ctl("pv.shvSet", "admit_pct", "int", str(share))
            if ok:
                self._applied = (share, now)
            else:
                log.warning("could not set Kamailio's admission", extra=fields(output=output))
        return share

    async def _read_refusals(self) -> int:
        """Update the refusal counts; return the new "hub too slow" refusals."""
        ok, output = await self.ctl("stats.get_statistics", *SHED_STATS.values())
        if not ok:
            return 0
        counters = parse_statistics(output)
        slow = 0
        for why, name in SHED_STATS.items():
            value = counters.get(name)
            if value is None:
                continue
            previous = self._seen.get(name, 0)
            if value < previous:  # Kamailio restarted: its counters start from 0
                self._base[name] = self._base.get(name, 0) + previous
                previous = 0
            if why == "hub_slow":
                slow = value - previous
            self._seen[name] = value
            self.refused[why] = self._base.get(name, 0) + value
        return slow

    def _log_change(self, before: int, share: int) -> None:
        if share < before:
            log.warning(
                "node saturated: admitting fewer new calls",
                extra=fields(admit_pct=share, was=before, why=self.admission.reason),
            )
        elif share >= 100:
            log.info("node no longer saturated: admitting every call", extra=fields(admit_pct=100))

    def status(self) -> dict[str, Any]:
        """The ``admission`` part of the node's status."""
        return {
            "state": self.admission.state,
            "admit_pct": self.admission.admit_pct,
            "reason": self.admission.reason,
            "hub_p90_s": self._hub_p90,
            "hub_lag_p90_s": self._hub_lag,
            "cpu": round(self._cpu, 3),
            "cpu_unniced": None if self._cpu_unniced is None else round(self._cpu_unniced, 3),
            "ceiling_calls": self.admission.ceiling,
            "refused": dict(self.refused),
            "refused_total": sum(self.refused.values()),
        }


class UnnicedCpu:
    """The host's CPU busy outside niced processes since the last call, 0-1 (None at
    the first call): user, system and interrupt time, not ``nice``, idle or I/O wait."""

    def __init__(self) -> None:
        self._last: Any = None

    def __call__(self) -> float | None:
        now = psutil.cpu_times()
        last, self._last = self._last, now
        if last is None:
            return None
        spent = {  # guest time is already inside user and nice
            name: getattr(now, name) - getattr(last, name)
            for name in now._fields
            if not name.startswith("guest")
        }
        total = sum(spent.values())
        if total <= 0:
            return None
        busy = sum(spent.get(name, 0.0) for name in ("user", "system", "irq", "softirq", "steal"))
        return max(0.0, min(1.0, busy / total))


def _per_second(count: object, window_s: object) -> float | None:
    seconds = _figure(window_s)
    number = _count(count)
    return number / seconds if number is not None and seconds else None


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _figure(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
