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
- Where a call failed: SIPp's ``-trace_err`` log names each aborted call and why
  (the response code it got instead of a 200, a receive timeout, no answer to its
  retransmissions); a failed call the log does not explain is counted as ``other``
  so the reasons always add up to SIPp's ``FailedCall(C)``.
- A step is clean when every call was placed and answered, none refused, failed or
  cut off, the RTP lost + late frames stayed under ``RTP_LIMIT_PCT`` and every
  recording is complete; ``summarise`` picks the highest clean step and the
  headline is written from that one dictionary, so what is printed and what is
  in the JSON cannot disagree.
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


_HOLD = re.compile(r'(<recv request="BYE" timeout=")\d+(")')


def held_call_text(text: str, hold_s: float) -> str:
    """``tests/sipp/caller_talks_either_hangs_up.xml`` with the call length written into
    its hold (the timeout on the node's BYE, after which the caller hangs up)."""
    held, count = _HOLD.subn(rf"\g<1>{int(hold_s * 1000)}\g<2>", text)
    if count != 1:
        raise ValueError("the caller scenario has no BYE timeout to set")
    return held


RTP_LIMIT_PCT = 0.1  # lost + late RTP frames a clean step may have (issue 13: < 0.1 %)

# One event of SIPp's -trace_err log: "<date>\t<time>\t<epoch>: <text>"; the text may span
# lines (a whole SIP message) and the next event's stamp follows its closing quote at once.
_ERROR_EVENT = re.compile(r"\d{4}-\d\d-\d\d\t[\d:.]+\t(\d+(?:\.\d+)?): ")
# SIPp's own Call-IDs ([call_id]): "<call number>-<pid>@<local ip>".
_CALL_ID = re.compile(r"\b(\d+-\d+@[0-9A-Za-z.:\[\]-]+?)(?=['\s,:]|$)")
_RESPONSE = re.compile(r"received 'SIP/2\.0 (\d{3})")
_REQUEST = re.compile(r"received '([A-Z]+) ")


@dataclass(frozen=True)
class SippError:
    """One call SIPp aborted: when (epoch seconds), its Call-ID and why (``"486"`` for a
    response it did not expect, ``"unexpected BYE"``, ``"receive timeout"``,
    ``"no response"`` for an exhausted UDP retransmission, ``"aborted"``)."""

    t: float
    call_id: str
    reason: str


def _reason(text: str) -> str | None:
    if text.startswith("Dead call"):
        return None  # a message for a call already aborted: not a second failure
    if "unexpected message" in text:
        if response := _RESPONSE.search(text):
            return response[1]
        request = _REQUEST.search(text)
        return f"unexpected {request[1]}" if request else "unexpected message"
    if "unexpected BYE" in text:
        return "unexpected BYE"
    if "unexpected CANCEL" in text:
        return "unexpected CANCEL"
    first = text.split("\n", 1)[0]
    if "receive timeout" in first:
        # With an ontimeout label the call goes on ("jumping to label"): not a failure.
        return "receive timeout" if "aborting call" in first else None
    if "send timeout" in first:
        return "send timeout" if "aborting call" in first else None
    if "retransmission timeout" in text:
        return "no response"
    if "borting call" in text:
        return "aborted"
    return None  # a warning, not a call's end


def parse_error_log(text: str) -> list[SippError]:
    """The calls SIPp aborted, from its ``-trace_err`` log, in order, one per call."""
    marks = list(_ERROR_EVENT.finditer(text))
    seen: set[str] = set()
    errors = []
    ends = [mark.start() for mark in marks[1:]] + [len(text)] if marks else []
    for mark, end in zip(marks, ends, strict=True):
        body = text[mark.end() : end]
        reason = _reason(body)
        call = _CALL_ID.search(body.split("\n", 1)[0])
        if reason is None or call is None or call[1] in seen:
            continue
        seen.add(call[1])
        errors.append(SippError(float(mark[1]), call[1], reason))
    return errors


