"""Live calls to agents on a real node: agents' softphones (`hotline phone`)
register with Kamailio using their passwords, log in over the bus, and take
callers queued by the hub; caller and agent hear each other, and each leg is
recorded (plus a stereo file for QA)."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from recordings.manifest import verify
from tests.support.agent_phone import TONES, AgentPhone, tone_wav
from tests.support.nodes import HOTLINE, SPEECH, Node, start_node, wait_for

pytestmark = pytest.mark.node
CLIP = "aishell1_BAC009S0764W0121.wav"

AGENTS_TOML = """
[[agents]]
id = "1001"
name = "张敏"
password = "pw-1001"
seat_groups = ["综合"]

[[agents]]
id = "1002"
name = "李华"
password = "pw-1002"
seat_groups = ["综合"]

[[agents]]
id = "1003"
name = "王芳"
password = "pw-1003"
seat_groups = ["综合"]

[[agents]]
id = "1004"
name = "赵强"
sip_uri = "sip:1004@127.0.0.1:{fixed_port}"
seat_groups = ["综合"]

[seat_groups."综合"]
ring_timeout_s = 5
wrap_up_s = 1

[acd]
max_missed = 1
announce_every_s = 0
callback = false
"""


def read(path: Path | str) -> tuple[np.ndarray, int, int]:
    with wave.open(str(path)) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        return data.astype(np.float64), w.getframerate(), w.getnchannels()


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def loud(samples: np.ndarray, rate: int) -> np.ndarray:
    """The 20 ms frames with sound in them."""
    frame = rate // 50
    usable = len(samples) - len(samples) % frame
    rms = np.sqrt((samples[:usable].reshape(-1, frame) ** 2).mean(axis=1))
    return rms > 300


def agents_cli(node: Node, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(HOTLINE), "agents", *args, "-c", str(node.config), "--data-dir", str(node.data_dir)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def agent_states(node: Node) -> dict[str, dict]:
    result = agents_cli(node, "list", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def agent_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    from tests.support.nodes import free_sip_port

    port = free_sip_port()
    node = start_node(
        tmp_path_factory.mktemp("agents-node"),
        workers=3,
        extra_toml=AGENTS_TOML.format(fixed_port=port),
    )
    node.extra["fixed_port"] = port
    yield node
    node.stop()


@pytest.fixture
def phones(agent_node: Node, tmp_path: Path) -> Iterator[dict[str, AgentPhone]]:
    made: dict[str, AgentPhone] = {}

    def start(agent_id: str, answer: bool = True, voice: Path | None = None) -> AgentPhone:
        phone = AgentPhone(agent_node, agent_id, tmp_path, answer, voice=voice)
        made[agent_id] = phone
        phone.wait_registered()
        return phone

    yield start  # type: ignore[misc]
    for phone in made.values():
        phone.stop()
    for agent_id in made:
        agents_cli(agent_node, "logout", agent_id)


def place_call(node: Node, workdir: Path, caller: str, hangup_after: float = 14.0) -> dict:
    """A caller who presses 0 for a human, then talks (the speech clip) and hangs up."""
    heard = workdir / f"caller-{caller}.wav"
    code, summary = node.phone(
        "--from",
        caller,
        "--dtmf",
        "0@1",
        "--play",
        str(SPEECH / CLIP),
        "--play-at",
        "6",
        "--record",
        str(heard),
        "--hangup-after",
        str(hangup_after),
        timeout=90,
    )
    assert code == 0, summary
    return {"summary": summary, "heard": heard}


def manifest_for(node: Node, caller: str) -> dict:
    def found() -> dict | None:
        for manifest in node.manifests():
            if manifest["caller"] == caller and manifest["status"] != "recording":
                return manifest
        return None

    return wait_for(found, 30, f"the manifest of {caller}'s call")


def test_an_agent_with_a_wrong_password_cannot_register(agent_node: Node, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            str(HOTLINE),
            "phone",
            "--auto-answer",
            "--timeout",
            "15",
            "--register",
            agent_node.target,
            "--from",
            "1001",
            "--password",
            "wrong",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "not registered" in result.stdout + result.stderr


def test_a_caller_is_bridged_to_an_agent_and_both_legs_are_recorded(
    agent_node: Node, phones, tmp_path: Path
) -> None:
    phone = phones("1002")
    login = agents_cli(agent_node, "login", "1002")
    assert login.returncode == 0, login.stderr
    assert agent_states(agent_node)["1002"]["status"] == "available"
    status = subprocess.run(
        [str(HOTLINE), "status", "--json", "--data-dir", str(agent_node.data_dir)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(status.stdout)["agents"]["1002"]["status"] == "available"

    call = place_call(agent_node, tmp_path, "13800000001")

    # The caller heard the agent's voice (their tone) once bridged.
    heard, rate, _ = read(call["heard"])
    tail = heard[int(8 * rate) : int(13 * rate)]
    assert abs(dominant_hz(tail, rate) - TONES["1002"]) < 15
    # The agent heard the caller's words: sound arrives after the caller starts talking.
    lines = phone.lines()
    assert any(line.get("call_ended") for line in lines), lines
    agent_heard, rate, _ = read(tmp_path / "heard-1002-1.wav")
    assert loud(agent_heard, rate).sum() * 0.02 > 1.0, "the agent should hear the caller talk"

    manifest = manifest_for(agent_node, "13800000001")
    assert manifest["status"] == "complete" and manifest["agent"] == "1002"
    assert manifest["ticket"], "the call's work order number is in the manifest"
    legs = {leg["leg"]: leg for leg in manifest["legs"]}
    assert set(legs) == {"caller", "played", "agent", "qa"}
    assert legs["qa"]["channels"] == 2
    assert 0 < legs["agent"]["offset_s"] < 10
    assert verify(Path(manifest["_dir"])) == []
    directory = Path(manifest["_dir"])
    agent_leg, rate, _ = read(directory / "agent.wav")
    assert abs(dominant_hz(agent_leg[rate : 4 * rate], rate) - TONES["1002"]) < 15
    stereo, rate, channels = read(directory / "qa.wav")
    assert channels == 2
    left, right = stereo[0::2], stereo[1::2]
    start = int((legs["agent"]["offset_s"] + 1) * rate)
    assert abs(dominant_hz(right[start : start + 2 * rate], rate) - TONES["1002"]) < 15
    assert loud(left[start:], rate).sum() > 50, "the caller's side is on the left"
    transcript = json.loads((directory / "transcript.json").read_text())
    assert transcript["ticket"] == manifest["ticket"]

    def wrapped_up() -> bool:
        return agent_states(agent_node)["1002"]["status"] == "available"

    wait_for(wrapped_up, 15, "the agent to be available after wrap-up")
    assert agent_states(agent_node)["1002"]["calls_answered"] >= 1


def test_an_agent_who_does_not_answer_is_skipped_and_marked(
    agent_node: Node, phones, tmp_path: Path
) -> None:
    sleepy = phones("1001", answer=False)
    phones("1003")
    assert agents_cli(agent_node, "login", "1001").returncode == 0
    time.sleep(1.1)  # 1001 has been idle longest: offered first
    assert agents_cli(agent_node, "login", "1003").returncode == 0

    place_call(agent_node, tmp_path, "13800000002", hangup_after=18)

    assert sleepy.lines() == [] or not any(line.get("answered") for line in sleepy.lines())
    states = agent_states(agent_node)
    assert states["1001"]["status"] == "not_ready" and states["1001"]["reason"] == "未接听"
    assert states["1001"]["failures"]["no_answer"] == 1
    manifest = manifest_for(agent_node, "13800000002")
    assert manifest["agent"] == "1003"


def test_citizens_cannot_ring_an_agent_directly(agent_node: Node, phones) -> None:
    phone = phones("1003")
    direct = subprocess.run(
        [str(HOTLINE), "phone", f"sip:1003@{agent_node.target}", "--timeout", "20"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert json.loads(direct.stdout.splitlines()[-1])["status_code"] == 403
    assert not any(line.get("call_ended") for line in phone.lines())


PEAK_TOML = """
[[agents]]
id = "1001"
password = "pw-1001"
seat_groups = ["综合"]
skills = {{ "综合" = 3 }}

