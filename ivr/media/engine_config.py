"""What the SIP engine is told: its configuration, a listen's thresholds, its error.

Plain data, no pjsua2 (:mod:`ivr.media.engine` re-exports all of it).
"""

from __future__ import annotations

from dataclasses import dataclass

CODEC_IDS = {"PCMA": "PCMA/8000", "PCMU": "PCMU/8000", "G722": "G722/16000"}
POLL_MS = 40  # the engine thread's poll with legs: events, then levels, every 40 ms at most
IDLE_POLL_MS = 500  # with no legs (PJSIP caps a poll at 999 ms); a submitted job wakes it
TAP_BATCH_FRAMES = 5  # 20 ms frames a tap hands to its sink at once (one thread crossing)
GRAVE_S = 0.25  # how long disconnected media ports rest before they are freed


class EngineError(Exception):
    """The SIP engine could not do what was asked."""

    def __init__(self, message: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class EngineConfig:
    bind: str = "127.0.0.1"
    port: int = 0  # 0: the OS picks one (reported by ``SipEngine.port``)
    transports: tuple[str, ...] = ("udp", "tcp")
    public_address: str = ""
    codecs: tuple[str, ...] = ("PCMA", "PCMU", "G722")
    clock_rate: int = 8000
    max_calls: int = 4
    session_expires_s: int = 1800
    rtp_timeout_s: float = 30.0
    max_call_s: float = 3600.0
    user_agent: str = "hotline-node"
    identity: str = "hotline"
    registrar: str = ""  # host:port to REGISTER with (an agent's softphone); empty: none
    username: str = ""  # digest credentials for the registrar (default: identity)
    password: str = ""
    register_expires_s: int = 300
    # host:port every call placed to someone else goes through (the node's Kamailio)
    outbound_proxy: str = ""
    pjsip_log_level: int = 0
    # What a worker costs (see "Threading inside a media worker" in the design):
    poll_ms: int = POLL_MS
    idle_poll_ms: int = IDLE_POLL_MS
    # True: RTP is read on pjmedia's own thread, which wakes every 10 ms even with
    # no call; False: RTP shares the SIP ioqueue the engine thread polls.
    media_thread: bool = True
    tap_batch_frames: int = TAP_BATCH_FRAMES
    tap_fast_copy: bool = True  # read a frame's bytes without a per-byte SWIG iteration


@dataclass(frozen=True)
class ListenParams:
    listen_id: str
    speech_level: int
    no_input_s: float
    end_silence_ms: int
    min_speech_ms: int
    max_speech_s: float
    barge_in: bool = False  # caller speech stops the prompt that is playing
