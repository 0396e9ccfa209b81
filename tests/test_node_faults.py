"""Faults and limits on a real node: overload, killed workers and hub, SIGTERM,
dead media, hold."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import wave

import pytest

from tests.support.nodes import Node, wait_for

pytestmark = pytest.mark.node


def _phone_in_background(node: Node, *args: str) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run() -> None:
        outcome["code"], outcome["summary"] = node.phone(*args)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _by_worker(node: Node, worker: str) -> list[dict]:
    return [m for m in node.manifests() if m["worker"] == worker]


def test_excess_calls_get_503_quickly(node_factory) -> None:
    node: Node = node_factory("overload", workers=1)
    started = time.monotonic()
    result = node.sipp(
        "caller_hangs_up.xml", calls=10, limit=10, rate=100, pause_ms=4000, timeout_s=60
    )
    elapsed = time.monotonic() - started
    assert result.successful == 10 and result.failed == 0, result.stderr[-2000:]
    assert result.count_responses(503) == 6, "one worker holds 4 calls; 6 are refused"
    assert "Retry-After: 30" in result.messages
    assert elapsed < 30, "refusals come at once, never after a hang"
    wait_for(
        lambda: len([m for m in node.manifests() if m["status"] == "complete"]) == 4,
        20,
        "4 complete recordings",
    )


def test_killed_worker_costs_only_its_own_calls(node_factory) -> None:
    node: Node = node_factory("kill-worker", workers=3, no_input_s=30)
    outcome: dict = {}
    sipp = threading.Thread(
        target=lambda: outcome.setdefault(
            "r",
            # The callers stay quiet: their calls last until they hang up at 8 s.
            node.sipp(
                "caller_hangs_up.xml",
                calls=6,
                limit=6,
                rate=50,
                pause_ms=8000,
                timeout_s=90,
                lead_silence_s=12,
            ),
        )
    )
    sipp.start()
    wait_for(lambda: node.calls_in_progress() == 6, 20, "six calls in progress")
    victim = node.part("worker-w1")["pid"]
    on_victim = len([m for m in node.manifests() if m["worker"] == "w1"])
    assert on_victim >= 1, "the call-load dispatcher spreads calls over all workers"
    time.sleep(2.5)  # let the victim's recordings grow
    os.kill(victim, signal.SIGKILL)
    sipp.join(120)
    result = outcome["r"]
    assert result.successful == 6 - on_victim, result.stderr[-2000:]
    assert result.failed == on_victim
    # Restarted, recordings repaired, the others untouched.
    wait_for(
        lambda: node.part("worker-w1")["restarts"] == 1 and node.part("worker-w1")["pid"],
        30,
        "worker w1 restarted",
    )
    repaired = wait_for(
        lambda: [m for m in _by_worker(node, "w1") if m["status"] == "incomplete"],
        30,
        "repaired recordings",
    )
    assert len(repaired) == on_victim
    for manifest in repaired:
        assert manifest["end_reason"] == "worker_lost"
        for leg in manifest["legs"]:
            with wave.open(f"{manifest['_dir']}/{leg['file']}") as w:
                assert w.getnframes() / w.getframerate() > 2.0, "recorded audio was kept"
            assert leg["sha256"]
    others = [m for m in node.manifests() if m["worker"] != "w1"]
    assert len(others) == 6 - on_victim
    assert all(m["status"] == "complete" for m in others)
    # New calls are answered, also by the restarted worker.
    for _ in range(4):
        code, summary = node.phone("--hangup-after", "1")
        assert code == 0 and summary["answered"]


def test_killed_hub_recovers_and_calls_end_cleanly(node_factory) -> None:
    node: Node = node_factory("kill-hub", workers=2, no_input_s=20)
    thread, outcome = _phone_in_background(node, "--timeout", "60")
    wait_for(
        lambda: node.calls_in_progress() == 1 and node.hub_events("call.answered"),
        20,
        "a call in progress",
    )
    os.kill(node.part("hub")["pid"], signal.SIGKILL)
    thread.join(90)
    assert outcome["code"] == 0, outcome
    assert outcome["summary"]["reason"] == "remote_hangup"
    assert node.part("hub")["restarts"] == 1
    log = (node.data_dir / "logs" / "hub.log").read_text()
    assert "adopting a call" in log
    code, summary = node.phone("--hangup-after", "1")
    assert code == 0 and summary["answered"], "the restarted hub answers new calls"


def test_sigterm_lets_calls_finish_and_refuses_new_ones(node_factory) -> None:
    node: Node = node_factory("sigterm", workers=2, grace_s=30, no_input_s=20)
    thread, outcome = _phone_in_background(node, "--hangup-after", "8")  # a quiet caller
    wait_for(lambda: node.calls_in_progress() == 1, 20, "a call in progress")
    node.process.send_signal(signal.SIGTERM)
    time.sleep(1.0)
    code, refused = node.phone("--timeout", "20")
    assert code != 0 and refused["status_code"] == 503 and not refused["answered"]
    thread.join(60)
    assert outcome["code"] == 0 and outcome["summary"]["reason"] == "local_hangup"
    assert node.process.wait(60) == 0
    (manifest,) = node.manifests()
    assert manifest["status"] == "complete"
    assert node.status()["state"] == "stopped"
    leftovers = subprocess.run(
        ["pgrep", "-f", str(node.data_dir)], capture_output=True, text=True, check=False
    ).stdout.split()
    assert leftovers == [], "every part of the node stopped"


def test_dead_media_ends_the_call(node_factory) -> None:
    node: Node = node_factory("rtp-timeout", workers=1, rtp_timeout_s=3, no_input_s=30)
    result = node.sipp("caller_sends_no_media.xml", timeout_s=60)
    assert result.successful == 1, result.stderr[-2000:]
    ended = wait_for(lambda: node.hub_events("call.ended"), 10, "call.ended")
    assert ended[-1]["reason"] == "rtp_timeout"
    assert 3 <= ended[-1]["duration_s"] < 10


def test_hold_and_resume_keep_the_call(node: Node) -> None:
    before = {m["call_id"] for m in node.manifests()}
    result = node.sipp("caller_holds.xml", lead_silence_s=0.2)
    assert result.successful == 1 and result.failed == 0, result.stderr[-2000:]
    manifest = wait_for(
        lambda: [
            m for m in node.manifests() if m["call_id"] not in before and m["status"] != "recording"
        ],
        20,
        "the manifest",
    )[0]
    assert manifest["end_reason"] == "remote_hangup"
    assert manifest["status"] == "complete"


def test_refused_calls_do_not_use_up_worker_capacity(node_factory) -> None:
    """Calls a worker refuses (here: the hub is frozen, so nobody answers) must give
    their place back in Kamailio's call-load count, or the node would stay full."""
    node: Node = node_factory("refusals", workers=1)
    hub = node.part("hub")["pid"]
    os.kill(hub, signal.SIGSTOP)
    try:
        result = node.sipp(
            "caller_hangs_up.xml", calls=8, limit=4, rate=10, pause_ms=500, timeout_s=60
        )
    finally:
        os.kill(hub, signal.SIGCONT)
    assert result.successful == 8 and result.count_responses(503) == 8
    worker_log = (node.data_dir / "logs" / "worker-w1.log").read_text()
    assert worker_log.count("hub did not answer the call in time") >= 4
    # The thawed hub catches up on what queued while it was frozen, and admission
    # may shed calls until it has: that is a different guard, so wait it out.
    wait_for(
        lambda: node.status().get("admission", {}).get("state") == "open",
        30,
        "admission open again after the hub thawed",
    )
    # All four places are free again: four calls at once are answered.
    result = node.sipp(
        "caller_hangs_up.xml", calls=4, limit=4, rate=10, pause_ms=1000, timeout_s=60
    )
    assert result.successful == 4 and result.count_responses(503) == 0, result.stderr[-1500:]


