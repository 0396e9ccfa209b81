"""bench/soak.py: the accounting (bench/soak_report.py) on made-up SIPp logs, and a short
soak against a real node (about a minute) whose figures must hold together."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.ramp_summary import SippError
from bench.soak_report import (
    CallLife,
    Probe,
    admission_row,
    call_lives,
    intervals,
    memory_flatness,
    recovery,
    rows_add_up,
    soak_scenario_text,
    totals,
)
from ivr.peers.sipp import SCENARIOS

T0 = 1_796_000_000.0


def log_line(event: str, call: str, t: float) -> str:
    """A line as SIPp writes the scenario's ``<log>`` action ([timestamp] is date, time, epoch)."""
    return f"soak {event} {call} 2026-12-03\t07:00:00.000000\t{t:.6f}"


def test_the_soak_scenario_logs_each_event_once_and_holds_the_call() -> None:
    text = (SCENARIOS / "caller_talks_either_hangs_up.xml").read_text()
    soak = soak_scenario_text(text, 6.5)
    for event in ("start", "answered", "refused", "end"):
        assert soak.count(f'message="soak {event} [call_id] [timestamp]"') == 1
    assert '<recv request="BYE" timeout="6500"' in soak
    # The start is logged before the INVITE goes out, the answer right after the 200.
    assert soak.index("soak start") < soak.index("INVITE sip:")
    assert soak.index('rtd="true"') < soak.index("soak answered") < soak.index("ACK [next_url]")
    # A scenario that changed shape is an error, not a soak that counts nothing.
    with pytest.raises(ValueError, match="0 places for the 'refused' log"):
        soak_scenario_text(text.replace('<label id="busy"/>', ""), 6)


def made_up_soak() -> tuple[dict[str, CallLife], float]:
    """Six calls over 25 s with a 5 s hold: answered and ended, refused, failed after its
    answer (the node's 500 to the BYE), failed unanswered, one stuck until it timed out
    at 24 s, one still open at the end."""
    lines = [
        log_line("start", "1-9@h", T0 + 1),
        log_line("answered", "1-9@h", T0 + 1.2),
        log_line("end", "1-9@h", T0 + 6.3),
        log_line("start", "2-9@h", T0 + 2),
        log_line("refused", "2-9@h", T0 + 2.05),
        log_line("end", "2-9@h", T0 + 2.06),
        log_line("start", "3-9@h", T0 + 3),
        log_line("answered", "3-9@h", T0 + 3.5),
        log_line("start", "4-9@h", T0 + 4),
        log_line("start", "5-9@h", T0 + 11),
        log_line("start", "6-9@h", T0 + 21),
        log_line("answered", "6-9@h", T0 + 21.1),
        "a line of something else",
    ]
    errors = [
        SippError(T0 + 9.0, "3-9@h", "500"),
        SippError(T0 + 4.5, "4-9@h", "480"),
        SippError(T0 + 24.0, "5-9@h", "receive timeout"),
        SippError(T0 + 5.0, "99-9@h", "no response"),  # a call the log never saw start
    ]
    return call_lives("\n".join(lines), errors), T0 + 25


def test_each_call_ends_one_way_and_the_rows_add_up_to_the_totals() -> None:
    calls, end = made_up_soak()
    assert {c: life.outcome() for c, life in calls.items()} == {
        "1-9@h": "answered",
        "2-9@h": "refused",
        "3-9@h": "failed",
        "4-9@h": "failed",
        "5-9@h": "failed",
        "6-9@h": "open",
    }
    rows = intervals(calls, T0, end, 10.0, overdue_s=5 + 3)
    assert [(r.offered, r.answered, r.refused, r.failed) for r in rows] == [
        (4, 2, 1, 2),
        (1, 0, 0, 0),
        (1, 1, 0, 1),
    ]
    assert rows[0].failed_by_reason == {"500": 1, "480": 1}
    # Call 5 (from 11 s) is open past 8 s by the end of the second row (20 s); gone at 25 s.
    assert [r.stuck for r in rows] == [0, 1, 0]
    assert [r.open for r in rows] == [0, 1, 1]
    assert rows[-1].end == end
    total = totals(calls, end, overdue_s=8)
    assert (total.offered, total.answered, total.completed, total.refused) == (6, 3, 1, 1)
    assert (total.failed, total.failed_after_answer, total.stuck, total.open) == (3, 1, 1, 1)
    assert total.failed_by_reason == {"500": 1, "480": 1, "receive timeout": 1}
    assert total.accounted() and rows_add_up(rows, total)
    assert not rows_add_up(rows[1:], total)