[[agents]]
id = "1002"
password = "pw-1002"
seat_groups = ["综合"]
skills = {{ "综合" = 1 }}

[[agents]]
id = "1003"
password = "pw-1003"
seat_groups = ["综合"]
skills = {{ "综合" = 1 }}

[seat_groups."综合"]
ring_timeout_s = 5
wrap_up_s = 1
required_skill = "综合"
required_level = 3
widen_after_s = 6
widen_to_level = 1

[acd]
announce_every_s = 6
callback = true
callback_offer_after_s = 8
callback_retry_s = 20
trunk_uri = "sip:{{number}}@127.0.0.1:{citizen_port}"
"""


def waiting_caller(directory: Path, patience_ms: int, numbers: str) -> str:
    """The waiting caller's SIPp scenario with their patience filled in (SIPp does
    not expand keywords in a timeout) and caller numbers ``{numbers}{call_number}``,
    distinct per run: a number seen in the last 24 h would be a repeat caller."""
    text = (Path(__file__).parent / "sipp" / "caller_waits_for_agent.xml").read_text()
    path = directory / f"caller_{numbers}_{patience_ms}.xml"
    text = text.replace("[patience_ms]", str(patience_ms))
    path.write_text(text.replace("1380013[call_number]", f"{numbers}[call_number]"))
    return str(path)


def is_callback(call_id: str) -> bool:
    """A callback's call id ends ``-cb<attempt>-<n>`` (a plain call's random hex may
    itself start with "cb")."""
    return re.search(r"-cb\d+-\d+$", call_id) is not None


def test_a_peak_of_twenty_callers_on_three_agents(tmp_path: Path) -> None:
    """Twenty callers at once on three agents: announcements while they wait,
    skill widening after 6 s, a callback booked with key 1 that really rings the
    citizen back, impatient callers abandoning; never an agent on two calls."""
    from tests.support.nodes import free_sip_port

    citizen_port = free_sip_port()
    node = start_node(
        tmp_path / "peak",
        workers=12,
        rtp_timeout_s=120,
        extra_toml=PEAK_TOML.format(citizen_port=citizen_port),
    )
    phones: list[AgentPhone] = []
    citizen_out = (tmp_path / "citizen.out").open("w+")
    citizen = subprocess.Popen(
        [
            str(HOTLINE),
            "phone",
            "--auto-answer",
            "--port",
            str(citizen_port),
            "--from",
            "13900000000",
            "--timeout",
            "240",
            "--record",
            str(tmp_path / "citizen.wav"),
        ],
        stdout=citizen_out,
        stderr=subprocess.DEVNULL,
    )
    try:
        for agent_id in ("1001", "1002", "1003"):
            phone = AgentPhone(node, agent_id, tmp_path, hangup_after_s=4)
            phones.append(phone)
        for phone in phones:
            phone.wait_registered()
            assert agents_cli(node, "login", phone.agent_id).returncode == 0

        results: dict[str, object] = {}

        def patient() -> None:
            results["patient"] = node.sipp(
                waiting_caller(tmp_path, 150_000, "1380013"),
                calls=14,
                limit=14,
                rate=7,
                talk_s=3,
                timeout_s=200,
            )

        def impatient() -> None:
            time.sleep(2.5)
            results["impatient"] = node.sipp(
                waiting_caller(tmp_path, 9_000, "1590015"),
                calls=5,
                limit=5,
                rate=10,
                talk_s=3,
                timeout_s=100,
            )

        def books_a_callback() -> None:
            time.sleep(3.0)
            results["callback"] = node.phone(
                "--from", "13900000000", "--dtmf", "0@1", "--dtmf", "1@15", timeout=90
            )

        threads = [threading.Thread(target=f) for f in (patient, impatient, books_a_callback)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(240)
        citizen.wait(120)  # the callback came and the agent finished with the citizen
    finally:
        for phone in phones:
            phone.stop()
        if citizen.poll() is None:
            citizen.kill()
        node.stop()

    patient_run, impatient_run = results["patient"], results["impatient"]
    assert patient_run.successful == 14, patient_run.stderr  # type: ignore[attr-defined]
    assert impatient_run.successful == 5, impatient_run.stderr  # type: ignore[attr-defined]
    code, booked = results["callback"]  # type: ignore[misc]
    assert code == 0, booked

    answered = node.hub_events("call.connected")
    abandoned = node.hub_events("call.abandoned")
    assert len(answered) >= 14, "every patient caller reaches an agent"
    assert len(abandoned) >= 3 and all(8 < e["waited_s"] < 14 for e in abandoned)
    announced = node.hub_events("call.announced")
    assert any(e["position"] > 1 for e in announced), "waiting callers hear their place"
    widened = [e for e in node.hub_events("call.overflowed") if e["stage"] == "skill"]
    assert widened, "calls waiting 6 s were offered to level-1 agents"
    by_agent = {e["call_id"]: e for e in answered}
    for event in answered:
        if event["agent_id"] in ("1002", "1003"):
            assert event["waited_s"] >= 5.9 or is_callback(event["call_id"]), event
    assert node.hub_events("callback.requested")
    callback_answered = node.hub_events("callback.answered")
    assert len(callback_answered) == 1
    citizen_lines = [
        json.loads(x) for x in Path(citizen_out.name).read_text().splitlines() if x.startswith("{")
    ]
    assert citizen_lines and citizen_lines[-1]["answered"], citizen_lines
    # The citizen heard the agent who called back (that agent's tone).
    heard, rate, _ = read(tmp_path / "citizen.wav")
    agent_id = callback_answered[0]["agent_id"]
    assert abs(dominant_hz(heard[rate // 2 : 3 * rate], rate) - TONES[agent_id]) < 15
    (callback_manifest,) = [m for m in node.manifests() if is_callback(m["call_id"])]
    assert callback_manifest["agent"] == agent_id and callback_manifest["ticket"]
    # Never an agent on two calls: each agent's conversations do not overlap.
    legs = {}
    for event in node.hub_events("agent.answered"):
        if "dial_id" in event:
            legs[(event["call_id"], event["dial_id"])] = [event["agent_id"], event["ts"], None]
    for event in node.hub_events("agent.hungup"):
        key = (event["call_id"], event.get("dial_id"))
        if key in legs:
            legs[key][2] = event["ts"]
    for agent_id in ("1001", "1002", "1003"):
        spans = sorted((start, end or "9") for a, start, end in legs.values() if a == agent_id)
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert end <= start, f"agent {agent_id} was on two calls at once"
    assert by_agent  # at least one conversation was seen


def test_calls_go_to_the_agent_idle_longest(agent_node: Node, phones, tmp_path: Path) -> None:
    order = ["1003", "1001", "1002"]
    for agent_id in order:
        phones(agent_id)
    for agent_id in order:
        assert agents_cli(agent_node, "login", agent_id).returncode == 0
        time.sleep(1.1)  # logged in one after the other: idle the longest first
    callers = ["13800000011", "13800000012", "13800000013"]

    def call(caller: str) -> None:
        place_call(agent_node, tmp_path, caller, hangup_after=16)

    threads = []
    for caller in callers:
        threads.append(threading.Thread(target=call, args=(caller,)))
        threads[-1].start()
        time.sleep(2.5)  # each caller is queued (key 0 at 1 s) before the next dials
    for thread in threads:
        thread.join(120)
    assert [manifest_for(agent_node, caller)["agent"] for caller in callers] == order


def test_both_sides_of_the_conversation_are_transcribed(
    agent_node: Node, phones, tmp_path: Path
) -> None:
    from asr.normalize import cer

    # An agent who says one sentence, pauses, says it again: 广州市房地产中介协会分析
    with wave.open(str(SPEECH / "aishell1_BAC009S0724W0121.wav")) as clip:
        params, frames = clip.getparams(), clip.readframes(clip.getnframes())
    spoken = tmp_path / "agent-says.wav"
    with wave.open(str(spoken), "wb") as out:
        out.setparams(params)
        out.writeframes(frames + b"\0\0" * int(params.framerate * 2.0))
    phones("1001", voice=spoken)
    assert agents_cli(agent_node, "login", "1001").returncode == 0
    place_call(agent_node, tmp_path, "13800000021", hangup_after=16)
    manifest = manifest_for(agent_node, "13800000021")
    transcript = wait_for(
        lambda: _read_json(Path(manifest["_dir"]) / "transcript.json"), 20, "transcript.json"
    )
    agent_lines = [line["text"] for line in transcript["lines"] if line.get("leg") == "agent"]
    caller_lines = [line["text"] for line in transcript["lines"] if line.get("leg") == "caller"]
    assert agent_lines, transcript["lines"]
    assert min(cer("广州市房地产中介协会分析", text) for text in agent_lines) <= 0.4
    # Each line says where in the recording it was said (QA seeks there).
    duration = max(leg["duration_s"] for leg in manifest["legs"])
    positions = [line.get("call_s") for line in transcript["lines"]]
    assert all(p is not None and 0 <= p <= duration for p in positions), positions
    assert any(cer("甚至出现交易几乎停滞的情况", text) <= 0.4 for text in caller_lines)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def test_an_agent_with_a_fixed_address_is_rung_there(agent_node: Node, tmp_path: Path) -> None:
    """A desk phone that cannot register: the node calls its sip_uri directly."""
    voice = tone_wav(tmp_path / "voice-1004.wav", TONES["1004"])
    desk = subprocess.Popen(
        [
            str(HOTLINE),
            "phone",
            "--auto-answer",
            "--port",
            str(agent_node.extra["fixed_port"]),
            "--play",
            str(voice),
            "--loop-play",
            "--timeout",
            "90",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        time.sleep(1.0)  # the desk phone listens
        assert agents_cli(agent_node, "login", "1004").returncode == 0
        call = place_call(agent_node, tmp_path, "13800000031")
        out, _ = desk.communicate(timeout=60)
    finally:
        if desk.poll() is None:
            desk.kill()
        agents_cli(agent_node, "logout", "1004")
    assert json.loads(out.splitlines()[-1])["answered"]
    heard, rate, _ = read(call["heard"])
    assert abs(dominant_hz(heard[8 * rate : 12 * rate], rate) - TONES["1004"]) < 15
    assert manifest_for(agent_node, "13800000031")["agent"] == "1004"
