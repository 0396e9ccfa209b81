"""Admission control's rule (ivr.node.admission): cut fast when the hub is slow,
recover step by step when it is fast, never below the floor."""

from __future__ import annotations

from ivr.node.admission import Admission, AdmissionPolicy, Reading


def fast(at: float, cpu: float = 0.5) -> Reading:
    return Reading(at=at, hub_p90_s=0.05, cpu=cpu)


def test_a_fast_hub_keeps_every_call_admitted() -> None:
    admission = Admission()
    for second in range(30):
        assert admission.update(fast(second)) == 100
    assert admission.state == "open" and admission.reason == ""


def test_a_slow_hub_halves_the_share_then_waits_for_the_cut_to_show() -> None:
    admission = Admission(AdmissionPolicy(target_s=1.0, settle_s=2.0))
    assert admission.update(Reading(at=0, hub_p90_s=1.5)) == 50
    assert admission.state == "shedding"
    assert "1.5s behind" in admission.reason
    # Still slow one second later: the last cut has not shown yet, no second cut.
    assert admission.update(Reading(at=1, hub_p90_s=1.4)) == 50
    assert admission.update(Reading(at=2, hub_p90_s=1.4)) == 25


def test_worker_refusals_and_stale_offers_are_saturation_even_without_latencies() -> None:
    admission = Admission()
    assert admission.update(Reading(at=0, hub_p90_s=None, hub_slow_refusals=3)) == 50
    assert "refused" in admission.reason
    other = Admission()
    assert other.update(Reading(at=0, hub_p90_s=None, hub_stale=1)) == 50
    assert "dropped" in other.reason


def test_the_share_never_falls_below_the_floor() -> None:
    admission = Admission(AdmissionPolicy(floor_pct=10, settle_s=0))
    for second in range(20):
        admission.update(Reading(at=second, hub_p90_s=5.0))
    assert admission.admit_pct == 10


def test_recovery_is_back_to_every_call_within_seconds_of_the_peak() -> None:
    admission = Admission(AdmissionPolicy(floor_pct=10, step_pct=10, settle_s=0))
    for second in range(10):
        admission.update(Reading(at=second, hub_p90_s=4.0))
    assert admission.admit_pct == 10
    # The peak is over: nothing is answered slowly (or nothing at all comes in).
    seconds = 0
    while admission.update(Reading(at=10 + seconds, hub_p90_s=None)) < 100:
        seconds += 1
    assert seconds < 10
    assert admission.state == "open" and admission.reason == ""


def test_a_busy_cpu_holds_the_share_while_the_hub_nears_its_target() -> None:
    admission = Admission(AdmissionPolicy(target_s=1.0, cpu_busy=0.95))
    admission.update(Reading(at=0, hub_p90_s=2.0))
    assert admission.admit_pct == 50
    # Under target but more than half of it, CPU saturated: do not add calls.
    assert admission.update(Reading(at=5, hub_p90_s=0.7, cpu=0.99)) == 50
    # The same CPU with a quick hub: the media has room, grow again.
    assert admission.update(Reading(at=6, hub_p90_s=0.1, cpu=0.99)) == 60


def test_the_target_follows_the_workers_answer_timeout() -> None:
    assert AdmissionPolicy.for_answer_timeout(3.0).target_s == 1.0
    assert AdmissionPolicy.for_answer_timeout(0.3).target_s == 0.2
