"""The ASR service as the node runs it: its own process, niced, sized to its cores
(ivr/node/asr_service.py), against a real Mosquitto and the real Whisper engine."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from websockets.asyncio.client import connect

from asr.audio import read_wav
from asr.service import size_service, usable_cores
from events import topics
from events.messages import decode
from sip_config import Settings
from tests.support.broker import Broker, _free_port
from tests.support.nodes import SPEECH, wait_for

ROOT = Path(__file__).resolve().parent.parent
CLIP = SPEECH / "aishell1_BAC009S0764W0121_8k_ulaw_sim.wav"


def _nice_of_threads(pid: int) -> dict[str, int]:
    """Each thread's name (with its id) and niceness, from /proc (field 19 of stat)."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            stat = (task / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            name = (task / "comm").read_text().strip()
            found[f"{name}/{task.name}"] = int(fields[16])
    return found


class StatusListener:
    def __init__(self, port: int, topic: str) -> None:
        import paho.mqtt.client as mqtt

        self.latest: dict | None = None
        self._subscribed = threading.Event()
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"asr-{time.time_ns()}")
        client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        client.on_subscribe = lambda *_: self._subscribed.set()
        client.on_message = lambda c, u, message: setattr(
            self, "latest", decode(bytes(message.payload)).data
        )
        client.connect("127.0.0.1", port)
        client.loop_start()
        self.client = client
        assert self._subscribed.wait(15)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    directory = tmp_path_factory.mktemp("asr-process")
    broker = Broker(directory)
    broker.start()
    settings = Settings.model_validate(
        {
            "node": {"name": "asrnode", "data_dir": str(directory / "data")},
            "mqtt": {"port": broker.port},
            "asr": {"engine": "whisper", "port": _free_port()},
        }
    )
    settings_file = directory / "settings.json"
    settings_file.write_text(settings.model_dump_json())
    listener = StatusListener(broker.port, topics.asr_status("asrnode-asr"))
    log = (directory / "asr.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ivr.node.asr_service",
            "--settings",
            str(directory / "settings.json"),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        wait_for(
            lambda: (
                process.poll() is not None
                or "asr service up" in (directory / "asr.log").read_text()
            ),
            120,
            "the ASR service up",
        )
        assert process.poll() is None, (directory / "asr.log").read_text()[-2000:]
        yield process, settings, listener, directory / "asr.log"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()
        listener.close()
        broker.stop()


def _transcribe(url: str) -> list[dict]:
    samples, rate = read_wav(CLIP)
    pcm = (samples * 32767).astype(np.int16)
    audio = np.concatenate([np.zeros(4000, np.int16), pcm, np.zeros(12000, np.int16)])

    async def stream() -> list[dict]:
        async with connect(url) as ws:
            await ws.send(json.dumps({"call_id": "asr-nice-1", "sample_rate": rate}))
            for start in range(0, len(audio) - 160 + 1, 160):
                await ws.send(audio[start : start + 160].tobytes())
            await ws.send(json.dumps({"eof": True}))
            return [json.loads(m) async for m in ws]

    return asyncio.run(stream())


def test_the_service_and_all_its_threads_run_niced_decoding_included(service) -> None:
    process, settings, _listener, _log = service
    before = _nice_of_threads(process.pid)
    replies = _transcribe(f"ws://127.0.0.1:{settings.asr.port}")
    assert [r for r in replies if r["type"] == "final"]  # the decoders have run
    assert os.getpriority(os.PRIO_PROCESS, process.pid) == settings.asr.nice == 10
    after = _nice_of_threads(process.pid)
    made = set(after) - set(before)  # the decoding pool starts with the first decode
    assert made, (before, after)
    assert set(after.values()) == {10} and len(after) > 2, after


def test_the_status_and_the_start_log_show_the_sizing(service) -> None:
    process, settings, listener, log = service
    expected = size_service(usable_cores(), "whisper")
    status = wait_for(
        lambda: listener.latest if listener.latest and "streams" in listener.latest else None,
        15,
        "the retained ASR status with the service's load",
    )
    assert status["state"] == "up" and status["pid"] == process.pid
    assert status["capacity"] == expected.max_streams
    assert (status["decoders"], status["cpu_threads"]) == (expected.decoders, expected.cpu_threads)
    assert status["sized"] == "max_streams,decoders,cpu_threads" and status["nice"] == 10
    assert {"backlog_s", "rtf", "shed", "overloaded"} <= set(status)
    (up,) = [
        line
        for line in map(json.loads, log.read_text().splitlines())
        if line.get("msg") == "asr service up"
    ]
    assert up["max_streams"] == expected.max_streams and up["nice"] == 10
    assert up["sizing"] == expected.how and f"{expected.cores} cores" in up["sizing"]


def test_lower_priority_never_raises_it(tmp_path: Path) -> None:
    """In a child process already nicer than asked: it stays as nice."""
    code = (
        "import os; from ivr.node.asr_service import lower_priority\n"
        "os.nice(15); print(lower_priority(10))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "15"
