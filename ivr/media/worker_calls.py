"""What a media worker keeps about each call it carries: the caller's leg, the agent's.

Plain records, used on the worker's event loop only.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ivr.media.asr_link import AsrLink
from recordings import manifest as mf


@dataclass
class OtherLeg:
    """The second leg of a call: the agent rung for it (or, for a callback, the
    citizen is the call's main leg and this is the reserved agent)."""

    leg: str
    agent_id: str
    dial_id: str
    started: float  # monotonic, when dialled
    answered: bool = False
    ended: bool = False
    asr: AsrLink | None = None
    offset_s: float = 0.0  # where agent.wav starts in the call's recording
    done: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class WorkerCall:
    call_id: str
    leg: str
    sip_call_id: str
    caller: str
    called: str
    started: datetime
    state: str = "offered"
    directory: Path | None = None
    manifest: mf.Manifest | None = None
    codec: str = ""
    codec_rate: int = 0
    plays: dict[str, str] = field(default_factory=dict)  # play_id -> prompt
    answer_timer: asyncio.TimerHandle | None = None
    remote_uri: str = ""
    asr: AsrLink | None = None  # the current turn's stream to the ASR service
    agent: OtherLeg | None = None  # the agent's leg, once dialled
    old_agents: dict[str, OtherLeg] = field(default_factory=dict)  # hung up, ending (by leg)
    ticket: str = ""  # the work order number, for the manifest
    callback_uri: str = ""  # a callback: the citizen, dialled once the agent answered
    recording_started: float = 0.0  # monotonic
