"""Overload on a real node: a hub that falls behind makes the SIP front shed new
calls at once (503 + Retry-After) instead of multiplying offers, and the node is
back to answering by itself when the hub catches up."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from tests.support.nodes import Node, wait_for

pytestmark = pytest.mark.node

STALL_CALLS = 16


def worker_log_lines(node: Node, message: str) -> list[dict]:
    found = []
    for path in sorted((node.data_dir / "logs").glob("worker-*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("{") and json.loads(line).get("msg") == message:
                found.append(json.loads(line))
    return found


def test_a_stalled_hub_is_shed_at_the_front_and_the_node_recovers_by_itself(
    node_factory,
) -> None:
    node: Node = node_factory("stalled-hub", workers=3)
    assert node.status()["admission"]["state"] == "open"
    hub = node.part("hub")["pid"]
    os.kill(hub, signal.SIGSTOP)  # the hub falls behind: it answers nothing for a while
    try:
        result = node.sipp(
            "caller_hangs_up.xml",
            calls=STALL_CALLS,
            limit=STALL_CALLS,
            rate=2,
            pause_ms=1000,
            timeout_s=60,
        )
        wait_for(
            lambda: node.status()["admission"]["refused_total"] >= STALL_CALLS,
            5,
            "Kamailio's count of refused calls",
        )
        during = node.status()["admission"]
    finally:
        os.kill(hub, signal.SIGCONT)

    assert result.failed == 0, result.stderr[-1500:]
    assert result.count_responses(503) == STALL_CALLS, "no call is answered by a stalled hub"
    assert "Retry-After: 30" in result.messages
    refused = during["refused"]
    assert refused["hub_slow"] + refused["load"] + refused["full"] == STALL_CALLS, during
    assert refused["hub_slow"] >= 1, during
    assert refused["load"] >= 1, "once saturated, Kamailio refuses before any worker is involved"
    assert refused["full"] == 0, "no failover to other workers used them up"
    assert during["state"] == "shedding" and during["admit_pct"] < 100, during
    # Each call the hub was too slow for reached one worker, not one after another.
    offered = worker_log_lines(node, "call offered")
    assert len(offered) == refused["hub_slow"], (len(offered), during)
    assert len({line["sip_call_id"] for line in offered}) == len(offered)

    # The hub catches up: the old offers are dropped, not answered; admission opens.
    started = time.monotonic()
    wait_for(lambda: node.status()["admission"]["state"] == "open", 30, "admission open again")
    recovered_in = time.monotonic() - started
    code, summary = node.phone("--hangup-after", "1", "--timeout", "30")
    assert code == 0 and summary["answered"], summary
    assert recovered_in < 30
    stale = [
        line
        for line in (node.data_dir / "logs" / "hub.log").read_text().splitlines()
        if "offers too old to answer" in line
    ]
    assert stale, "the hub dropped the offers the workers had already refused"
