"""bench/ramp.py's figures, computed by bench/ramp_summary.py from real SIPp statistics
recorded on loopback (tests/data/sipp_stats/README.md says how)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.ramp_summary import (
    RTP_LIMIT_PCT,
    CallOutcomes,
    RecordingTally,
    SippError,
    call_outcomes,
    failure_reasons,
    headline,
    offering_seconds,
    parse_error_log,
    peak_concurrency,
    per_second,
    plateau,
    recording_tally,
    recordings_settled,
    step_problems,
    summarise,
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
        {"concurrent_calls": 200, "peak_concurrent": 198, "clean": True},
        {"concurrent_calls": 250, "peak_concurrent": 231, "clean": False},
    ]
    rates = [{"answered_setups_per_s": 24.8, "clean": True}, {"answered_setups_per_s": 31.0}]
    summary = summarise(steps, rates)
    assert summary["highest_clean_concurrency"] == 200
    assert summary["highest_clean_peak"] == 198
    assert headline(summary) == (
        "highest clean concurrency step: 200 calls (198 up at once); "
        "highest clean call setup rate: 24.8/s answered"
    )
    none = summarise([steps[2]], [])
    assert none["highest_clean_concurrency"] is None
    assert headline(none) == "no concurrency step ran clean; no setup rate ran clean"


# SIPp's -trace_err log of a real run (caller scenario against tests/sipp/uas_refuses_some.xml
# with no 503 branch): two calls aborted on a 503, each followed by its "Dead call" echo,
# then made-up events of the other kinds, and the hold timing out into the caller's BYE (a
# receive timeout with a label to jump to: the call goes on, no failure).
ERRORS = """The following events occurred:
2026-12-03\t06:52:11.847875\t1796280731.847875: Aborting call on unexpected message for \
Call-Id '2-1078@127.0.0.1': while expecting '100' (index 2), received 'SIP/2.0 503 Service \
Unavailable
Via: SIP/2.0/UDP 127.0.0.1:26101;branch=z9hG4bK-1078-2-1
Call-ID: 2-1078@127.0.0.1
CSeq: 1 INVITE
Content-Length: 0

'2026-12-03\t06:52:11.848149\t1796280731.848149: Dead call 2-1078@127.0.0.1 (aborted at \
index 2), received 'SIP/2.0 503 Service Unavailable
Call-ID: 2-1078@127.0.0.1

'2026-12-03\t06:52:12.348174\t1796280732.348174: Aborting call on UDP retransmission \
timeout for Call-ID '4-1078@127.0.0.1'
2026-12-03\t06:52:13.1\t1796280733.1: Call-Id: 5-1078@127.0.0.1, receive timeout on \
message INVITE:5 without label to jump to (ontimeout attribute): aborting call
2026-12-03\t06:52:13.5\t1796280733.5: Call-Id: 3-1078@127.0.0.1, receive timeout on message \
caller speaks; either side hangs up:10, jumping to label 12\
2026-12-03\t06:52:14.0\t1796280734.0: Aborting call on unexpected message for Call-Id \
'6-1078@127.0.0.1': while expecting '200' (index 5), received 'BYE sip:x SIP/2.0
Call-ID: 6-1078@127.0.0.1
'"""


def test_the_error_log_says_which_call_failed_when_and_why() -> None:
    errors = parse_error_log(ERRORS)
    assert [(e.call_id, e.reason) for e in errors] == [
        ("2-1078@127.0.0.1", "503"),
        ("4-1078@127.0.0.1", "no response"),
        ("5-1078@127.0.0.1", "receive timeout"),
        ("6-1078@127.0.0.1", "unexpected BYE"),
    ]
    assert errors[0].t == pytest.approx(1796280731.847875)
    assert parse_error_log("") == [] and parse_error_log("The following events occurred:\n") == []


def test_failure_reasons_always_add_up_to_what_sipp_counted() -> None:
    errors = parse_error_log(ERRORS)
    assert failure_reasons(errors, failed=4) == {
        "503": 1,
        "no response": 1,
        "receive timeout": 1,
        "unexpected BYE": 1,
    }
    # SIPp counted more failures than its log explains, and some calls were cut off.
    reasons = failure_reasons(errors[:1], failed=3, unfinished=2)
    assert reasons == {"other": 2, "unfinished": 2, "503": 1}
    assert sum(reasons.values()) == 3 + 2
    # The log names more calls than SIPp failed: SIPp's counter wins.
    assert failure_reasons(errors, failed=1) == {"other": 1}
    assert failure_reasons([], failed=0) == {}


