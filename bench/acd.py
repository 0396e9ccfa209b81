"""ACD assignment cost at scale: 10,000 agents, 2,000 waiting calls.

    .venv/bin/python bench/acd.py [--agents 10000] [--waiting 2000] [--decisions 20000] [--json]

Twelve seat groups (one general, eleven with a required skill at level 3,
widening to level 1 after 60 s and backed up by the general group after 120 s),
agents in one to three groups with random skill levels, callers with priorities
and now and then a language skill of their own. Once every agent is busy and
2,000 calls wait, it times decisions: an event the hub reports plus the tick
after it (a call ends and the freed agent is offered the first call it can
take, or a new call is queued). Prints µs per decision (p50, p99, max) and
simulated calls per second of a day through the ACD with overflow (the
simulator's "all" policy). Goal (issue 7): p99 under 1 ms per decision.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from call_routing.acd import Acd, Agent, Offer, SeatGroup, Strategy  # noqa: E402
from call_routing.simulator import POLICIES, Scenario, simulate  # noqa: E402

GENERAL = "综合"
SPECIAL = ["城建", "环保", "交通", "教育", "人社", "商贸", "卫健", "市监", "公安", "民政", "农业"]
STRATEGIES = list(Strategy)


def build(agents: int, rng: random.Random) -> Acd:
    groups = [SeatGroup(GENERAL, ring_timeout_s=20)]
    for index, name in enumerate(SPECIAL):
        groups.append(
            SeatGroup(
                name,
                STRATEGIES[index % len(STRATEGIES)],
                ring_timeout_s=20,
                required_skill=name,
                required_level=3,
                widen_after_s=60,
                widen_to_level=1,
                backup_groups=(GENERAL,),
                backup_after_s=120,
            )
        )
    people = []
    for n in range(agents):
        mine = rng.sample(SPECIAL, rng.randint(1, 2))
        if rng.random() < 0.25:
            mine.append(GENERAL)
        skills = {name: rng.randint(1, 5) for name in mine if name != GENERAL}
        if rng.random() < 0.2:
            skills["粤语"] = rng.randint(1, 5)
        people.append(Agent(f"a{n}", f"坐席{n}", f"sip:{n}@bench", tuple(mine), skills))
    return Acd(groups, people)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--waiting", type=int, default=2_000)
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--day-calls", type=int, default=20_000, help="calls in the simulated day")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    names = [GENERAL, *SPECIAL]
    acd = build(args.agents, rng)
    now = 0.0
    serial = 0
    connected: list[str] = []

    def new_call() -> None:
        nonlocal serial
        serial += 1
        skills = {"粤语": rng.randint(1, 3)} if rng.random() < 0.05 else None
        priority = 1 if rng.random() < 0.1 else 0
        acd.enqueue(f"c{serial}", rng.choice(names), now, priority=priority, skills=skills)

    waiting = 0

    def step(event: str) -> list:
        nonlocal waiting
        if event == "end":
            acd.call_ended(connected.pop(rng.randrange(len(connected))), now)
        else:
            new_call()
            waiting += 1
        decisions = acd.tick(now)
        return decisions

    def settle(decisions: list) -> int:
        nonlocal waiting
        offers = 0
        for decision in decisions:
            if isinstance(decision, Offer):
                acd.offer_answered(decision.call_id, now)
                connected.append(decision.call_id)
                offers += 1
        waiting -= offers
        return offers

    started = time.perf_counter()
    for index in range(args.agents):
        acd.log_in(f"a{index}", now)
    while waiting < args.waiting:  # every agent busy, then ``waiting`` calls queued
        now += 0.01
        settle(step("call"))
    setup_s = time.perf_counter() - started
    free = sum(1 for state in acd.agents() if state.status.value == "available")

    # Decisions at a steady 2,000 waiting: a call ends (its agent takes the first
    # call they can) when the queue is long enough, else a new call comes in.
    timings: list[float] = []
    offers = 0
    clock = time.perf_counter
    for _ in range(args.decisions):
        now += 0.05
        event = "end" if waiting >= args.waiting and connected else "call"
        t0 = clock()
        decisions = step(event)
        timings.append(clock() - t0)
        offers += settle(decisions)
    timings.sort()
    micro = [t * 1e6 for t in timings]
    waiting_now = sum(len(acd.queue(name)) for name in names)

    day = Scenario(
        agents=80,
        calls_per_hour=args.day_calls / 8,
        aht_s=180,
        hours=8,
        seed=args.seed,
        patience_s=300,
        groups=4,
        overflow=POLICIES["all"],
    )
    t0 = time.perf_counter()
    result = simulate(day)
    day_s = time.perf_counter() - t0
    figures = {
        "agents": args.agents,
        "waiting_calls": waiting_now,
        "free_agents_at_start": free,
        "decisions": len(micro),
        "offers": offers,
        "decision_us_p50": round(statistics.median(micro), 1),
        "decision_us_p99": round(micro[int(len(micro) * 0.99) - 1], 1),
        "decision_us_max": round(micro[-1], 1),
        "setup_s": round(setup_s, 2),
        "day_calls": result.calls,
        "day_wall_s": round(day_s, 2),
        "simulated_calls_per_s": round(result.calls / day_s),
    }
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return
    for key, value in figures.items():
        print(f"{key:>24}  {value}")


if __name__ == "__main__":
    main()
