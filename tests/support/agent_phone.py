"""An agent's softphone on a real node: ``hotline phone --auto-answer`` registered
with Kamailio as that agent, playing the agent's own tone as its voice."""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

import numpy as np

from tests.support.nodes import HOTLINE, Node, wait_for

TONES = {"1001": 600.0, "1002": 850.0, "1003": 1100.0, "1004": 1350.0}  # each agent's voice


def tone_wav(path: Path, freq: float, seconds: float = 3.0) -> Path:
    t = np.arange(int(8000 * seconds)) / 8000
    samples = (6000 * np.sin(2 * np.pi * freq * t)).astype(np.int16)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(samples.tobytes())
    return path


class AgentPhone:
    """A `hotline phone --auto-answer` registered as an agent."""

    def __init__(
        self,
        node: Node,
        agent_id: str,
        workdir: Path,
        answer: bool = True,
        hangup_after_s: float | None = None,
        voice: Path | None = None,
        answer_after_s: float = 0.0,
    ) -> None:
        self.agent_id = agent_id
        self.workdir = workdir
        voice = voice or tone_wav(workdir / f"voice-{agent_id}.wav", TONES[agent_id])
        args = [
            str(HOTLINE),
            "phone",
            "--auto-answer",
            "--calls",
            "100",
            "--timeout",
            "600",
            "--register",
            node.target,
            "--from",
            agent_id,
            "--password",
            f"pw-{agent_id}",
            "--play",
            str(voice),
            "--loop-play",
            "--record",
            str(workdir / f"heard-{agent_id}-{{n}}.wav"),
        ]
        if not answer:
            args.append("--no-answer")
        if hangup_after_s is not None:
            args += ["--hangup-after", str(hangup_after_s)]
        if answer_after_s:
            args += ["--answer-after", str(answer_after_s)]
        self.out = (workdir / f"phone-{agent_id}.out").open("w+")
        self.process = subprocess.Popen(args, stdout=self.out, stderr=subprocess.STDOUT)

    def lines(self) -> list[dict]:
        self.out.flush()
        text = Path(self.out.name).read_text(errors="replace")
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    def wait_registered(self) -> None:
        wait_for(
            lambda: any("registered" in line for line in self.lines()),
            20,
            f"agent {self.agent_id} to register",
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.out.close()