def synthetic_step(
    calls: int, *, answered: int, refused: int = 0, failed: int = 0, node_hung_up: int = 0
) -> tuple[dict[str, str], dict[str, int]]:
    """The last -trace_stat row and -trace_counts counters SIPp writes for ``calls`` calls
    of tests/sipp/caller_talks_either_hangs_up.xml (element indices as SIPp numbers
    them): ``node_hung_up`` of the answered calls ended by the node's BYE, the rest by
    the caller's after the hold."""
    stats = {
        "TotalCallCreated": str(calls),
        "CurrentCall": "0",
        "SuccessfulCall(C)": str(answered + refused),
        "FailedCall(C)": str(failed),
    }
    counts = {
        "0_INVITE_Sent": calls,
        "1_100_Recv": calls,
        "2_180_Recv": 0,
        "3_183_Recv": 0,
        "4_503_Recv": refused,
        "5_200_Recv": answered,
        "6_ACK_Sent": answered,
        "8_BYE_Recv": node_hung_up,
        "9_200_Sent": node_hung_up,
        "10_BYE_Sent": answered - node_hung_up,
        "11_200_Recv": answered - node_hung_up,
        "12_ACK_Sent": refused,
    }
    return stats, counts


def step_row(calls: int, stats: dict[str, str], counts: dict[str, int], **media: object) -> dict:
    """A step's row as bench/ramp.py assembles it from the pure accounting."""
    outcomes = call_outcomes(stats, counts)
    reasons = failure_reasons(media.pop("errors", []), outcomes.failed, outcomes.unfinished)
    tally = recording_tally([{"status": "complete"}] * outcomes.answered, outcomes.answered)
    problems = step_problems(outcomes, calls, reasons, media.get("rtp_pct", 0.0), tally)
    return {
        "concurrent_calls": calls,
        "peak_concurrent": calls,
        "offered": outcomes.placed,
        "answered": outcomes.answered,
        "refused_503": outcomes.refused,
        "failed": outcomes.failed,
        "failed_by_reason": reasons,
        "clean": not problems,
        "problems": problems,
    }


def test_a_clean_200_step_is_the_summary_even_when_the_node_hung_up_calls_itself() -> None:
    """Issue 13 item 4: after a clean 200-call step (some calls closed by the node's own
    BYE) and failing 300 and 400 steps, the summary said the highest clean concurrency
    was 0.  It is 200, in the JSON and in the printed line alike."""
    failures = [SippError(1.0, f"{n}-1@127.0.0.1", "480") for n in range(12)]
    failures += [SippError(2.0, f"{n}-1@127.0.0.1", "no response") for n in range(12, 17)]
    steps = [
        step_row(200, *synthetic_step(200, answered=200, node_hung_up=37)),
        step_row(300, *synthetic_step(300, answered=283, failed=17), errors=failures),
        step_row(400, *synthetic_step(400, answered=390, failed=10)),
    ]
    assert [s["clean"] for s in steps] == [True, False, False]
    assert steps[0]["problems"] == [] and steps[0]["failed_by_reason"] == {}
    assert steps[1]["failed_by_reason"] == {"480": 12, "no response": 5}
    assert steps[1]["problems"] == ["SIP: 17 failed (480 ×12, no response ×5)"]
    assert steps[2]["failed_by_reason"] == {"other": 10}
    report = json.loads(json.dumps(summarise(steps, [])))  # as bench/results/ramp.json holds it
    assert report["highest_clean_concurrency"] == 200
    assert "highest clean concurrency step: 200 calls" in headline(report)


def test_refusals_rtp_loss_and_recordings_each_keep_a_step_from_being_clean() -> None:
    outcomes = CallOutcomes(placed=100, answered=95, refused=5, failed=0, unfinished=0)
    tally = RecordingTally(complete=93, incomplete=1, unfinished=0, missing=1)
    assert step_problems(outcomes, 100, {}, 0.25, tally) == [
        "SIP: 5 refused (503)",
        "RTP: 0.250 % lost or late",
        "recordings: 1 incomplete",
        "recordings: 1 missing",
    ]
    fine = CallOutcomes(placed=100, answered=100, refused=0, failed=0, unfinished=0)
    complete = RecordingTally(complete=100, incomplete=0, unfinished=0, missing=0)
    assert step_problems(fine, 100, {}, RTP_LIMIT_PCT / 2, complete) == []
    assert step_problems(fine, 120, {}, None, None) == ["SIP: 100 of 120 calls placed"]
    cut_off = CallOutcomes(placed=100, answered=98, refused=0, failed=0, unfinished=2)
    assert step_problems(cut_off, 100, {"unfinished": 2}, None, None) == [
        "SIP: 2 failed (unfinished ×2)"
    ]
