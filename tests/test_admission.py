"""Admission control's rule (ivr.node.admission): cut when the hub is slow, hold
near the target, grow slowly while it is fast and quickly once it idles, never
below the floor."""

from __future__ import annotations

import dataclasses
import random
from collections import deque

import pytest

from ivr.node.admission import Admission, AdmissionPolicy, Reading


def fast(at: float, cpu: float = 0.5) -> Reading:
    return Reading(at=at, hub_p90_s=0.05, cpu=cpu)


def with_(reading: Reading, **changes: object) -> Reading:
    return dataclasses.replace(reading, **changes)


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


def test_a_cut_remembers_the_calls_the_node_saturated_at_and_carries_that_many() -> None:
    policy = AdmissionPolicy(target_s=1.0, settle_s=0, move_pct=5, ceiling_margin=0.9)
    admission = Admission(policy)
    admission.update(Reading(at=0, hub_p90_s=2.0, calls=200, answered_per_s=10))
    assert admission.ceiling == 180 and admission.admit_pct == 67
    # Above the ceiling: the share that carries 180 of them is lower; 5 points a second.
    assert admission.update(Reading(at=1, hub_p90_s=0.8, calls=240, answered_per_s=10)) == 62
    # Below it: higher, by at most 5 points; far below (the peak passing): 15.
    assert admission.update(Reading(at=2, hub_p90_s=0.1, calls=120, answered_per_s=10)) == 67
    assert admission.update(Reading(at=3, hub_p90_s=0.1, calls=60, answered_per_s=10)) == 82
    for second in range(4, 8):
        admission.update(Reading(at=second, hub_p90_s=0.1, calls=60, answered_per_s=10))
    assert admission.admit_pct == 100
    assert admission.ceiling is None and admission.state == "open"


def test_at_the_ceiling_with_the_hub_fast_the_ceiling_looks_for_room() -> None:
    admission = Admission(AdmissionPolicy(settle_s=0, ceiling_creep=0.01))
    admission.update(Reading(at=0, hub_p90_s=2.0, calls=200))
    for second in range(1, 11):
        admission.update(Reading(at=second, hub_p90_s=0.1, calls=admission.ceiling, cpu=0.5))
    assert admission.ceiling == 180 + 10
    admission.update(Reading(at=11, hub_p90_s=0.1, calls=200, cpu=0.99))  # the CPU is full
    assert admission.ceiling == 190


def test_a_second_saturation_lowers_the_ceiling_never_raises_it() -> None:
    admission = Admission(AdmissionPolicy(settle_s=0))
    admission.update(Reading(at=0, hub_p90_s=2.0, calls=100))
    admission.update(Reading(at=1, hub_p90_s=2.0, calls=300))
    assert admission.ceiling == 90
    admission.update(Reading(at=2, hub_p90_s=2.0, calls=50))
    assert admission.ceiling == 45


def simulate(with_calls: bool, hold_s: float, seconds: int = 1500) -> list[int]:
    """A node that carries 200 calls: its hub slows down sharply past them.  Offered
    twice that, in calls of random length (mean ``hold_s``); each second the share
    is applied to that second's offers.  Returns the calls up each second."""
    capacity = 200
    offered = 2 * capacity / hold_s
    rng = random.Random(7)
    admission = Admission(AdmissionPolicy.for_answer_timeout(3.0))
    ends: list[float] = []
    answered: deque[int] = deque(maxlen=3)
    up: list[int] = []
    carry = 0.0
    for second in range(seconds):
        ends = [end for end in ends if end > second]
        calls = len(ends)
        p90 = 0.1 + max(0, calls - capacity) * 0.05  # setting calls up past capacity
        reading = Reading(
            at=second,
            hub_p90_s=p90,
            cpu=0.9,
            calls=calls if with_calls else None,
            answered_per_s=sum(answered) / 3 if with_calls else None,
        )
        carry += offered * admission.update(reading) / 100
        new, carry = int(carry), carry - int(carry)
        ends += [second + rng.expovariate(1 / hold_s) for _ in range(new)]
        answered.append(new)
        up.append(calls)
    return up


@pytest.mark.parametrize("hold_s", [20, 180])
def test_at_twice_its_capacity_the_node_carries_about_its_capacity_steadily(
    hold_s: float,
) -> None:
    settled = simulate(with_calls=True, hold_s=hold_s)[500:]
    assert min(settled) >= 0.8 * 200 and max(settled) <= 1.2 * 200


def test_a_host_cpu_full_outside_the_asr_for_seconds_is_saturation() -> None:
    admission = Admission(AdmissionPolicy(cpu_full=0.95, cpu_full_s=3.0, settle_s=0))
    for second in range(3):  # full, but not yet for long enough; the hub itself is fast
        assert admission.update(with_(fast(second), cpu_unniced=0.98)) == 100
    assert admission.update(with_(fast(3), cpu_unniced=0.98)) < 100
    assert "CPU is full" in admission.reason
    # The ASR taking the rest (niced) is not saturation, however busy the host is.
    other = Admission(AdmissionPolicy(cpu_full=0.95, cpu_full_s=3.0))
    for second in range(10):
        assert other.update(with_(fast(second, cpu=1.0), cpu_unniced=0.6)) == 100
    # A dip below the line starts the count again.
    third = Admission(AdmissionPolicy(cpu_full=0.95, cpu_full_s=3.0))
    for second, busy in enumerate([0.99, 0.99, 0.5, 0.99, 0.99, 0.99]):
        assert third.update(with_(fast(second), cpu_unniced=busy)) == 100
