"""bench/ramp.py's figures, computed by bench/ramp_summary.py from real SIPp statistics
recorded on loopback (tests/data/sipp_stats/README.md says how)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.ramp_summary import (
    CallOutcomes,
    call_outcomes,
    headline,
    highest_clean,
    offering_seconds,
    peak_concurrency,
    per_second,
    plateau,
    recording_tally,
    recordings_settled,
)
from ivr.peers.sipp import parse_counts_csv, parse_stat_csv, stat_time

DATA = Path(__file__).parent / "data" / "sipp_stats"


def recorded(name: str) -> tuple[list[dict[str, str]], dict[str, int]]:
    rows = parse_stat_csv((DATA / name / "stats.csv").read_text())
    return rows, parse_counts_csv((DATA / name / "counts.csv").read_text())


def test_stat_rows_keep_cumulative_and_periodic_columns_apart() -> None:
    rows, _ = recorded("plateau")
    assert len(rows) == 10
    last = rows[-1]
    # The final row follows a reset: periodic counters are 0, cumulative ones the run's.
    assert last["SuccessfulCall(P)"] == "0" and last["SuccessfulCall(C)"] == "30"
    assert [int(r["SuccessfulCall(P)"]) for r in rows] == [0, 0, 0, 0, 0, 0, 10, 10, 10, 0]
    assert stat_time(last["CurrentTime"]) > stat_time(last["StartTime"]) > 1.7e9


def test_a_truncated_last_line_is_dropped() -> None:
    text = (DATA / "plateau" / "stats.csv").read_text()
    assert len(parse_stat_csv(text[: text.rindex(";", 0, len(text) - 200)])) == 9


def test_every_call_answered_is_a_clean_step() -> None:
    rows, counts = recorded("plateau")
    outcomes = call_outcomes(rows[-1], counts)
    assert outcomes == CallOutcomes(placed=30, answered=30, refused=0, failed=0, unfinished=0)
    assert outcomes.clean(30) and not outcomes.clean(40)
    assert peak_concurrency(rows) == 30


def test_refused_calls_are_counted_once_and_not_as_answered() -> None:
    rows, counts = recorded("refusals")
    assert rows[-1]["SuccessfulCall(C)"] == "20"  # SIPp's "successful" includes the 503s
    outcomes = call_outcomes(rows[-1], counts)
    assert outcomes == CallOutcomes(placed=20, answered=10, refused=10, failed=0, unfinished=0)
    assert not outcomes.clean(20)


def test_the_plateau_is_where_sipp_saw_every_call_up() -> None:
    rows, _ = recorded("plateau")
    start = stat_time(rows[0]["StartTime"])
    span = plateau(rows, peak_concurrency(rows))
    assert span is not None
    first, last = span[0] - start, span[1] - start
    # 30 calls at 10/s: all up by 3 s; the first hangs up 5 s after its start.
    assert 2.9 < first < 3.2 and 4.9 < last < 5.2
    # The old window (ramp + 2 .. ramp + hold - 1 = 5..7 s) was mostly tear-down.
    assert plateau(rows, 31) is None and plateau(rows, 0) is None


def test_setups_per_second_are_answered_calls_over_the_offering_time() -> None:
    rows, counts = recorded("refusals")
    outcomes = call_outcomes(rows[-1], counts)
    seconds = offering_seconds(rows, outcomes.placed)
    assert seconds is not None and 1.8 < seconds < 2.1  # 20 INVITEs at 10/s
    answered_per_s = per_second(outcomes.answered, seconds)
    placed_per_s = per_second(outcomes.placed, seconds)
    assert answered_per_s is not None and placed_per_s is not None
    assert 4.5 <= answered_per_s <= 5.5 and 9.5 <= placed_per_s <= 11
    assert offering_seconds(rows, 21) is None and per_second(3, None) is None


@pytest.mark.parametrize("name", ["plateau", "refusals"])
def test_outcomes_add_up_to_what_sipp_counted(name: str) -> None:
    rows, counts = recorded(name)
    outcomes = call_outcomes(rows[-1], counts)
    assert outcomes.answered + outcomes.refused == int(rows[-1]["SuccessfulCall(C)"])
    assert per_second(outcomes.answered, offering_seconds(rows, outcomes.placed)) >= 0


def test_counts_are_required() -> None:
    rows, _ = recorded("plateau")
    with pytest.raises(ValueError, match="trace_counts"):
        call_outcomes(rows[-1], {})


def test_recordings_are_counted_by_status_once_settled() -> None:
    manifests = [{"status": "complete"}] * 5 + [{"status": "incomplete"}]
    assert recordings_settled(manifests, 6)
    assert not recordings_settled(manifests, 7)  # an answered call has no manifest yet
    assert not recordings_settled([*manifests, {"status": "recording"}], 6)
    tally = recording_tally([*manifests, {"status": "recording"}], answered=9)
    assert (tally.complete, tally.incomplete, tally.unfinished, tally.missing) == (5, 1, 1, 2)


def test_the_headline_names_the_highest_clean_step_or_says_there_was_none() -> None:
    steps = [
        {"concurrent_calls": 50, "peak_concurrent": 50, "clean": True},
        {"concurrent_calls": 200, "peak_concurrent": 200, "clean": True},
        {"concurrent_calls": 250, "peak_concurrent": 231, "clean": False},
    ]
    rates = [{"answered_setups_per_s": 24.8, "clean": True}, {"answered_setups_per_s": 31.0}]
    report = {
        "highest_concurrency_without_failure": highest_clean(steps, "peak_concurrent"),
        "highest_setup_rate_without_failure": highest_clean(rates, "answered_setups_per_s"),
    }
    assert report["highest_concurrency_without_failure"] == 200
    assert headline(report) == (
        "highest concurrency with zero failed or refused calls: 200; "
        "highest call setup rate with zero failures: 24.8/s answered"
    )
    none = {"highest_concurrency_without_failure": highest_clean([steps[2]], "peak_concurrent")}
    assert headline(none).startswith("no concurrency step ran without failed or refused calls")
