"""What a soak measured: each call's life from SIPp's own logs, cut into intervals.

Pure functions over recorded text and samples (no processes, no clocks);
``bench/soak.py`` runs the load and calls these.

Where each figure comes from, and why:

- The caller scenario is ``tests/sipp/caller_talks_either_hangs_up.xml`` with four
  ``<log>`` actions written in (``soak_scenario_text``): when each call starts, is
  answered (200), is refused (503) and ends.  SIPp writes them with its own clock
  (``-trace_logs``, flushed as it runs), so the counts per interval are SIPp's,
  not the node's; aborted calls come from its ``-trace_err`` log
  (``bench.ramp_summary.parse_error_log``), with the reason.
- ``stuck``: calls SIPp has had open longer than the hold plus a margin (at the end
  of each interval, and in all: every call that was ever open that long).  A call
  the node never answers, or never lets go, shows up here while SIPp still waits.
- Per interval: events counted in the interval they happened in, so the rows add
  up to the totals.  Answer latency is SIPp's INVITE → 200 per call; the node's
  own figures (the hub's answer latency, calls it shed) come from the ``admission``
  key of its status file when the node writes one.
- Memory stays flat when each process group's mean over the last third of the load
  is within 5 % of its mean over the first third (or within 2 MB: a tiny process
  such as the broker moves by more than 5 % of itself in noise).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.ramp_summary import SippError, held_call_text

LOG_TAG = "soak"
EVENTS = ("start", "answered", "refused", "end")
FLAT_TOLERANCE = 0.05
# A change this small is noise whatever its share (Mosquitto's whole USS is about 2 MB).
FLAT_FLOOR_MB = 2.0

# Where each event's <log> action goes in the caller scenario: (pattern, before or after).
_ANCHORS = {
    "start": (re.compile(r"<scenario[^>]*>"), "after"),
    "answered": (re.compile(r'<recv response="200" rtd="true"[^>]*/>'), "after"),
    "refused": (re.compile(r'<label id="busy"/>'), "after"),
    "end": (re.compile(r'<label id="done"/>'), "after"),
}
_LINE = re.compile(rf"^{LOG_TAG} (\w+) (\S+) .*\t(\d+(?:\.\d+)?)\s*$")


def soak_scenario_text(text: str, hold_s: float) -> str:
    """The caller scenario with its hold set and a ``<log>`` action at each event.

    Each anchor must occur exactly once: a scenario that changed shape is an
    error here, never a soak that silently counts nothing."""
    text = held_call_text(text, hold_s)
    # A citizen per call, as in a real peak (one number for all would make every
    # ticket a repeat of the first and measure the duplicate check, not the node).
    text = text.replace("sip:13800138000@", "sip:1390[call_number]@")
    for event, (pattern, _) in _ANCHORS.items():
        found = pattern.findall(text)
        if len(found) != 1:
            raise ValueError(f"caller scenario: {len(found)} places for the {event!r} log")
        action = (
            f'\n  <nop><action><log message="{LOG_TAG} {event} [call_id] [timestamp]"/>'
            "</action></nop>"
        )
        text = pattern.sub(lambda match, action=action: match[0] + action, text, count=1)
    return text


@dataclass
class CallLife:
    """One call as SIPp saw it (epoch seconds; ``None``: did not happen)."""

    call_id: str
    start: float
    answered: float | None = None
    refused: float | None = None
    ended: float | None = None
    failed: float | None = None
    reason: str | None = None

    @property
    def closed(self) -> float | None:
        """When SIPp let go of the call (it reached the end, or was aborted)."""
        times = [t for t in (self.ended, self.failed) if t is not None]
        return min(times) if times else None

    def open_at(self, moment: float) -> bool:
        closed = self.closed
        return self.start <= moment and (closed is None or closed > moment)

    def outcome(self) -> str:
        """``refused``, ``failed``, ``answered`` (completed) or ``open``."""
        if self.refused is not None:
            return "refused"
        if self.failed is not None:
            return "failed"
        if self.answered is not None and self.ended is not None:
            return "answered"
        return "open"


def call_lives(log_text: str, errors: Iterable[SippError] = ()) -> dict[str, CallLife]:
    """Every call the log saw start, with its events and any abort from the error log."""
    calls: dict[str, CallLife] = {}
    for line in log_text.splitlines():
        match = _LINE.match(line)
        if not match or match[1] not in EVENTS:
            continue
        event, call_id, moment = match[1], match[2], float(match[3])
        if event == "start":
            calls.setdefault(call_id, CallLife(call_id, moment))
        elif call_id in calls:
            attribute = "ended" if event == "end" else event
            if getattr(calls[call_id], attribute) is None:
                setattr(calls[call_id], attribute, moment)
    for error in errors:
        call = calls.get(error.call_id)
        if call is not None and call.failed is None:
            call.failed, call.reason = error.t, error.reason
    return calls


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (``share`` 0..1); ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


@dataclass(frozen=True)
class Interval:
    """Calls in ``[start, end)``; ``stuck`` and ``open`` as they stood at ``end``."""

    start: float
    end: float
    offered: int
    answered: int
    refused: int
    failed: int
    stuck: int
    open: int
    answer_p50_s: float | None
    answer_p99_s: float | None
    failed_by_reason: dict[str, int] = field(default_factory=dict)


def _between(moment: float | None, start: float, end: float) -> bool:
    return moment is not None and start <= moment < end


def stuck_at(calls: Iterable[CallLife], moment: float, overdue_s: float) -> int:
    """Calls open at ``moment`` that started more than ``overdue_s`` before it."""
    return sum(1 for c in calls if c.open_at(moment) and moment - c.start > overdue_s)


def intervals(
    calls: Mapping[str, CallLife], start: float, end: float, step_s: float, overdue_s: float
) -> list[Interval]:
    """Rows of ``step_s`` seconds from ``start`` until ``end`` (the last may be shorter)."""
    rows = []
    lives = list(calls.values())
    count = max(math.ceil((end - start) / step_s - 1e-9), 1)
    for index in range(count):
        low = start + index * step_s
        high = min(low + step_s, end) if index == count - 1 else low + step_s
        answered = [c for c in lives if _between(c.answered, low, high)]
        latencies = [c.answered - c.start for c in answered if c.answered is not None]
        failed = [c for c in lives if _between(c.failed, low, high)]
        reasons: dict[str, int] = {}
        for call in failed:
            reasons[call.reason or "aborted"] = reasons.get(call.reason or "aborted", 0) + 1
        rows.append(
            Interval(
                start=low,
                end=high,
                offered=sum(1 for c in lives if _between(c.start, low, high)),
                answered=len(answered),
                refused=sum(1 for c in lives if _between(c.refused, low, high)),
                failed=len(failed),
                stuck=stuck_at(lives, high, overdue_s),
                open=sum(1 for c in lives if c.open_at(high)),
                answer_p50_s=percentile(latencies, 0.50),
                answer_p99_s=percentile(latencies, 0.99),
                failed_by_reason=reasons,
            )
        )
    return rows


@dataclass(frozen=True)
class Totals:
    """The whole soak.  ``answered``: calls that got a 200 (``completed`` of them ended
    normally); ``stuck``: calls ever open longer than the hold plus the margin;
    ``open``: still open when the soak ended."""

    offered: int
    answered: int
    completed: int
    refused: int
    failed: int
    failed_after_answer: int
    stuck: int
    open: int
    answer_p50_s: float | None
    answer_p99_s: float | None
    failed_by_reason: dict[str, int]

    def accounted(self) -> bool:
        """Every offered call ended exactly one way (answered, refused, failed) or is open."""
        return self.offered == self.completed + self.refused + self.failed + self.open


def totals(calls: Mapping[str, CallLife], end: float, overdue_s: float) -> Totals:
    lives = [c for c in calls.values() if c.start < end]
    outcomes = [c.outcome() for c in lives]
    latencies = [c.answered - c.start for c in lives if c.answered is not None]
    reasons: dict[str, int] = {}
    for call in lives:
        if call.failed is not None:
            reasons[call.reason or "aborted"] = reasons.get(call.reason or "aborted", 0) + 1
    return Totals(
        offered=len(lives),
        answered=sum(1 for c in lives if c.answered is not None),
        completed=outcomes.count("answered"),
        refused=outcomes.count("refused"),
        failed=outcomes.count("failed"),
        failed_after_answer=sum(1 for c in lives if c.failed is not None and c.answered),
        stuck=sum(1 for c in lives if ((c.closed or end) - c.start) > overdue_s),
        open=outcomes.count("open"),
        answer_p50_s=percentile(latencies, 0.50),
        answer_p99_s=percentile(latencies, 0.99),
        failed_by_reason=dict(sorted(reasons.items(), key=lambda item: -item[1])),
    )


def rows_add_up(rows: Iterable[Interval], total: Totals) -> bool:
    """The per-interval counts sum to the totals (offered, answered, refused, failed)."""
    rows = list(rows)
    return (
        sum(r.offered for r in rows) == total.offered
        and sum(r.answered for r in rows) == total.answered
        and sum(r.refused for r in rows) == total.refused
        and sum(r.failed for r in rows) == total.failed
    )


def mean_of(samples: Iterable[Mapping[str, Any]], key: str, start: float, end: float) -> Any:
    """Mean of each group in ``samples[i][key]`` (a ``{group: value}``) over samples with
    ``start <= t < end``; ``{}`` if none."""
    chosen = [s[key] for s in samples if start <= s["t"] < end and key in s]
    groups = sorted({g for sample in chosen for g in sample})
    return {g: sum(sample.get(g, 0.0) for sample in chosen) / len(chosen) for g in groups if chosen}


def memory_flatness(
    samples: Sequence[Mapping[str, Any]],
    start: float,
    end: float,
    key: str = "memory_mb",
    tolerance: float = FLAT_TOLERANCE,
    floor_mb: float = FLAT_FLOOR_MB,
) -> dict[str, dict[str, Any]]:
    """Per group: mean memory over the first and the last third of ``start..end``, the
    change in percent, and whether it stayed within ``tolerance`` (or ``floor_mb``)."""
    third = (end - start) / 3
    first = mean_of(samples, key, start, start + third)
    last = mean_of(samples, key, end - third, end + 1e-9)
    result = {}
    for group in sorted(set(first) & set(last)):
        before, after = first[group], last[group]
        change = (after - before) / before if before else 0.0
        result[group] = {
            "first_third_mb": round(before, 1),
            "last_third_mb": round(after, 1),
            "change_pct": round(100 * change, 1),
            "flat": abs(change) <= tolerance or abs(after - before) <= floor_mb,
        }
    return result


@dataclass(frozen=True)
class Probe:
    """One probe call placed after the load: when, and what became of it."""

    placed: float
    outcome: str  # "answered", "refused", "failed" or "open"
    answered: float | None = None


def recovery(load_stopped: float, probes: Sequence[Probe]) -> dict[str, Any]:
    """The first probe's outcome, and how long after the load stopped a probe was
    answered (``None``: none was)."""
    answered = next((p for p in probes if p.answered is not None), None)
    return {
        "probes": len(probes),
        "first_probe": probes[0].outcome if probes else None,
        "first_probe_placed_after_s": round(probes[0].placed - load_stopped, 2) if probes else None,
        "answered": answered is not None,
        "recovered_in_s": (
            round(answered.answered - load_stopped, 2)
            if answered is not None and answered.answered is not None
            else None
        ),
    }


_HUB_PERCENTILE = re.compile(r"hub_(p\d+)_s")


def admission_row(
    previous: Mapping[str, Any] | None, current: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The node's own view for one interval from its ``admission`` status (``{}`` when
    the node does not write one): its state, the hub's answer latency, and calls it
    refused in the interval (the difference of its cumulative count).

    The hub's latency is read in either shape a node writes it: a ``hub_latency_s``
    mapping (``{"p50": …, "p99": …, "samples": …}``) or flat ``hub_p90_s``-style keys;
    ``hub_latency_s`` in the row maps ``"p50"``/``"p90"``/… to seconds."""
    if not current:
        return {}
    nested = dict(current.get("hub_latency_s") or {})
    samples = nested.pop("samples", None)
    latency = {k: v for k, v in nested.items() if isinstance(v, int | float) or v is None}
    for key, value in current.items():
        if match := _HUB_PERCENTILE.fullmatch(key):
            latency[match[1]] = value
    refused_total = current.get("refused_total")
    before = (previous or {}).get("refused_total")
    return {
        "state": current.get("state"),
        "admit_pct": current.get("admit_pct"),
        "reason": current.get("reason"),
        "limit_per_s": current.get("limit_per_s"),
        "hub_latency_s": dict(sorted(latency.items(), key=lambda item: int(item[0][1:]))),
        "hub_samples": samples,
        "cpu": current.get("cpu"),
        "refused_total": refused_total,
        "refused": (
            refused_total - before
            if isinstance(refused_total, int) and isinstance(before, int)
            else refused_total
        ),
        "refused_by_cause": current.get("refused"),
    }


def node_outcomes(hub_log_lines: Iterable[str]) -> dict[str, Any]:
    """What the node made of the calls, from the hub's log: each call's record
    (``call.transcript``) says whether the caller's words were understood, or why a
    human was offered instead (``asr_unavailable``: the ASR service shed the turn)."""
    calls = understood = tickets = 0
    offered: Counter[str] = Counter()
    for line in hub_log_lines:
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("msg") == "call.transcript":
            calls += 1
            understood += bool(record.get("understood"))
            if record.get("agent_offered"):
                offered[str(record["agent_offered"])] += 1
        elif record.get("msg") == "ticket.drafted":
            tickets += 1
    return {
        "calls": calls,
        "understood": understood,
        "tickets": tickets,
        "human_offered": dict(offered.most_common()),
    }