def failure_reasons(
    errors: Iterable[SippError], failed: int, unfinished: int = 0
) -> dict[str, int]:
    """Failed calls by reason, adding up to ``failed + unfinished``: what SIPp's error
    log explains, ``other`` for failures it does not, ``unfinished`` for calls still
    open when SIPp stopped."""
    reasons: dict[str, int] = {}
    for error in errors:
        reasons[error.reason] = reasons.get(error.reason, 0) + 1
    explained = sum(reasons.values())
    if explained > failed:
        # The log can name a call SIPp later counted otherwise; SIPp's counter is the truth.
        reasons = {"other": failed} if failed else {}
    elif explained < failed:
        reasons["other"] = failed - explained
    if unfinished:
        reasons["unfinished"] = unfinished
    return dict(sorted(reasons.items(), key=lambda item: (-item[1], item[0])))


def step_problems(
    outcomes: CallOutcomes,
    wanted: int,
    reasons: Mapping[str, int],
    lost_or_late_pct: float | None,
    tally: RecordingTally | None,
) -> list[str]:
    """What kept a step from being clean, where it happened (SIP, RTP, recordings);
    empty for a clean step."""
    problems = []
    if outcomes.placed < wanted:
        problems.append(f"SIP: {outcomes.placed} of {wanted} calls placed")
    if outcomes.refused:
        problems.append(f"SIP: {outcomes.refused} refused (503)")
    if reasons:
        detail = ", ".join(f"{reason} ×{count}" for reason, count in reasons.items())
        problems.append(f"SIP: {outcomes.failed + outcomes.unfinished} failed ({detail})")
    unanswered = outcomes.placed - outcomes.answered - outcomes.refused
    unanswered -= outcomes.failed + outcomes.unfinished
    if unanswered > 0:
        problems.append(f"SIP: {unanswered} ended without an answer")
    if lost_or_late_pct is not None and lost_or_late_pct >= RTP_LIMIT_PCT:
        problems.append(f"RTP: {lost_or_late_pct:.3f} % lost or late")
    if tally is not None:
        for count, word in (
            (tally.incomplete, "incomplete"),
            (tally.unfinished, "unfinished"),
            (tally.missing, "missing"),
        ):
            if count:
                problems.append(f"recordings: {count} {word}")
    return problems


def highest_clean(rows: Iterable[Mapping[str, Any]], figure: str) -> Any:
    """The ``figure`` of the clean row with the most ``figure``; ``None`` if none was clean."""
    return max((row[figure] for row in rows if row.get("clean")), default=None)


def summarise(steps: list[Mapping[str, Any]], rates: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The report's summary keys.  ``highest_clean_concurrency`` is the largest step
    (calls held at once) that ran clean, ``highest_clean_peak`` the most calls SIPp
    saw up at once in that step; ``None`` when no step ran clean."""
    clean = [s for s in steps if s.get("clean")]
    best = max(clean, key=lambda s: s["concurrent_calls"], default=None)
    return {
        "highest_clean_concurrency": best["concurrent_calls"] if best else None,
        "highest_clean_peak": best["peak_concurrent"] if best else None,
        "highest_clean_setup_rate": highest_clean(rates, "answered_setups_per_s"),
        "clean_means": (
            "every call placed and answered; none refused (503), failed or cut off; "
            f"RTP lost + late < {RTP_LIMIT_PCT} %; every recording complete"
        ),
    }


def headline(report: Mapping[str, Any]) -> str:
    """The last line the benchmark prints, from ``summarise``'s keys only."""
    concurrency = report.get("highest_clean_concurrency")
    rate = report.get("highest_clean_setup_rate")
    parts = [
        "no concurrency step ran clean"
        if concurrency is None
        else (
            f"highest clean concurrency step: {concurrency} calls "
            f"({report.get('highest_clean_peak')} up at once)"
        ),
        "no setup rate ran clean"
        if rate is None
        else f"highest clean call setup rate: {rate}/s answered",
    ]
    return "; ".join(parts)
