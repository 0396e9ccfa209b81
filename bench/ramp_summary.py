"""What a ramp step measured, from SIPp's own statistics and the recordings' manifests.

Pure functions over recorded data (``tests/data/sipp_stats/`` holds real samples):
no processes, no clocks.  ``bench/ramp.py`` runs the steps and calls these.

Where each figure comes from, and why:

- Calls answered and refused: SIPp's ``-trace_counts`` CSV, which counts each
  scenario element once per call (``5_200_Recv``, ``4_503_Recv``) apart from its
  retransmissions.  Not SIPp's ``SuccessfulCall(C)``: the caller scenario
  accepts a 503 (node full) as an outcome, so a refused call reaches the
  scenario's end and counts as successful.  Not the message trace either: it
  holds every copy of a response, and a 503 retransmitted across a late ACK
  appears three times (received, received again, "Dead call ... received").
- Concurrency and the plateau: the ``-trace_stat`` rows' ``CurrentCall`` (calls up
  at each row's ``CurrentTime``), not the step's target and not a window
  guessed from the call rate: CPU and memory are sampled while the measured peak
  held, never while calls were still being set up or torn down.
- Setups per second: answered calls over the seconds SIPp actually took to send
  the INVITEs (``TotalCallCreated`` against ``CurrentTime``), not over
  ``calls / rate`` (SIPp falls behind its target rate on a loaded machine).
- Recordings: a manifest says ``recording`` until its worker finalises it after
  the call; counted only once every answered call's manifest has left that state,
  and whatever was still unfinished, incomplete or missing is reported as such.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ivr.peers.sipp import stat_time

_COUNTER = re.compile(r"^(\d+)_(.+)_(Sent|Recv|Retrans|Timeout|Unexp|Sessions)$")


def _int(row: Mapping[str, str], column: str) -> int:
    try:
        return int(row[column])
    except KeyError:
        raise ValueError(f"SIPp statistics have no {column} column") from None
    except ValueError:
        raise ValueError(f"SIPp statistics: {column} is {row[column]!r}") from None


@dataclass(frozen=True)
class CallOutcomes:
    """How the calls of one SIPp run ended.  ``unfinished``: placed, but neither
    successful nor failed when SIPp stopped (its global timeout cut them off)."""

    placed: int
    answered: int
    refused: int
    failed: int
    unfinished: int

    def clean(self, wanted: int) -> bool:
        """Every one of ``wanted`` calls placed and answered, none refused or failed."""
        return (
            self.placed == wanted
            and self.answered == wanted
            and self.refused == self.failed == self.unfinished == 0
        )


def _counters(counts: Mapping[str, int], message: str, kind: str) -> list[tuple[int, int]]:
    """``(element index, value)`` of every ``<index>_<message>_<kind>`` counter, in
    scenario order."""
    found = []
    for name, value in counts.items():
        match = _COUNTER.match(name)
        if match and match[2] == message and match[3] == kind:
            found.append((int(match[1]), value))
    return sorted(found)


def call_outcomes(stats: Mapping[str, str], counts: Mapping[str, int]) -> CallOutcomes:
    """Outcomes from the last ``-trace_stat`` row and the ``-trace_counts`` counters
    of a scenario that sends one INVITE per call: answered is the first 200 received
    after it (a later one answers the BYE), refused every 503 received."""
    invites = _counters(counts, "INVITE", "Sent")
    if not invites:
        raise ValueError("SIPp counts have no INVITE sent: was SIPp run with -trace_counts?")
    first_invite = invites[0][0]
    answers = [value for index, value in _counters(counts, "200", "Recv") if index > first_invite]
    placed = _int(stats, "TotalCallCreated")
    successful, failed = _int(stats, "SuccessfulCall(C)"), _int(stats, "FailedCall(C)")
    return CallOutcomes(
        placed=placed,
        answered=answers[0] if answers else 0,
        refused=sum(value for _, value in _counters(counts, "503", "Recv")),
        failed=failed,
        unfinished=max(placed - successful - failed, 0),
    )


def peak_concurrency(rows: Iterable[Mapping[str, str]]) -> int:
    """The most calls up at once in any ``-trace_stat`` row."""
    return max((_int(row, "CurrentCall") for row in rows), default=0)


def plateau(rows: Iterable[Mapping[str, str]], level: int) -> tuple[float, float] | None:
    """Epoch seconds of the first and last row with at least ``level`` calls up
    (``None`` if no row had; ``level`` 0 has no plateau)."""
    times = [
        stat_time(row["CurrentTime"]) for row in rows if level and _int(row, "CurrentCall") >= level
    ]
    return (times[0], times[-1]) if times else None


def offering_seconds(rows: list[Mapping[str, str]], calls: int) -> float | None:
    """Seconds from SIPp's start until its ``calls``-th INVITE went out, interpolated
    between the rows either side; ``None`` if it never sent that many."""
    if not rows or calls <= 0:
        return None
    start = stat_time(rows[0]["StartTime"])
    before_t, before_n = start, 0
    for row in rows:
        created, moment = _int(row, "TotalCallCreated"), stat_time(row["CurrentTime"])
        if created >= calls:
            share = (calls - before_n) / max(created - before_n, 1)
            return before_t - start + share * (moment - before_t)
        before_t, before_n = moment, created
    return None


def per_second(count: int, seconds: float | None) -> float | None:
    return round(count / seconds, 1) if seconds else None


@dataclass(frozen=True)
class RecordingTally:
    """The step's recordings by manifest status; ``missing``: answered calls that
    left no manifest at all."""

    complete: int
    incomplete: int
    unfinished: int
    missing: int


def recording_tally(manifests: Iterable[Mapping[str, Any]], answered: int) -> RecordingTally:
    statuses = [m.get("status", "") for m in manifests]
    return RecordingTally(
        complete=statuses.count("complete"),
        incomplete=statuses.count("incomplete"),
        unfinished=statuses.count("recording"),
        missing=max(answered - len(statuses), 0),
    )


def recordings_settled(manifests: list[Mapping[str, Any]], answered: int) -> bool:
    """Every answered call has a manifest and no manifest is still ``recording``."""
    return len(manifests) >= answered and all(m.get("status") != "recording" for m in manifests)


def highest_clean(rows: Iterable[Mapping[str, Any]], figure: str) -> Any:
    """The largest ``figure`` among rows marked ``clean``; ``None`` if none was."""
    return max((row[figure] for row in rows if row.get("clean")), default=None)


def headline(report: Mapping[str, Any]) -> str:
    """The last line the benchmark prints: what ran without a failed or refused call."""
    concurrency = report.get("highest_concurrency_without_failure")
    rate = report.get("highest_setup_rate_without_failure")
    parts = [
        "no concurrency step ran without failed or refused calls"
        if concurrency is None
        else f"highest concurrency with zero failed or refused calls: {concurrency}",
        "no setup rate ran without failed or refused calls"
        if rate is None
        else f"highest call setup rate with zero failures: {rate}/s answered",
    ]
    return "; ".join(parts)
