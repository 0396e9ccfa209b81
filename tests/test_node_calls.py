"""Calls into a real node: Kamailio in front, pjsua2 workers, the hub, Mosquitto.

Peers are SIPp (through Kamailio, honouring Record-Route) and `hotline phone`.
"""

from __future__ import annotations

import json
import subprocess
import threading
import wave
from pathlib import Path

import numpy as np
import pytest

from asr.normalize import cer
from ivr.peers.sipp import alaw_decode, alaw_encode, read_wav_8k
from recordings.manifest import verify
from recordings.transcript import read_transcript
from tests.support.nodes import HOTLINE, SPEECH, Node, first_voiced_span, voiced_frames, wait_for

pytestmark = pytest.mark.node
CLIP = "aishell1_BAC009S0764W0121.wav"


def _new_manifests(node: Node, before: set[str], count: int = 1) -> list[dict]:
    """Wait until ``count`` new manifests are final (the worker hashes after the BYE)."""

    def final() -> list[dict]:
        new = [m for m in node.manifests() if m["call_id"] not in before]
        done = len(new) >= count and all(m["status"] != "recording" for m in new)
        return new if done else []

    return wait_for(final, 30, f"{count} finalised manifests")


def _ids(node: Node) -> set[str]:
    return {m["call_id"] for m in node.manifests()}


def _wav(path: str) -> np.ndarray:
    with wave.open(path) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64)


def test_phone_hears_the_greeting(node: Node, tmp_path) -> None:
    heard = tmp_path / "heard.wav"
    code, summary = node.phone("--record", str(heard), "--from", "13912345678")
    assert code == 0, summary
    assert summary["reason"] == "remote_hangup" and summary["codec"] == "PCMA"
    start, end = first_voiced_span(heard)
    prompt_start, prompt_end = first_voiced_span(node.data_dir / "prompts/8000/greeting.wav")
    assert start < 1.0, "the greeting should start right after the answer"
    assert abs((end - start) - (prompt_end - prompt_start)) <= 0.5
    # The caller said nothing: after the listening window the node says goodbye and hangs up.
    offered = [e for e in node.hub_events("call.offered") if e["caller"] == "13912345678"]
    assert offered, "the hub logged the call with the caller's number"
    call_id = offered[-1]["call_id"]
    assert any(e["call_id"] == call_id for e in node.hub_events("listen.timeout"))


def test_sipp_caller_is_recorded(node: Node) -> None:
    before = _ids(node)
    lead = node.prompt_seconds("greeting") + 0.5
    result = node.sipp("caller_speech.xml", clip=CLIP, lead_silence_s=lead)
    assert result.successful == 1 and result.failed == 0, result.stderr
    (manifest,) = _new_manifests(node, before)
    assert manifest["status"] == "complete"
    assert manifest["caller"] == "13800138000" and manifest["called"] == "12345"
    assert manifest["codec"] == "PCMA" and manifest["sample_rate"] == 8000
    assert manifest["end_reason"] == "flow_complete"
    legs = {leg["leg"]: leg for leg in manifest["legs"]}
    clip_seconds = len(read_wav_8k(SPEECH / CLIP)) / 8000
    assert legs["caller"]["duration_s"] >= clip_seconds
    assert verify(__import__("pathlib").Path(manifest["_dir"])) == []
    # The caller leg holds the caller's words: each voiced half second of the clip sent as
    # A-law is found in it, in order. (Piece by piece, because on a loaded machine
    # the jitter buffer may drop or repeat a frame, which shifts the rest of the clip.)
    caller = _wav(f"{manifest['_dir']}/caller.wav")
    sent = alaw_decode(alaw_encode(read_wav_8k(SPEECH / CLIP))).astype(np.float64)
    window = caller[int(lead * 8000) - 4000 :]
    matches = _piece_by_piece(window, sent)
    assert len(matches) >= 3
    scores = [score for score, _ in matches]
    offsets = [offset for score, offset in matches if score > 0.8]
    # Another speaker's words score below 0.1; a second holding a dropped frame ~0.5.
    assert np.median(scores) > 0.9 and min(scores) > 0.3, scores
    assert offsets == sorted(offsets), offsets
    # The node's leg holds the greeting and the closing prompt, aligned in time.
    played, _ = voiced_frames(__import__("pathlib").Path(manifest["_dir"]) / "played.wav")
    assert played[: int(node.prompt_seconds("greeting") * 50)].mean() > 0.3
    assert abs(legs["played"]["duration_s"] - legs["caller"]["duration_s"]) < 0.2
    # The hub heard the caller start talking, and the turn ended on their words:
    # the transcript (often before the energy end of speech) or the end of speech.
    call_id = manifest["call_id"]
    assert [e for e in node.hub_events("speech.started") if e["call_id"] == call_id]
    ended = [e for e in node.hub_events("speech.ended") if e["call_id"] == call_id]
    finals = [e for e in node.hub_events("asr.final") if e["call_id"] == call_id]
    assert (ended and ended[0]["speech_ms"] >= 2000) or (
        finals and finals[0]["end_s"] - finals[0]["start_s"] >= 2.0
    )


