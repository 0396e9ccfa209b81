"""Starting real hotline nodes for tests: `hotline serve` on free loopback ports."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ivr.peers.sipp import SippResult, dtmf_pcap, run_sipp, speech_pcap

REPO = Path(__file__).resolve().parents[2]  # tests/support/nodes.py → the repository
SPEECH = REPO.parent / "shared" / "data" / "speech"
HOTLINE = Path(sys.executable).parent / "hotline"

# Short prompts keep call-flow tests quick; they are still synthesized by espeak-ng.
TEST_CONFIG = """
[node]
name = "{name}"

[prompts.texts]
greeting = "您好，这里是一二三四五热线，请讲。"
closing = "感谢来电，再见。"
no_input = "没有听到声音，再见。"
agent_unavailable = "暂时无法转接人工，再见。"
ask_again = "没有听清，请您再说一遍。"

[listen]
no_input_s = {no_input_s}

[supervisor]
grace_s = {grace_s}

[web]
port = {web_port}

[workers]
count = {workers}
hub_lost_grace_s = {hub_lost_grace_s}
rtp_timeout_s = {rtp_timeout_s}
"""


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


_HANDED_OUT: set[int] = set()


def free_sip_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1, outside the kernel's ephemeral
    range and never handed out twice in one test run.

    A node's workers (PJSIP transports and RTP) and Mosquitto bind port 0, which the
    kernel fills from the ephemeral range; a port picked there could be taken by one
    of them in the seconds before Kamailio binds it ("Address already in use")."""
    low, high = _ephemeral_range()
    candidates = [p for p in range(20000, 32000) if not low <= p <= high] or list(
        range(high + 1, 65535)
    )
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    for port in rng.sample(candidates, min(500, len(candidates))):
        if port in _HANDED_OUT:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError("no free port below the ephemeral range")


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Node:
    root: Path
    sip_port: int
    config: Path
    process: subprocess.Popen
    log: Path
    sipp_runs: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.sip_port}"

    @property
    def uri(self) -> str:
        return f"sip:12345@{self.target}"

    @property
    def recordings(self) -> Path:
        return self.data_dir / "recordings"

    def status(self) -> dict[str, Any]:
        try:
            return json.loads((self.data_dir / "run" / "node.json").read_text())
        except (OSError, ValueError):
            return {}

    def part(self, name: str) -> dict[str, Any]:
        return next(p for p in self.status().get("parts", []) if p["name"] == name)

    def wait_ready(self, timeout: float = 90) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"node exited early:\n{self.log.read_text()[-3000:]}")
            return self.status().get("state") == "ready"

        wait_for(ready, timeout, "the node to be ready")

    def hub_events(self, event: str | None = None) -> list[dict[str, Any]]:
        lines = []
        for line in (self.data_dir / "logs" / "hub.log").read_text(errors="replace").splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                if event is None or record.get("event") == event:
                    lines.append(record)
        return lines

    def manifests(self) -> list[dict[str, Any]]:
        return [
            json.loads(p.read_text()) | {"_dir": str(p.parent)}
            for p in sorted(self.recordings.glob("*/*/*/*/manifest.json"))
        ]

    def calls_in_progress(self) -> int:
        result = subprocess.run(
            [str(HOTLINE), "status", "--data-dir", str(self.data_dir), "--json"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        workers = json.loads(result.stdout)["workers"]
        return sum(len(w.get("calls", [])) for w in workers.values())

    def prompt_seconds(self, prompt: str) -> float:
        with wave.open(str(self.data_dir / "prompts" / "8000" / f"{prompt}.wav")) as w:
            return w.getnframes() / w.getframerate()

    def sipp(
        self,
        scenario: str,
        *,
        clip: str = "aishell1_BAC009S0764W0121.wav",
        lead_silence_s: float = 0.0,
        service: str = "12345",
        calls: int = 1,
        limit: int = 1,
        rate: float = 10.0,
        pause_ms: int = 0,
        timeout_s: float = 120.0,
        talk_s: float = 0.0,
        variables: dict[str, str] | None = None,
    ) -> SippResult:
        self.sipp_runs += 1
        workdir = self.root / f"sipp-{self.sipp_runs}-{Path(scenario).stem}"
        workdir.mkdir(parents=True)
        (workdir / "caller.pcap").write_bytes(
            speech_pcap(SPEECH / clip, lead_silence_s, min_seconds=talk_s)
        )
        (workdir / "dtmf.pcap").write_bytes(dtmf_pcap("0"))
        extra = ["-d", str(pause_ms)] if pause_ms else []
        return run_sipp(
            scenario,
            self.target,
            workdir,
            service=service,
            calls=calls,
            limit=limit,
            rate=rate,
            timeout_s=timeout_s,
            extra_args=extra,
            variables=variables,
        )

    def phone(self, *args: str, timeout: float = 120) -> tuple[int, dict[str, Any]]:
        result = subprocess.run(
            [str(HOTLINE), "phone", self.uri, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        summary = json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout else {}
        return result.returncode, summary

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                return self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait(10)
        return int(self.process.returncode)


def start_node(
    root: Path,
    *,
    workers: int = 2,
    grace_s: float = 20,
    hub_lost_grace_s: float = 15,
    rtp_timeout_s: int = 30,
    no_input_s: float = 3,
    extra_toml: str = "",
    wait: bool = True,
) -> Node:
    root.mkdir(parents=True, exist_ok=True)
    config = root / "node.toml"
    config.write_text(
        TEST_CONFIG.format(
            name=root.name.replace("_", "-")[:40] or "test",
            workers=workers,
            grace_s=grace_s,
            hub_lost_grace_s=hub_lost_grace_s,
            rtp_timeout_s=rtp_timeout_s,
            no_input_s=no_input_s,
            web_port=(web_port := free_sip_port()),
        )
        + extra_toml
    )
    port = free_sip_port()
    log = root / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(HOTLINE),
                "serve",
                "-c",
                str(config),
                "--data-dir",
                str(root / "data"),
                "--sip-port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")},
        )
    node = Node(root, port, config, process, log)
    node.extra["web_port"] = web_port
    if wait:
        node.wait_ready()
    return node


def voiced_frames(path: Path, threshold: float = 200.0) -> tuple[np.ndarray, int]:
    """Per-20-ms RMS above ``threshold`` (a boolean per frame) and the sample rate."""
    with wave.open(str(path)) as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64)
    frame = rate // 50
    usable = len(samples) - len(samples) % frame
    rms = np.sqrt((samples[:usable].reshape(-1, frame) ** 2).mean(axis=1))
    return rms > threshold, rate


def first_voiced_span(path: Path, max_gap_s: float = 1.0) -> tuple[float, float]:
    """Start and end (seconds) of the first stretch of sound with no gap over ``max_gap_s``."""
    voiced, _ = voiced_frames(path)
    indices = np.flatnonzero(voiced)
    if not len(indices):
        return 0.0, 0.0
    start = end = indices[0]
    for index in indices[1:]:
        if (index - end) * 0.02 > max_gap_s:
            break
        end = index
    return start * 0.02, (end + 1) * 0.02
