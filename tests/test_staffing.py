"""call_routing.staffing against published Erlang C and Erlang A values; hotline staffing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from call_routing.staffing import agents_needed, erlang_c, staffing
from tests.support.nodes import HOTLINE


def test_erlang_c_published_values() -> None:
    """10 Erlang (200 calls/h × 180 s), 14 agents, answer within 20 s."""
    result = staffing(14, 200, 180, 20)
    assert result.p_wait == pytest.approx(0.1741, abs=5e-5)
    assert result.service_level == pytest.approx(0.8884, abs=5e-5)
    assert result.asa_s == pytest.approx(7.84, abs=5e-3)
    assert result.p_abandon == 0.0


def test_erlang_c_small_textbook_case() -> None:
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9)  # 2 Erlang on 3 servers
    assert erlang_c(2, 2.0) == 1.0, "load equal to the seats: the queue never settles"
    assert erlang_c(5, 0.0) == 0.0


def test_erlang_a_published_values() -> None:
    """The same load, 10 agents, callers' mean patience 60 s."""
    result = staffing(10, 200, 180, 20, patience_s=60)
    assert result.p_wait == pytest.approx(0.4234, abs=5e-5)
    assert result.p_abandon == pytest.approx(0.1575, abs=5e-5)
    assert 0 < result.service_level < 1 - result.p_abandon


def test_erlang_a_with_endless_patience_is_erlang_c() -> None:
    patient = staffing(14, 200, 180, 20, patience_s=1e9)
    plain = staffing(14, 200, 180, 20)
    assert patient.p_wait == pytest.approx(plain.p_wait, abs=1e-6)
    assert patient.service_level == pytest.approx(plain.service_level, abs=1e-6)
    assert patient.asa_s == pytest.approx(plain.asa_s, abs=1e-4)


def test_more_agents_never_serve_worse() -> None:
    levels = [staffing(n, 300, 200, 15, patience_s=90).service_level for n in range(17, 30)]
    assert levels == sorted(levels)
    plain = [staffing(n, 300, 200, 15).service_level for n in range(17, 30)]
    assert plain == sorted(plain)


def test_agents_needed_is_the_fewest_that_meet_the_target() -> None:
    needed = agents_needed(200, 180, 20, 0.80)
    assert needed.agents == 14 and needed.service_level >= 0.80
    assert staffing(13, 200, 180, 20).service_level < 0.80
    gbt = agents_needed(200, 180, 15, 0.95)  # GB/T 33358: 95 % within 15 s
    assert gbt.service_level >= 0.95 and staffing(gbt.agents - 1, 200, 180, 15).service_level < 0.95
    with pytest.raises(ValueError, match="between 0 and 1"):
        agents_needed(200, 180, 20, 95)


def _hotline(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(HOTLINE), "staffing", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_staffing_command_for_one_interval_and_a_forecast(tmp_path: Path) -> None:
    one = _hotline(
        "--calls-per-hour", "200", "--aht", "180", "--answer-within", "20",
        "--service-level", "0.80", "--json",
    )  # fmt: skip
    assert one.returncode == 0, one.stderr
    figures = json.loads(one.stdout)
    assert figures["agents"] == 14 and figures["p_wait"] == pytest.approx(0.1741, abs=1e-4)
    assert set(figures) >= {"agents", "service_level", "asa_s", "p_wait", "p_abandon"}

    patient = _hotline(
        "--calls-per-hour", "200", "--aht", "180", "--answer-within", "20",
        "--service-level", "0.80", "--patience", "60", "--json",
    )  # fmt: skip
    assert json.loads(patient.stdout)["p_abandon"] > 0

    forecast = tmp_path / "forecast.csv"
    forecast.write_text("interval,calls\n08:00,40\n08:30,120\n09:00,160\n", encoding="utf-8")
    day = _hotline("--forecast", str(forecast), "--json")
    assert day.returncode == 0, day.stderr
    rows = json.loads(day.stdout)
    assert [r["interval"] for r in rows] == ["08:00", "08:30", "09:00"]
    seats = [r["agents"] for r in rows]
    assert seats == sorted(seats) and all(r["service_level"] >= 0.95 for r in rows)


def test_staffing_command_refuses_bad_input(tmp_path: Path) -> None:
    neither = _hotline()
    assert neither.returncode == 2 and "--calls-per-hour" in neither.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("interval,calls\n08:00,many\n", encoding="utf-8")
    refused = _hotline("--forecast", str(bad))
    assert refused.returncode == 2 and "bad.csv:2" in refused.stderr