def test_cancel_before_answer_leaves_nothing_behind(node: Node) -> None:
    result = node.sipp("caller_cancels.xml")
    assert result.successful == 1, result.stderr
    assert result.count_responses(487) == 1
    wait_for(
        lambda: any(e["reason"] == "cancelled" for e in node.hub_events("call.ended")),
        10,
        "a cancelled call.ended event",
    )
    wait_for(lambda: node.calls_in_progress() == 0, 10, "no calls left in progress")


def test_unknown_number_gets_404(node: Node) -> None:
    result = node.sipp("caller_unknown_number.xml", service="99999")
    assert result.successful == 1, result.stderr
    assert result.count_responses(404) == 1


@pytest.mark.parametrize(
    ("scenario", "method"), [("caller_dtmf.xml", "rfc4733"), ("caller_dtmf_info.xml", "sip_info")]
)
def test_key_zero_is_reported(node: Node, scenario: str, method: str) -> None:
    before = {e["call_id"] for e in node.hub_events("dtmf")}
    result = node.sipp(scenario)
    assert result.successful == 1, result.stderr
    new = [e for e in node.hub_events("dtmf") if e["call_id"] not in before]
    assert [(e["digit"], e["method"]) for e in new] == [("0", method)]
    call_id = new[0]["call_id"]
    prompts = [e["prompt"] for e in node.hub_events("prompt.started") if e["call_id"] == call_id]
    assert "agent_unavailable" in prompts


