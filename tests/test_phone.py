"""`hotline phone`: two real pjsua2 softphones calling each other (no node)."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from ivr.peers.phone import DtmfAt
from tests.support.nodes import HOTLINE, SPEECH, free_sip_port, voiced_frames

CLIP = SPEECH / "aishell1_BAC009S0764W0121.wav"


def test_dtmf_schedule_parsing() -> None:
    assert DtmfAt.parse("0@3.5") == DtmfAt("0", 3.5)
    assert DtmfAt.parse("#@0") == DtmfAt("#", 0.0)
    for bad in ("0", "00@1", "x@1", "1@-2", "1@soon"):
        with pytest.raises(ValueError):
            DtmfAt.parse(bad)


def test_auto_answer_phone_hears_the_caller_and_gets_digits(tmp_path) -> None:
    port = free_sip_port()
    heard = tmp_path / "agent-heard.wav"
    agent = subprocess.Popen(
        [
            str(HOTLINE),
            "phone",
            "--auto-answer",
            "--port",
            str(port),
            "--record",
            str(heard),
            "--timeout",
            "60",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        caller = None
        for _ in range(50):  # the agent needs a moment to listen
            caller = subprocess.run(
                [
                    str(HOTLINE),
                    "phone",
                    f"sip:agent@127.0.0.1:{port}",
                    "--play",
                    str(CLIP),
                    "--dtmf",
                    "5@1",
                    "--dtmf",
                    "0@1.5",
                    "--hangup-after",
                    "6",
                    "--timeout",
                    "30",
                ],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            if json.loads(caller.stdout.splitlines()[-1])["status_code"] != 408:
                break
        assert caller is not None and caller.returncode == 0, caller.stdout
        summary = json.loads(caller.stdout.splitlines()[-1])
        assert summary["answered"] and summary["reason"] == "local_hangup"
        agent_out, _ = agent.communicate(timeout=30)
    finally:
        agent.kill()
    assert agent.returncode == 0, agent_out
    agent_summary = json.loads(agent_out.splitlines()[-1])
    assert agent_summary["reason"] == "remote_hangup"
    assert agent_summary["dtmf_received"] == ["5", "0"]
    voiced, _ = voiced_frames(heard)
    spoken, _ = voiced_frames(CLIP)
    assert voiced.sum() >= 0.8 * spoken.sum(), "the agent heard the caller's words"
    assert np.flatnonzero(voiced)[0] * 0.02 < 1.0
