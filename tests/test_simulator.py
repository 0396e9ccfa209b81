"""call_routing.simulator: the ACD with virtual time agrees with Erlang C and A."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace

import pytest

from call_routing.simulator import POLICIES, Overflow, Scenario, simulate
from call_routing.staffing import staffing
from tests.support.nodes import HOTLINE


def test_a_flat_group_agrees_with_erlang_c() -> None:
    """Averaged over four long runs (40 simulated hours each), within a few points:
    the ASA of a single 40-hour run at 71 % occupancy still strays by ±6 s."""
    runs = [
        simulate(Scenario(14, 200, 180, hours=40, seed=seed, answer_within_s=20)).as_dict()
        for seed in (7, 8, 9, 10)
    ]
    theory = staffing(14, 200, 180, 20)

    def mean(key: str) -> float:
        return sum(run[key] for run in runs) / len(runs)

    assert mean("service_level") == pytest.approx(theory.service_level, abs=0.03)
    assert mean("asa_s") == pytest.approx(theory.asa_s, abs=3.0)
    assert mean("occupancy") == pytest.approx(theory.occupancy, abs=0.03)
    assert mean("abandon_rate") == 0.0


def test_impatient_callers_agree_with_erlang_a() -> None:
    scenario = Scenario(10, 200, 180, hours=40, seed=3, answer_within_s=20, patience_s=60)
    result = simulate(scenario).as_dict()
    theory = staffing(10, 200, 180, 20, patience_s=60)
    assert result["abandon_rate"] == pytest.approx(theory.p_abandon, abs=0.03)
    assert result["service_level"] == pytest.approx(theory.service_level, abs=0.04)


def test_the_same_seed_gives_the_same_day_and_more_agents_serve_better() -> None:
    day = Scenario(12, 200, 180, hours=8, seed=5)
    assert simulate(day).as_dict() == simulate(day).as_dict()
    better = simulate(Scenario(16, 200, 180, hours=8, seed=5)).as_dict()
    assert better["service_level"] > simulate(day).as_dict()["service_level"]


def test_every_call_is_answered_or_abandoned_and_progress_is_shown() -> None:
    seen: list[float] = []
    result = simulate(
        Scenario(8, 200, 180, hours=4, seed=2, patience_s=90, profile=(0.5, 1.6, 1.4, 0.5)),
        seen.append,
    )
    assert result.calls == result.answered + result.abandoned
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)


def test_simulate_command_json() -> None:
    run = subprocess.run(
        [
            str(HOTLINE),
            "simulate",
            "--agents",
            "14",
            "--calls-per-hour",
            "200",
            "--aht",
            "180",
            "--hours",
            "8",
            "--seed",
            "1",
            "--json",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout)
    for key in ("calls", "service_level", "answer_within_s", "asa_s", "abandon_rate", "occupancy"):
        assert key in figures
    assert figures["answer_within_s"] == 15 and figures["calls"] > 1000


PEAK = (0.7, 1.4, 1.3, 1.1, 0.8, 1.0, 0.9, 0.8)


def day(policy: str, **changes: object) -> dict:
    scenario = Scenario(
        40, 800, 180, 8, seed=1, patience_s=180, groups=4, profile=PEAK, overflow=POLICIES[policy]
    )
    for key, value in changes.items():
        scenario = replace(scenario, **{key: value})
    return simulate(scenario).as_dict()


def test_every_policy_sees_the_same_callers_and_counts_what_it_did() -> None:
    results = {name: day(name) for name in POLICIES}
    assert len({result["calls"] for result in results.values()}) == 1
    none = results["none"]
    assert none["overflowed"] == none["widened"] == none["backed_up"] == 0
    assert none["callbacks_requested"] == none["diverted"] == 0
    widen, backup = results["widen"], results["backup"]
    assert widen["widened"] > 0 and widen["overflowed"] > 0 and widen["backed_up"] == 0
    assert backup["backed_up"] > 0 and backup["overflowed"] > 0 and backup["widened"] == 0
    # idle low-level agents and general agents take the specialists' load
    assert widen["abandon_rate"] < none["abandon_rate"] and widen["asa_s"] < none["asa_s"]
    assert backup["abandon_rate"] < none["abandon_rate"]
    callback = results["callback"]
    assert callback["callbacks_requested"] > 0
    assert callback["callbacks_requested"] == (
        callback["callbacks_completed"] + callback["callbacks_gave_up"]
    )
    assert callback["callback_attempts"] >= callback["callbacks_requested"]
    everything = results["all"]
    assert everything["diverted"] > 0 and everything["abandon_rate"] < none["abandon_rate"] / 2
    for result in results.values():  # every caller is accounted for
        left = result["calls"] - result["answered"] - result["abandoned"]
        assert left == result["callbacks_requested"] + (
            result["diverted"] if result["callbacks_requested"] == 0 else 0
        )


def test_callbacks_that_are_never_reached_give_up_after_the_retries() -> None:
    unreachable = Overflow("callback", callback_after_s=30, callback_accept=1.0, callback_reach=0.0)
    result = day("none", overflow=unreachable, hours=2, profile=())
    assert result["callbacks_requested"] > 0 and result["callbacks_completed"] == 0
    assert result["callbacks_gave_up"] == result["callbacks_requested"]
    assert result["callback_attempts"] == 3 * result["callbacks_requested"]  # 1 + 2 retries


def test_diversion_without_callbacks_turns_callers_away() -> None:
    divert = Overflow("divert", divert_wait_above_s=120)
    result = day("none", overflow=divert)
    assert result["diverted"] > 0 and result["callbacks_requested"] == 0
    assert result["calls"] == result["answered"] + result["abandoned"] + result["diverted"]


def test_scenario_groups_are_checked() -> None:
    with pytest.raises(ValueError, match="groups must be from 1"):
        Scenario(10, 100, 180, 1, groups=0)
    with pytest.raises(ValueError, match="every group needs an agent"):
        Scenario(3, 100, 180, 1, groups=4)


def test_simulate_compare_command_json() -> None:
    run = subprocess.run(
        [
            str(HOTLINE),
            "simulate",
            "--compare",
            "--agents",
            "40",
            "--calls-per-hour",
            "600",
            "--hours",
            "2",
            "--patience",
            "180",
            "--json",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    assert [row["policy"] for row in rows] == list(POLICIES)
    assert len({row["calls"] for row in rows}) == 1
    for row in rows:
        for key in ("service_level", "asa_s", "abandon_rate", "overflowed", "callbacks_requested"):
            assert key in row
    table = subprocess.run(
        [str(HOTLINE), "simulate", "--compare", "--agents", "40", "--hours", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert table.returncode == 0, table.stderr
    assert "widen" in table.stdout and "callback" in table.stdout and "overflow" in table.stdout
