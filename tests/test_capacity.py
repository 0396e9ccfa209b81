"""call_routing.capacity: Erlang B against published table values, and a node's size."""

from __future__ import annotations

import pytest

from call_routing.capacity import erlang_b, lines_needed, node_size


@pytest.mark.parametrize(
    ("lines", "load", "expected"),
    [(1, 1.0, 0.5), (2, 1.0, 0.2), (10, 5.0, 0.01838), (100, 80.0, 0.00400)],
)
def test_erlang_b_matches_the_table(lines: int, load: float, expected: float) -> None:
    assert erlang_b(lines, load) == pytest.approx(expected, rel=0.01)


def test_no_load_blocks_nothing_and_more_lines_block_less() -> None:
    assert erlang_b(3, 0.0) == 0.0
    values = [erlang_b(n, 20.0) for n in range(10, 40)]
    assert values == sorted(values, reverse=True)


def test_lines_needed_is_the_fewest_that_meet_the_target() -> None:
    lines = lines_needed(80.0, 0.01)
    assert erlang_b(lines, 80.0) <= 0.01 < erlang_b(lines - 1, 80.0)
    assert lines_needed(0.0, 0.01) == 0
    with pytest.raises(ValueError, match="between 0 and 1"):
        lines_needed(5.0, 1.5)


def test_a_citys_peak_hour_sized() -> None:
    # 12,000 calls in the peak hour, 4 minutes on the node each: 800 Erlang.
    size = node_size(12_000, 240, blocking=0.01, with_agents=True, calls_per_host=200)
    assert size.load_erlang == pytest.approx(800)
    assert 800 < size.calls < 850 and size.blocking <= 0.01
    assert size.workers == -(-size.calls // 2), "with agents a worker carries two callers"
    assert size.hosts == -(-size.calls // 200)
    assert size.asr_streams == 200
    without = node_size(12_000, 240, with_agents=False)
    assert without.workers == -(-without.calls // 4)


def test_bad_figures_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="call length"):
        node_size(100, 0)
    with pytest.raises(ValueError, match="listening share"):
        node_size(100, 60, listening_share=2)


def test_hotline_capacity_prints_the_size_and_refuses_nonsense() -> None:
    import json

    from typer.testing import CliRunner

    from ivr.cli.app import app

    runner = CliRunner()
    result = runner.invoke(app, ["capacity", "--calls-per-hour", "12000", "--json"])
    assert result.exit_code == 0, result.output
    size = json.loads(result.output)
    assert size["calls"] > size["load_erlang"] == 800.0 and size["hosts"] >= 1
    bad = runner.invoke(app, ["capacity", "--calls-per-hour", "100", "--call-s", "0"])
    assert bad.exit_code == 2 and "call length" in bad.output
