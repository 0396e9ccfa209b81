"""Finished calls written to disk as the node writes them: real WAVs, a finalised
manifest in the hash chain and the hub's transcript (for the catalogue and QA)."""

from __future__ import annotations

import io
import math
import struct
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from recordings import manifest as mf
from recordings.layout import call_dir
from recordings.stereo import write_stereo
from recordings.transcript import write_transcript

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def wav_bytes(seconds: float, rate: int = 8000, tone_hz: float = 440.0) -> bytes:
    frames = int(seconds * rate)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(
            b"".join(
                struct.pack("<h", int(3000 * math.sin(2 * math.pi * tone_hz * i / rate)))
                for i in range(frames)
            )
        )
    return buffer.getvalue()


def make_call(
    root: Path,
    call_id: str,
    started: datetime = T0,
    seconds: float = 3.0,
    agent: str = "1001",
    seat_group: str = "综合",
    domain: str = "城市管理",
    request_type: str = "投诉",
    emergency: str = "",
    ticket: str = "",
    caller: str = "13800138000",
    with_agent: bool = True,
    transcript: bool = True,
    lines: list[dict[str, Any]] | None = None,
) -> Path:
    """A finished call: real WAVs (caller, played and, with an agent, agent and the
    stereo qa.wav), a finalised manifest in the hash chain and the hub's transcript."""
    directory = call_dir(root, call_id, started)
    directory.mkdir(parents=True)
    (directory / "caller.wav").write_bytes(wav_bytes(seconds, tone_hz=440))
    (directory / "played.wav").write_bytes(wav_bytes(seconds, tone_hz=660))
    legs = [mf.LegRecording("caller", "caller.wav"), mf.LegRecording("played", "played.wav")]
    if with_agent:
        (directory / "agent.wav").write_bytes(wav_bytes(seconds - 1, tone_hz=330))
        write_stereo(directory / "caller.wav", directory / "agent.wav", directory / "qa.wav", 1.0)
        legs += [
            mf.LegRecording("agent", "agent.wav", offset_s=1.0),
            mf.LegRecording("qa", "qa.wav", channels=2),
        ]
    manifest = mf.Manifest(
        call_id=call_id,
        sip_call_id=f"{call_id}@192.0.2.1",
        node="node1",
        worker="w1",
        caller=caller,
        called="12345",
        started_at=started.isoformat(),
        sample_rate=8000,
        legs=legs,
        codec="PCMA",
        answered_at=started.isoformat(),
        ended_at=(started + timedelta(seconds=seconds)).isoformat(),
        end_reason="remote_hangup",
        ticket=ticket,
        agent=agent if with_agent else "",
    )
    mf.finalise(directory, manifest, mf.COMPLETE, root)
    if transcript:
        understanding = (
            {
                "request_type": request_type,
                "domain": domain,
                "seat_group": seat_group,
                "emergency": emergency or None,
            }
            if domain
            else None
        )
        write_transcript(
            directory,
            {
                "call_id": call_id,
                "caller": caller,
                "understanding": understanding,
                "emergency": emergency,
                "seat_group": seat_group,
                "ticket": ticket,
                "end_reason": "remote_hangup",
                "lines": lines
                if lines is not None
                else [
                    {
                        "leg": "caller",
                        "turn": 0,
                        "text": "我家楼下的路灯坏了，电话13912345678。",
                        "content": "我家楼下的路灯坏了",
                        "start_s": 0.5,
                        "end_s": 2.0,
                        "confidence": 0.9,
                    },
                    {
                        "leg": "agent",
                        "turn": 0,
                        "text": "好的，我帮您记录。",
                        "start_s": 0.2,
                        "end_s": 1.2,
                        "call_s": 1.6,
                        "confidence": 0.8,
                    },
                ],
            },
        )
    return directory
