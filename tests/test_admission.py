"""Admission control's rule (ivr.node.admission): cut when the hub is slow, hold
near the target, grow slowly while it is fast and quickly once it idles, never
below the floor."""

from __future__ import annotations

from ivr.node.admission import Admission, AdmissionPolicy, Reading


def fast(at: float, cpu: float = 0.5) -> Reading:
    return Reading(at=at, hub_p90_s=0.05, cpu=cpu)


def test_a_fast_hub_keeps_every_call_admitted() -> None:
    admission = Admission()
    for second in range(30):
        assert admission.update(fast(second)) == 100
    assert admission.state == "open" and admission.reason == ""


def test_a_slow_hub_cuts_the_share_then_waits_for_the_cut_to_show() -> None:
    admission = Admission(AdmissionPolicy(target_s=1.0, cut=0.67, settle_s=3.0))
    assert admission.update(Reading(at=0, hub_p90_s=1.5)) == 67
    assert admission.state == "shedding"
    assert "1.5s (p90)" in admission.reason
    # Still slow a second later: the last cut has not shown yet, no second cut.
    assert admission.update(Reading(at=1, hub_p90_s=1.4)) == 67
    assert admission.update(Reading(at=3, hub_p90_s=1.4)) == 44


def test_worker_refusals_and_stale_offers_are_saturation_even_without_latencies() -> None:
    admission = Admission()
    assert admission.update(Reading(at=0, hub_p90_s=None, hub_slow_refusals=3)) < 100
    assert "refused" in admission.reason
    other = Admission()
    assert other.update(Reading(at=0, hub_p90_s=None, hub_stale=1)) < 100
    assert "dropped" in other.reason


def test_the_share_never_falls_below_the_floor() -> None:
    admission = Admission(AdmissionPolicy(floor_pct=10, settle_s=0))
    for second in range(20):
        admission.update(Reading(at=second, hub_p90_s=5.0))
    assert admission.admit_pct == 10


def test_near_the_target_the_share_holds_and_grows_only_slowly_below_it() -> None:
    policy = AdmissionPolicy(target_s=1.0, step_pct=3, idle_step_pct=15, settle_s=0)
    admission = Admission(policy)
    admission.update(Reading(at=0, hub_p90_s=2.0))
    share = admission.admit_pct
    assert admission.update(Reading(at=1, hub_p90_s=0.8)) == share, "near the target: hold"
    assert admission.update(Reading(at=2, hub_p90_s=0.4)) == share + 3, "fast: a small step"
    assert admission.update(Reading(at=3, hub_p90_s=0.1)) == share + 18, "idle: a big step"


def test_recovery_is_back_to_every_call_within_seconds_of_the_peak() -> None:
    admission = Admission(AdmissionPolicy(floor_pct=10, settle_s=0))
    for second in range(10):
        admission.update(Reading(at=second, hub_p90_s=4.0))
    assert admission.admit_pct == 10
    # The peak is over: the hub idles (or nothing at all comes in).
    seconds = 0
    while admission.update(Reading(at=10 + seconds, hub_p90_s=None)) < 100:
        seconds += 1
    assert seconds < 10
    assert admission.state == "open" and admission.reason == ""


def test_a_busy_cpu_stops_growth_until_the_hub_idles() -> None:
    admission = Admission(AdmissionPolicy(target_s=1.0, cpu_busy=0.95, settle_s=0))
    admission.update(Reading(at=0, hub_p90_s=2.0))
    share = admission.admit_pct
    assert admission.update(Reading(at=5, hub_p90_s=0.4, cpu=0.99)) == share
    assert admission.update(Reading(at=6, hub_p90_s=0.1, cpu=0.99)) > share


def test_the_target_follows_the_workers_answer_timeout() -> None:
    assert AdmissionPolicy.for_answer_timeout(3.0).target_s == 1.0
    assert AdmissionPolicy.for_answer_timeout(0.3).target_s == 0.2


def test_events_handled_late_count_against_their_own_looser_target() -> None:
    policy = AdmissionPolicy.for_answer_timeout(3.0)
    assert policy.lag_target_s == 3.0
    admission = Admission(policy)
    # Answers quick, events 2 s late: behind, but within what a worker waits: hold.
    assert admission.update(Reading(at=0, hub_p90_s=0.1, hub_lag_p90_s=2.0)) == 100
    assert admission.update(Reading(at=1, hub_p90_s=0.1, hub_lag_p90_s=3.5)) < 100
    assert "behind on calls' events" in admission.reason