def test_events_tail_and_status(node: Node) -> None:
    tail = subprocess.Popen(
        [str(HOTLINE), "events", "tail", "--data-dir", str(node.data_dir), "--seconds", "40"],
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: list[dict] = []
    reader = threading.Thread(target=lambda: lines.extend(json.loads(x) for x in tail.stdout))
    reader.start()
    try:
        wait_for(
            lambda: any(line["type"] == "node.status" for line in lines), 10, "retained statuses"
        )
        code, _ = node.phone("--hangup-after", "2")
        assert code == 0
        wait_for(
            lambda: any(line["type"] == "recording.saved" for line in lines),
            15,
            "recording.saved on the bus",
        )
    finally:
        tail.terminate()
        reader.join(10)
    types = [line["type"] for line in lines]
    for expected in (
        "call.offered",
        "answer",
        "call.answered",
        "play",
        "prompt.started",
        "call.ended",
        "recording.saved",
    ):
        assert expected in types
    status = json.loads(
        subprocess.run(
            [str(HOTLINE), "status", "--data-dir", str(node.data_dir), "--json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    parts = {p["name"]: p for p in status["node"]["parts"]}
    assert {"mosquitto", "hub", "kamailio", "worker-w1", "worker-w14"} <= set(parts)
    assert all(p["state"] == "running" and p["pid"] for p in parts.values())
    assert len(status["workers"]) == 14
    assert all(w["state"] == "up" and w["capacity"] == 4 for w in status["workers"].values())


def test_fifty_concurrent_calls(node: Node) -> None:
    before = _ids(node)
    result = node.sipp(
        "caller_hangs_up.xml", calls=100, limit=50, rate=50, pause_ms=5000, timeout_s=240
    )
    assert result.successful == 100 and result.failed == 0, (result.stats, result.stderr[-2000:])
    assert result.count_responses(503) == 0
    manifests = _new_manifests(node, before, 100)
    assert len(manifests) == 100
    for manifest in manifests:
        assert manifest["status"] == "complete", manifest
        for leg in manifest["legs"]:
            path = f"{manifest['_dir']}/{leg['file']}"
            with wave.open(path) as w:
                assert w.getframerate() == 8000 and w.getnchannels() == 1
                assert w.getnframes() / 8000 >= 4.5
    assert len({m["worker"] for m in manifests}) >= 13, "calls were spread over the workers"
    wait_for(lambda: node.calls_in_progress() == 0, 20, "no leaked calls")
    # The hub may still be catching up on the burst's events (transcripts, tickets)
    # and admission may have cut the share for a moment: it opens again by itself.
    wait_for(
        lambda: node.status().get("admission", {}).get("state") == "open",
        30,
        "admission open again after the burst",
    )
    code, summary = node.phone("--hangup-after", "1")
    assert code == 0 and summary["answered"], ("the node still answers afterwards", summary)


@pytest.mark.parametrize(
    ("offer", "expected"),
    [
        (["PCMU"], "PCMU"),
        (["G722"], "G722"),
        (["PCMA", "PCMU", "G722"], "PCMA"),
    ],
)
def test_codecs_negotiated(node: Node, offer: list[str], expected: str) -> None:
    args = [arg for codec in offer for arg in ("--codec", codec)]
    code, summary = node.phone(*args, "--hangup-after", "1.5")
    assert code == 0 and summary["codec"] == expected


def test_without_agents_no_softphone_can_register(node: Node) -> None:
    """Kamailio is the registrar for agents' softphones, with digest passwords from
    the settings; a node with no agents lets nobody register (403).  Registered
    agents are covered in test_node_agents.py."""
    result = subprocess.run(
        [
            str(HOTLINE),
            "phone",
            "--auto-answer",
            "--register",
            node.target,
            "--from",
            "8001",
            "--password",
            "secret",
            "--timeout",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3
    assert "not registered" in json.loads(result.stdout.splitlines()[-1])["error"]
    code, _ = node.phone("--hangup-after", "0.5")  # the number 12345 still goes to the IVR
    assert code == 0
    unknown = subprocess.run(
        [str(HOTLINE), "phone", f"sip:8002@{node.target}", "--timeout", "20"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert json.loads(unknown.stdout.splitlines()[-1])["status_code"] in (403, 404)


def test_the_node_runs_an_asr_service_that_publishes_results(node: Node) -> None:
    """`hotline serve` starts the ASR service; a stream's results reach the bus and the hub."""
    import asyncio

    from websockets.asyncio.client import connect

    from asr.audio import read_wav

    settings = json.loads((node.data_dir / "run" / "settings.json").read_text())
    url = f"ws://{settings['asr']['host']}:{settings['asr']['port']}"
    assert node.part("asr")["state"] == "running"
    samples, rate = read_wav(SPEECH / "aishell1_BAC009S0764W0121_8k_ulaw_sim.wav")
    pcm = (samples * 32767).astype(np.int16)
    audio = np.concatenate([np.zeros(4000, np.int16), pcm, np.zeros(12000, np.int16)])

    async def stream() -> list[dict]:
        async with connect(url) as ws:
            await ws.send(json.dumps({"call_id": "asr-test-1", "sample_rate": rate}))
            for start in range(0, len(audio) - 160 + 1, 160):
                await ws.send(audio[start : start + 160].tobytes())
            await ws.send(json.dumps({"eof": True}))
            return [json.loads(m) async for m in ws]

    replies = asyncio.run(stream())
    assert any(r["type"] == "final" for r in replies)
    finals = wait_for(
        lambda: [e for e in node.hub_events("asr.final") if e["call_id"] == "asr-test-1"],
        15,
        "asr.final on the bus",
    )
    assert finals[0]["text"].startswith("甚至出现")


def test_the_callers_words_are_transcribed_during_the_call(node: Node) -> None:
    before = _ids(node)
    lead = node.prompt_seconds("greeting") + 0.8
    result = node.sipp(
        "caller_speech.xml", clip="aishell1_BAC009S0764W0121.wav", lead_silence_s=lead
    )
    assert result.successful == 1, result.stderr[-1500:]
    (manifest,) = _new_manifests(node, before)
    call_id = manifest["call_id"]
    assert any(e["call_id"] == call_id for e in node.hub_events("asr.streaming"))
    finals = [e for e in node.hub_events("asr.final") if e["call_id"] == call_id]
    assert finals, "the call has a transcript"
    assert cer("甚至出现交易几乎停滞的情况", "".join(e["text"] for e in finals)) <= 0.35
    # Understood and written down: a draft work order, in the node's ticket store.
    (drafted,) = wait_for(
        lambda: [e for e in node.hub_events("ticket.drafted") if e["call_id"] == call_id],
        15,
        "a draft ticket for the call",
    )
    listed = subprocess.run(
        [str(HOTLINE), "tickets", "list", "--json", "--data-dir", str(node.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    (ticket,) = [t for t in json.loads(listed.stdout) if t["number"] == drafted["number"]]
    assert ticket["call_id"] == call_id and ticket["caller_number"] == "13800138000"
    assert "交易" in ticket["content"] or "停滞" in ticket["content"]


def test_caller_talking_over_the_greeting_stops_it_and_is_transcribed(node: Node) -> None:
    """Barge-in: the caller starts talking 1 s into the greeting."""
    before = _ids(node)
    greeting_s = node.prompt_seconds("greeting")
    result = node.sipp(
        "caller_speech.xml", clip="aishell1_BAC009S0764W0121.wav", lead_silence_s=1.0
    )
    assert result.successful == 1, result.stderr[-1500:]
    (manifest,) = _new_manifests(node, before)
    call_id = manifest["call_id"]
    finished = [
        e
        for e in node.hub_events("prompt.finished")
        if e["call_id"] == call_id and e["prompt"] == "greeting"
    ]
    assert finished and finished[0]["interrupted"] is True, "the greeting gave way"
    # What the node played: the greeting stops about when the caller started.
    start, end = first_voiced_span(Path(manifest["_dir"]) / "played.wav", max_gap_s=0.3)
    assert end - start < greeting_s - 0.8, (start, end, greeting_s)
    finals = [e for e in node.hub_events("asr.final") if e["call_id"] == call_id]
    assert cer("甚至出现交易几乎停滞的情况", "".join(e["text"] for e in finals)) <= 0.35
    transcript = wait_for(
        lambda: (
            read_transcript(Path(manifest["_dir"]))
            if (Path(manifest["_dir"]) / "transcript.json").exists()
            else None
        ),
        15,
        "transcript.json beside the recordings",
    )
    # (an AISHELL news sentence is no citizen request: the node may ask for details)
    assert transcript["understood"] is True and transcript["turns"] >= 1
    assert transcript["understanding"]["domain"] and transcript["ticket"]
    assert transcript["lines"][0]["confidence"] > 0


def test_a_silent_first_turn_asks_again_and_the_second_turn_is_transcribed(
    node_factory,
) -> None:
    node: Node = node_factory("ask-again", workers=1, no_input_s=2)
    before = _ids(node)
    lead = node.prompt_seconds("greeting") + 2.0 + 1.0  # speaks while being asked again
    result = node.sipp(
        "caller_speech.xml", clip="aishell1_BAC009S0764W0121.wav", lead_silence_s=lead
    )
    assert result.successful == 1, result.stderr[-1500:]
    (manifest,) = _new_manifests(node, before)
    call_id = manifest["call_id"]
    prompts = [e["prompt"] for e in node.hub_events("prompt.started") if e["call_id"] == call_id]
    assert prompts[:2] == ["greeting", "ask_again"] and prompts[-1] == "closing", prompts
    finals = [e for e in node.hub_events("asr.final") if e["call_id"] == call_id]
    assert finals and {e["turn"] for e in finals} == {2}
    assert cer("甚至出现交易几乎停滞的情况", "".join(e["text"] for e in finals)) <= 0.35


def test_a_transfer_is_handed_to_the_network_with_refer(node: Node) -> None:
    """What an emergency ends in: the worker sends REFER (to sip:119@ the caller's
    gateway), the far end accepts and reports success, and the call is handed over."""
    import asyncio

    from events import messages as m
    from events import topics
    from events.messages import Message
    from events.mqtt import BrokerAddress, MqttBus

    settings = json.loads((node.data_dir / "run" / "settings.json").read_text())
    outcome: dict = {}
    before = {e["call_id"] for e in node.hub_events("call.answered")}
    caller = threading.Thread(
        target=lambda: outcome.setdefault(
            "r", node.sipp("caller_accepts_transfer.xml", lead_silence_s=20, timeout_s=60)
        )
    )
    caller.start()
    answered = wait_for(
        lambda: [e for e in node.hub_events("call.answered") if e["call_id"] not in before],
        20,
        "the call answered",
    )[0]

    async def send_transfer() -> None:
        bus = MqttBus(BrokerAddress("127.0.0.1", settings["mqtt"]["port"]), "test-transfer")
        task = asyncio.create_task(bus.run([], lambda topic, message: asyncio.sleep(0)))
        await asyncio.wait_for(bus.connected.wait(), 10)
        command = Message(
            m.TRANSFER, {"call_id": answered["call_id"], "number": "119"}, node="test"
        )
        await bus.publish(topics.worker_commands(answered["worker"]), command)
        await asyncio.sleep(0.5)
        task.cancel()

    asyncio.run(send_transfer())
    caller.join(90)
    result = outcome["r"]
    assert result.successful == 1, result.stderr[-2000:]
    statuses = [
        e for e in node.hub_events(m.TRANSFER_STATUS) if e["call_id"] == answered["call_id"]
    ]
    assert any(e["final"] and e["code"] == 200 for e in statuses), statuses


def test_the_hub_serves_health_with_every_part(node: Node) -> None:
    import httpx

    response = httpx.get(f"http://127.0.0.1:{node.extra['web_port']}/healthz", timeout=10)
    assert response.status_code == 200, response.text
    parts = response.json()["parts"]
    assert parts["hub"] == "up" and parts["tickets"] == "up"
    assert sum(1 for name in parts if name.startswith("worker-")) == 14  # the shared node's
    docs = httpx.get(f"http://127.0.0.1:{node.extra['web_port']}/openapi.json", timeout=10)
    assert "/healthz" in docs.json()["paths"]


def test_the_first_admin_password_is_printed_once_and_signs_in(node: Node) -> None:
    import re

    import httpx

    found = sorted(
        set(re.findall(r"one-time password (\w+)", node.log.read_text(errors="replace")))
    )
    assert len(found) == 1, "one admin password, printed on the operator's terminal"
    base = f"http://127.0.0.1:{node.extra['web_port']}"
    with httpx.Client(base_url=base, timeout=10) as client:
        wrong = client.post("/login", data={"username": "admin", "password": "nope"})
        assert wrong.status_code == 401
        signed_in = client.post("/login", data={"username": "admin", "password": found[0]})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/account/password"
        # A one-time password: nothing but the password page until it is changed.
        held = client.get("/api/me")
        assert held.status_code == 403 and "请先修改密码" in held.json()["detail"]
        moved = client.get("/wallboard")
        assert moved.status_code == 303 and moved.headers["location"] == "/account/password"
        assert client.get("/metrics").status_code == 303
        page = client.get("/account/password")
        assert page.status_code == 200 and "修改密码" in page.text
        csrf = page.text.split('<meta name="csrf-token" content="')[1].split('"')[0]
        form = {
            "csrf_token": csrf,
            "current_password": found[0],
            "new_password": "admin-chosen-1",
            "confirm_password": "admin-chosen-1",
        }
        changed = client.post("/account/password", data=form)
        assert changed.status_code == 303 and changed.headers["location"] == "/wallboard"
        me = client.get("/api/me").json()
        assert me["username"] == "admin" and me["role"] == "admin"
        assert client.get("/wallboard").status_code == 200
        assert client.get("/metrics").status_code == 200
        old = client.post("/login", data={"username": "admin", "password": found[0]})
        assert old.status_code == 401  # the one-time password is spent


def _piece_by_piece(recorded: np.ndarray, sent: np.ndarray) -> list[tuple[float, int]]:
    """For each voiced half-second piece of ``sent``: the best normalized correlation
    with ``recorded`` and where it was found."""
    matches = []
    for start in range(0, len(sent) - 4000 + 1, 4000):
        piece = sent[start : start + 4000]
        if np.sqrt((piece**2).mean()) < 300:
            continue
        correlation = np.correlate(recorded, piece, mode="valid")
        energy = np.sqrt(
            np.convolve(recorded**2, np.ones(len(piece)), mode="valid") * (piece**2).sum()
        )
        normalized = correlation / np.maximum(energy, 1)
        matches.append((float(normalized.max()), int(normalized.argmax())))
    return matches
