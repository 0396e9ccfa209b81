"""The supervisor's admission loop (ivr.node.shedding) against a scripted Kamailio
control socket: counters read and kept across a Kamailio restart, the share set
only when it changes (and again now and then), the hub's figures used only fresh."""

from __future__ import annotations

import asyncio
import time

from ivr.node.admission import AdmissionPolicy
from ivr.node.shedding import Shedder, parse_statistics


class FakeKamailio:
    def __init__(self) -> None:
        self.counters = {"shed_rate": 0, "shed_load": 0, "shed_hub": 0, "shed_full": 0}
        self.shares: list[int] = []
        self.up = True

    async def __call__(self, *command: str) -> tuple[bool, str]:
        if not self.up:
            return False, "connection refused"
        if command[0] == "stats.get_statistics":
            return True, "\n".join(f"script:{k} = {v}" for k, v in self.counters.items())
        if command[0] == "pv.shvSet":
            assert command[1:3] == ("admit_pct", "int")
            self.shares.append(int(command[3]))
            return True, "Ok. Variable set to new value."
        raise AssertionError(command)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def shedder(kamailio: FakeKamailio, clock: Clock) -> Shedder:
    policy = AdmissionPolicy(target_s=1.0, cut=0.5, step_pct=10, idle_step_pct=10, settle_s=0)
    return Shedder(kamailio, policy, clock, cpu=lambda: 0.5, cpu_unniced=lambda: 0.5)


def test_statistics_output_is_parsed_with_or_without_the_group() -> None:
    text = "script:shed_rate = 3\nshed_hub = 12\ncore:rcv_requests = 40\n"
    assert parse_statistics(text) == {"shed_rate": 3, "shed_hub": 12, "rcv_requests": 40}


def test_hub_busy_refusals_cut_the_share_and_it_is_set_in_kamailio() -> None:
    kamailio, clock = FakeKamailio(), Clock()
    loop = shedder(kamailio, clock)
    assert asyncio.run(loop.step()) == 100
    assert kamailio.shares == [100], "the share is set once at the start"
    clock.now = 1
    assert asyncio.run(loop.step()) == 100
    assert kamailio.shares == [100], "unchanged: not set again"
    kamailio.counters["shed_hub"] = 4
    clock.now = 2
    assert asyncio.run(loop.step()) == 50
    assert kamailio.shares == [100, 50]
    status = loop.status()
    assert status["state"] == "shedding" and status["refused"]["hub_slow"] == 4
    assert status["refused_total"] == 4
    # The same count again is not new refusals: the share grows back.
    clock.now = 3
    assert asyncio.run(loop.step()) == 60


def test_counts_survive_a_kamailio_restart() -> None:
    kamailio, clock = FakeKamailio(), Clock()
    loop = shedder(kamailio, clock)
    kamailio.counters["shed_full"] = 7
    asyncio.run(loop.step())
    kamailio.counters["shed_full"] = 2  # restarted, then two more refused
    clock.now = 1
    asyncio.run(loop.step())
    assert loop.status()["refused"]["full"] == 9


def test_a_restarted_kamailio_gets_the_share_again_within_seconds() -> None:
    kamailio, clock = FakeKamailio(), Clock()
    loop = shedder(kamailio, clock)
    kamailio.counters["shed_hub"] = 1
    asyncio.run(loop.step())
    assert kamailio.shares == [50]
    clock.now = 11  # nothing changed, but a restarted Kamailio would have 100 again
    kamailio.counters["shed_hub"] = 1
    loop.admission.policy = AdmissionPolicy(step_pct=0, idle_step_pct=0)  # hold the share
    asyncio.run(loop.step())
    assert kamailio.shares == [50, 50]


def test_an_unreachable_kamailio_costs_nothing_but_a_warning() -> None:
    kamailio, clock = FakeKamailio(), Clock()
    kamailio.up = False
    loop = shedder(kamailio, clock)
    assert asyncio.run(loop.step()) == 100
    assert loop.status()["refused_total"] == 0


def test_only_a_fresh_hub_load_counts() -> None:
    kamailio, clock = FakeKamailio(), Clock()
    loop = shedder(kamailio, clock)
    loop.hub_load({"p90_s": 2.5, "stale": 0})
    assert asyncio.run(loop.step()) == 50
    assert loop.status()["hub_p90_s"] == 2.5
    clock.now = 10  # the hub said nothing since: its old figures are not held against it
    assert asyncio.run(loop.step()) == 60
    assert loop.status()["hub_p90_s"] is None


def test_a_hub_behind_on_its_events_is_saturated_even_if_it_answers_quickly() -> None:
    kamailio, clock = FakeKamailio(), Clock()
    loop = shedder(kamailio, clock)
    loop.hub_load({"p90_s": 0.05, "lag_p90_s": 4.0, "stale": 0})
    assert asyncio.run(loop.step()) == 50
    status = loop.status()
    assert status["hub_lag_p90_s"] == 4.0 and status["hub_p90_s"] == 0.05
    assert "behind on calls' events" in status["reason"]


def test_the_cpu_outside_niced_work_is_a_share_of_the_host() -> None:
    from ivr.node.shedding import UnnicedCpu

    read = UnnicedCpu()
    assert read() is None  # nothing to compare with yet
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:  # this process is not niced: it counts
        pass
    busy = read()
    assert busy is not None and 0.0 < busy <= 1.0