def test_setup_rate_above_the_limit_is_refused_at_once(node_factory) -> None:
    node: Node = node_factory(
        "admission", workers=4, extra_toml="\n[sip]\nmax_call_setups_per_s = 5\n"
    )
    result = node.sipp(
        "caller_hangs_up.xml", calls=30, limit=30, rate=30, pause_ms=1000, timeout_s=60
    )
    assert result.successful == 30 and result.failed == 0, result.stderr[-1500:]
    refused = result.count_responses(503)
    assert 15 <= refused <= 26, "about 5 of each second's 30 new calls are let in"
    assert "Retry-After: 30" in result.messages


def test_hung_worker_is_skipped_after_a_timeout(node_factory) -> None:
    """A worker that stops answering (frozen, not dead) costs a few seconds, not calls."""
    node: Node = node_factory("failover", workers=2)
    frozen = node.part("worker-w1")["pid"]
    os.kill(frozen, signal.SIGSTOP)
    try:
        started = time.monotonic()
        for _ in range(3):
            code, summary = node.phone("--hangup-after", "1", "--timeout", "40")
            assert code == 0 and summary["answered"], summary
        elapsed = time.monotonic() - started
    finally:
        os.kill(frozen, signal.SIGCONT)
    assert all(m["worker"] == "w2" for m in node.manifests())
    assert elapsed < 40, "each call waits at most the INVITE timeout before failing over"


def test_killed_asr_service_costs_no_call_and_comes_back(node_factory) -> None:
    node: Node = node_factory("kill-asr", workers=2, no_input_s=20)
    lead = node.prompt_seconds("greeting") + 0.5
    outcome: dict = {}
    sipp = threading.Thread(
        target=lambda: outcome.setdefault(
            "r", node.sipp("caller_speech.xml", lead_silence_s=lead + 1.5, timeout_s=90)
        )
    )
    sipp.start()
    wait_for(lambda: node.hub_events("asr.streaming"), 30, "the call streaming to ASR")
    os.kill(node.part("asr")["pid"], signal.SIGKILL)
    sipp.join(120)
    result = outcome["r"]
    assert result.successful == 1, "the call goes on without its transcript"
    unavailable = node.hub_events("asr.unavailable")
    assert unavailable and "lost" in unavailable[0]["reason"]
    call_id = unavailable[0]["call_id"]
    prompts = [e["prompt"] for e in node.hub_events("prompt.started") if e["call_id"] == call_id]
    assert prompts[-1] == "agent_unavailable", f"a human is offered, not a wait: {prompts}"
    wait_for(
        lambda: node.part("asr")["restarts"] == 1 and node.part("asr")["pid"],
        30,
        "the ASR service restarted",
    )
    settings = json.loads((node.data_dir / "run" / "settings.json").read_text())

    def asr_listening() -> bool:
        with socket.socket() as probe:
            return probe.connect_ex((settings["asr"]["host"], settings["asr"]["port"])) == 0

    wait_for(asr_listening, 60, "the restarted ASR service to listen (model loaded)")
    result = node.sipp("caller_speech.xml", lead_silence_s=lead, timeout_s=90)
    assert result.successful == 1
    assert wait_for(lambda: node.hub_events("asr.final"), 20, "a transcript again")
