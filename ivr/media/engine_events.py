"""What the SIP engine reports, as plain data.  No pjsua2 here.

The engine thread creates these and hands them to the owner's callback; the
owner (a media worker or ``hotline phone``) moves them onto asyncio.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EngineEvent:
    leg: str


@dataclass(frozen=True)
class LegOffered(EngineEvent):
    """A new inbound INVITE; the engine has sent 180 Ringing."""

    sip_call_id: str
    caller: str
    called: str
    remote_uri: str
    source: str = ""  # host:port the INVITE came from


@dataclass(frozen=True)
class LegAnswered(EngineEvent):
    """The dialog is confirmed (200 OK + ACK)."""


@dataclass(frozen=True)
class LegMedia(EngineEvent):
    """Media became active (or changed): codec and its clock rate."""

    codec: str
    codec_rate: int
    hold: bool = False


@dataclass(frozen=True)
class LegEnded(EngineEvent):
    """The leg is gone.  ``reason`` is one of: remote_hangup, local_hangup,
    cancelled, rejected, rtp_timeout, max_duration, failed."""

    reason: str
    status_code: int
    answered: bool
    duration_s: float
    media: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PlaybackFinished(EngineEvent):
    play_id: str
    interrupted: bool = False


@dataclass(frozen=True)
class PlaybackFailed(EngineEvent):
    play_id: str
    error: str


@dataclass(frozen=True)
class TransferStatus(EngineEvent):
    """Progress of a transfer (REFER): the far end's NOTIFY status; ``final`` once settled."""

    code: int
    reason: str
    final: bool


@dataclass(frozen=True)
class DtmfReceived(EngineEvent):
    digit: str
    method: str  # "rfc4733" or "sip_info"


@dataclass(frozen=True)
class SpeechStarted(EngineEvent):
    listen_id: str


@dataclass(frozen=True)
class SpeechEnded(EngineEvent):
    listen_id: str
    speech_ms: int
    reason: str  # "silence" or "max_speech"


@dataclass(frozen=True)
class ListenTimedOut(EngineEvent):
    listen_id: str


@dataclass(frozen=True)
class RecordingClosed(EngineEvent):
    """The leg's recorders are closed; their WAV headers are final."""

    files: dict[str, str] = field(default_factory=dict)
