"""call_routing.simulator: the ACD with virtual time agrees with Erlang C and A."""

from __future__ import annotations

import json
import subprocess

import pytest

from call_routing.simulator import Scenario, simulate
from call_routing.staffing import staffing
from tests.nodes import HOTLINE


def test_a_flat_group_agrees_with_erlang_c() -> None:
    """Averaged over a long run (40 simulated hours), within a few points."""
    result = simulate(Scenario(14, 200, 180, hours=40, seed=7, answer_within_s=20)).as_dict()
    theory = staffing(14, 200, 180, 20)
    assert result["service_level"] == pytest.approx(theory.service_level, abs=0.04)
    assert result["asa_s"] == pytest.approx(theory.asa_s, abs=3.0)
    assert result["occupancy"] == pytest.approx(theory.occupancy, abs=0.03)
    assert result["abandon_rate"] == 0.0


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
