"""Simulator speed: a full day of 100,000 calls through the ACD, on one core.

    .venv/bin/python bench/simulator.py [--calls 100000] [--agents 225]

Goal (issue 5): under 30 s for the day.  Prints the day's figures, the wall time
and simulated calls per second.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from call_routing.simulator import Scenario, simulate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=225)
    parser.add_argument("--aht", type=float, default=180)
    args = parser.parse_args()
    started = time.perf_counter()
    result = simulate(Scenario(args.agents, args.calls / 24, args.aht, hours=24, seed=1))
    seconds = time.perf_counter() - started
    figures = result.as_dict() | {
        "wall_s": round(seconds, 2),
        "simulated_calls_per_s": round(result.calls / seconds),
    }
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