def test_answer_time_percentiles_are_sipps_invite_to_200() -> None:
    calls, end = made_up_soak()
    row = intervals(calls, T0, end, 10.0, 8)[0]
    assert row.answer_p50_s == pytest.approx(0.2) and row.answer_p99_s == pytest.approx(0.5)
    assert intervals(calls, T0, end, 10.0, 8)[1].answer_p50_s is None


def test_memory_is_flat_within_five_percent_or_two_megabytes() -> None:
    samples = [
        {
            "t": T0 + i,
            "memory_mb": {"workers": 300 + i / 5, "hub": 100 + 4 * i, "broker": 2 + i / 20},
        }
        for i in range(30)
    ]
    flat = memory_flatness(samples, T0, T0 + 30)
    assert flat["workers"]["flat"] and flat["broker"]["flat"]
    assert not flat["hub"]["flat"] and flat["hub"]["change_pct"] > 50
    assert flat["workers"]["first_third_mb"] == pytest.approx(300.9)
    assert memory_flatness([], T0, T0 + 30) == {}


def test_recovery_is_the_first_answered_probe_after_the_load() -> None:
    probes = [Probe(T0 + 0.2, "refused"), Probe(T0 + 1.4, "answered", T0 + 1.5)]
    assert recovery(T0, probes) == {
        "probes": 2,
        "first_probe": "refused",
        "first_probe_placed_after_s": 0.2,
        "answered": True,
        "recovered_in_s": 1.5,
    }
    assert recovery(T0, [Probe(T0 + 1, "refused")])["recovered_in_s"] is None


def test_the_nodes_own_admission_figures_are_shown_when_it_writes_them() -> None:
    assert admission_row(None, None) == {}
    before = {"state": "open", "refused_total": 4}
    now = {
        "state": "shedding",
        "limit_per_s": 20,
        "hub_latency_s": {"p50": 0.05, "p99": 0.9, "samples": 40},
        "cpu": 0.97,
        "refused": {"rate": 3, "hub_slow": 6, "full": 0},
        "refused_total": 9,
    }
    row = admission_row(before, now)
    assert row["state"] == "shedding" and row["refused"] == 5
    assert row["hub_latency_s"] == {"p50": 0.05, "p99": 0.9} and row["hub_samples"] == 40
    assert admission_row(None, now)["refused"] == 9
    # The shape the supervisor writes today: flat percentile keys, an admitted share.
    flat = {"state": "open", "admit_pct": 60, "reason": "cpu", "hub_p90_s": 0.0516}
    row = admission_row(None, flat | {"refused_total": 34})
    assert row["hub_latency_s"] == {"p90": 0.0516} and row["admit_pct"] == 60


def test_a_short_soak_answers_every_call_and_the_node_answers_after_it(
    node_factory, tmp_path: Path
) -> None:
    """About a minute: 4 workers (16 legs), 2 calls/s offered, 8 at once, 6 s calls."""
    from bench.soak import MEMORY_GROUPS, NODE_GROUPS, run_soak

    node = node_factory("soak", workers=4, grace_s=5, no_input_s=120)
    report = run_soak(
        node, workers=4, rate=2, limit=8, hold_s=6, seconds=36, interval_s=10, progress=False
    )
    total = report["totals"]
    assert total["offered"] >= 20
    assert total["failed"] == 0, total["failed_by_reason"]
    assert total["stuck"] == 0 and total["open"] == 0
    assert total["completed"] + total["refused"] == total["offered"]
    assert report["accounted"] and report["rows_add_up"] and report["sipp_counters_agree"]
    rows = report["intervals"]
    assert sum(r["offered"] for r in rows) == total["offered"]
    assert sum(r["answered"] + r["refused"] for r in rows) == total["offered"]
    assert report["recovery"]["answered"], report["probes"]
    for row in rows[:-1]:
        assert all(row["memory_mb"][g] > 0 for g in MEMORY_GROUPS), row["memory_mb"]
        assert row["cpu_pct_of_core"]["workers"] > 0
    assert set(NODE_GROUPS) <= set(report["memory"])


def test_node_outcomes_count_understood_callers_and_why_a_human_was_offered() -> None:
    from bench.soak_report import node_outcomes

    lines = [
        '{"msg": "call.transcript", "understood": true, "agent_offered": ""}',
        '{"msg": "call.transcript", "understood": false, "agent_offered": "asr_unavailable"}',
        '{"msg": "call.transcript", "understood": false, "agent_offered": "asr_unavailable"}',
        '{"msg": "ticket.drafted", "number": "GD12345-20261203-000001"}',
        "not json",
        '{"msg": "call.offered"}',
    ]
    assert node_outcomes(lines) == {
        "calls": 3,
        "understood": 1,
        "tickets": 1,
        "human_offered": {"asr_unavailable": 2},
    }
