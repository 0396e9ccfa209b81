"""The ASR service: loads the engine once, serves one WebSocket stream per call leg.

The vosk-server model: media workers stream 20 ms PCM frames in, results come
back on the same connection and are also published on the bus as
``asr.partial`` / ``asr.final`` events of the call.  Past ``max_streams`` the
service answers ``busy`` at once (protocol in ``protocol.py``).

A transcript is only useful while the call flow waits for it (the hub gives up
4 s after the caller stops), so the service sheds work it could only finish
late rather than finishing it after nobody waits:

- :class:`DecodeBacklog` keeps the speech the service owes a transcript for (each
  open turn: the audio heard since its start, until its final) and the engine's
  decoding speed, measured on every decode where the engine reports it
  (:class:`MeteredRecognizer`); ``wait_s`` is how long the decoders need for the
  speech owed ahead of a turn;
- a stream opened while that wait is over ``max_final_delay_s`` gets ``busy`` with
  ``"reason": "overloaded"`` (the worker reports ``asr.unavailable``; the flow
  offers a human once the caller stops instead of waiting);
- a turn that starts, or goes on, while the speech ahead of it needs longer than
  that is shed: the stream gets an ``error`` frame (``"reason": "overloaded"``) and
  is closed with 1013 at once; none of its audio is decoded (the engine's stream is
  dropped, not flushed), the worker reports ``asr.unavailable`` as for a lost
  service, and the flow goes on without a transcript when the caller stops.

:func:`size_service` is the pure sizing rule behind ``asr.max_streams``,
``asr.decoders`` and ``asr.cpu_threads`` = 0 (auto).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import os
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from asr.protocol import StreamRequest, control, encode_event, parse_request
from asr.recognizer import BatchRecognizer, Transcript
from asr.stream import (
    Final,
    Partial,
    SpeechStarted,
    StreamAdapter,
    StreamEnded,
    StreamEvent,
    StreamFailed,
)
from asr.vad import FRAME_MS, EndpointConfig

log = logging.getLogger("asr")

Publisher = Callable[[StreamRequest, StreamEvent], Awaitable[None]]


# ---- sizing ------------------------------------------------------------------------
# CPU seconds one second of speech costs to transcribe, measured on the 2-core
# development machine (README, "Benchmarks"): Whisper base decodes at RTF ≈ 0.15 on
# 2 threads (0.26–0.46 CPU s per audio s with interim results); Vosk about 0.08.
ENGINE_COST = {"whisper": 0.30, "vosk": 0.08}
# Of an open stream's time, the share that is speech: a turn is a pause, one
# utterance of a few seconds and the end-of-speech silence; a conversation leg
# talks about half the time.
SPEECH_SHARE = 0.5
# Of the cores, the share the service plans to keep busy: it runs niced, the media
# workers and the hub come first, and the rest is headroom for a burst of finals.
ASR_SHARE = 0.75
WHISPER_THREADS = 2  # per decode: past 2, a decode gets little faster (CTranslate2)


@dataclass(frozen=True)
class Sizing:
    """What the service runs with, and how each figure was chosen."""

    max_streams: int
    decoders: int
    cpu_threads: int
    rtf: float  # a decode's wall seconds per second of audio, until measured
    cores: int
    auto: tuple[str, ...]  # the figures that were sized (set to 0 in the settings)
    how: str

    def as_status(self) -> dict[str, object]:
        return {
            "capacity": self.max_streams,
            "decoders": self.decoders,
            "cpu_threads": self.cpu_threads,
            "cores": self.cores,
            "sized": ",".join(self.auto) or "settings",
        }


def size_service(
    cores: int, engine: str, max_streams: int = 0, decoders: int = 0, cpu_threads: int = 0
) -> Sizing:
    """Streams, decoders and threads per decode for ``cores`` CPUs and ``engine``
    ("whisper" or "vosk"); a figure given (not 0) is kept as it is.

    Streams: the speech they carry (``SPEECH_SHARE`` of their time) at the engine's
    cost must fit in ``ASR_SHARE`` of the cores.  Whisper decodes on
    ``WHISPER_THREADS`` threads, one decoder per pair of cores; Vosk decodes on one
    thread, one decoder per core.
    """
    cores = max(1, cores)
    cost = ENGINE_COST.get(engine, ENGINE_COST["whisper"])
    if engine == "vosk":
        threads = cpu_threads or 1
        parallel = decoders or cores
        rtf = cost
    else:
        threads = cpu_threads or min(WHISPER_THREADS, cores)
        parallel = decoders or max(1, cores // threads)
        rtf = cost / min(threads, WHISPER_THREADS)
    fits = cores * ASR_SHARE / (cost * SPEECH_SHARE)
    streams = max_streams or max(1, min(1000, math.floor(fits + 1e-9)))
    auto = tuple(
        name
        for name, given in (
            ("max_streams", max_streams),
            ("decoders", decoders),
            ("cpu_threads", cpu_threads),
        )
        if not given
    )
    how = (
        f"{cores} cores; {engine} ≈ {cost:.2f} CPU s per speech s, speech {SPEECH_SHARE:.0%} "
        f"of a stream's time, {ASR_SHARE:.0%} of the cores → {math.floor(fits + 1e-9)} streams"
    )
    return Sizing(streams, parallel, threads, round(rtf, 3), cores, auto, how)


def usable_cores() -> int:
    """The CPUs this process may run on: its affinity, capped by a cgroup CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    with contextlib.suppress(OSError, ValueError):
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]  # noqa: SIM115
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    return cores


# ---- the backlog ------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceLimits:
    max_streams: int = 8
    first_message_timeout_s: float = 5.0
    min_speech_ms: int = 200
    end_silence_ms: int = 800
    max_utterance_s: float = 30.0
    decoders: int = 1  # decodes at once: the backlog drains this many at a time
    rtf: float = 0.15  # a decode's wall seconds per audio second until one is measured
    max_final_delay_s: float = 3.0  # later than this after the caller stops: shed; 0: never


@dataclass
class StreamLeg:
    """One stream as the backlog sees it: audio fed, turns waiting for their final."""

    frames: int = 0
    turns: collections.deque[_Turn] = field(default_factory=collections.deque)

    @property
    def audio_s(self) -> float:
        return self.frames * FRAME_MS / 1000


@dataclass(eq=False)
class _Turn:
    leg: StreamLeg
    at_s: float  # where the speech began, in the stream's audio
    until_s: float | None = None  # where the stream's next turn began

    def owed_s(self, cap_s: float) -> float:
        end = self.leg.audio_s if self.until_s is None else self.until_s
        return max(0.0, min(cap_s, end - self.at_s))


class DecodeBacklog:
    """Speech the service owes a transcript for, and how long decoding it takes.

    A turn is owed from its ``speech_started`` until its final (or failure): its
    audio so far, at most ``max_utterance_s``.  Turns are kept in the order they
    started, the order their finals come.  The decoding speed starts at the
    sizing's figure and follows measured decodes (wall time, so a service starved
    of CPU by the media workers sees itself slower, and sheds more).
    """

    def __init__(self, decoders: int, rtf: float, max_utterance_s: float) -> None:
        self.decoders = max(1, decoders)
        self._nominal_rtf = rtf
        self._cap_s = max_utterance_s
        self._turns: dict[_Turn, None] = {}  # an ordered set: oldest first
        self._lock = threading.Lock()  # decodes are measured on the decoding threads
        self._audio_s = self._decode_s = 0.0
        self.decodes = 0

    @property
    def rtf(self) -> float:
        with self._lock:
            if self._audio_s < 1.0:
                return self._nominal_rtf
            return self._decode_s / self._audio_s

    def measured(self, audio_s: float, decode_s: float) -> None:
        """One decode: ``audio_s`` of audio took ``decode_s`` (wall clock)."""
        if audio_s <= 0:
            return
        with self._lock:  # a moving window of about the last ten decodes
            self._audio_s = 0.9 * self._audio_s + audio_s
            self._decode_s = 0.9 * self._decode_s + decode_s
            self.decodes += 1

    def turn_started(self, leg: StreamLeg, at_s: float) -> _Turn:
        if leg.turns:
            leg.turns[-1].until_s = max(leg.turns[-1].at_s, at_s)
        turn = _Turn(leg, at_s)
        leg.turns.append(turn)
        self._turns[turn] = None
        return turn

    def turn_done(self, leg: StreamLeg) -> None:
        """The leg's oldest open turn got its final (or failed)."""
        if leg.turns:
            self._turns.pop(leg.turns.popleft(), None)

    def drop(self, leg: StreamLeg) -> None:
        """The leg is gone (closed, shed): nothing more is owed for it."""
        for turn in leg.turns:
            self._turns.pop(turn, None)
        leg.turns.clear()

    def owed_s(self) -> float:
        return sum(t.owed_s(self._cap_s) for t in self._turns)

    def wait_s(self, before: _Turn | None = None) -> float:
        """Seconds the decoders need for the speech owed ahead of ``before`` (all of
        it when None): how late a final queued behind it would come."""
        ahead = 0.0
        for turn in self._turns:
            if turn is before:
                break
            ahead += turn.owed_s(self._cap_s)
        return ahead * self.rtf / self.decoders


class MeteredRecognizer:
    """A batch recogniser whose every decode is reported to a :class:`DecodeBacklog`
    (the audio length and wall time each :class:`Transcript` carries)."""

    def __init__(self, inner: BatchRecognizer, backlog: DecodeBacklog) -> None:
        self.inner, self.name, self._backlog = inner, inner.name, backlog

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> Transcript:
        return self._metered(self.inner.transcribe(samples, sample_rate))

    def transcribe_quick(self, samples: np.ndarray, sample_rate: int) -> Transcript:
        quick = getattr(self.inner, "transcribe_quick", self.inner.transcribe)
        return self._metered(quick(samples, sample_rate))

    def _metered(self, transcript: Transcript) -> Transcript:
        self._backlog.measured(transcript.audio_s, transcript.decode_s)
        return transcript


def meter(adapter: object, backlog: DecodeBacklog) -> None:
    """Measure a :class:`StreamAdapter`'s decodes (streams opened from now on); other
    engines keep the sizing's speed."""
    if isinstance(adapter, StreamAdapter) and not isinstance(adapter.recognizer, MeteredRecognizer):
        adapter.recognizer = MeteredRecognizer(adapter.recognizer, backlog)


# Every 10 frames (200 ms) a stream in a turn checks whether the turn is still worth
# decoding: often enough to shed a turn within its first half second.
_CHECK_FRAMES = 10


class AsrService:
    def __init__(
        self, adapter: StreamAdapter, limits: ServiceLimits, publish: Publisher | None = None
    ) -> None:
        self.adapter = adapter
        self.limits = limits
        self._publish = publish
        self.active: dict[int, StreamRequest] = {}
        self.backlog = DecodeBacklog(limits.decoders, limits.rtf, limits.max_utterance_s)
        self.served = 0
        self.refused = 0  # busy: every stream taken
        self.overloaded = 0  # busy: the backlog would make its finals late
        self.shed = 0  # turns dropped while the caller spoke, for the same reason

    @property
    def load(self) -> dict[str, int | float]:
        return {
            "streams": len(self.active),
            "capacity": self.limits.max_streams,
            "served": self.served,
            "refused": self.refused,
            "overloaded": self.overloaded,
            "shed": self.shed,
            "backlog_s": round(self.backlog.owed_s(), 2),
            "rtf": round(self.backlog.rtf, 3),
        }

    def _late(self, before: _Turn | None = None) -> float:
        """The wait ahead of a final, when it is over the bound (else 0)."""
        bound = self.limits.max_final_delay_s
        wait = self.backlog.wait_s(before) if bound else 0.0
        return wait if wait > bound else 0.0

    async def handle(self, connection: ServerConnection) -> None:
        # The opening is read before any refusal: the worker has sent it and waits
        # for the answer, so "busy" reaches it instead of a connection closed under it.
        try:
            first = await asyncio.wait_for(connection.recv(), self.limits.first_message_timeout_s)
            if not isinstance(first, str):
                raise ValueError("the first message must be a JSON text frame")
            request = parse_request(first)
        except (ValueError, TimeoutError) as exc:
            message = str(exc) or "no opening message in time"
            with contextlib.suppress(ConnectionClosed):
                await connection.send(control("error", message=message, retryable=False))
                await connection.close(1008, "bad request")
            return
        except ConnectionClosed:
            return
        busy: dict[str, object] = {}
        if len(self.active) >= self.limits.max_streams:
            self.refused += 1
            busy = {"reason": "streams"}
        elif wait := self._late():
            self.overloaded += 1
            busy = {"reason": "overloaded", "wait_s": round(wait, 2)}
        if busy:
            with contextlib.suppress(ConnectionClosed):
                await connection.send(control("busy", capacity=self.limits.max_streams, **busy))
                await connection.close(1013, str(busy["reason"]))
            return
        key = id(connection)
        self.active[key] = request
        self.served += 1
        try:
            await self._stream(connection, request)
        finally:
            self.active.pop(key, None)

    async def _stream(self, connection: ServerConnection, request: StreamRequest) -> None:
        limits = self.limits
        stream = self.adapter.open_stream(
            EndpointConfig(
                sample_rate=request.sample_rate,
                min_speech_ms=limits.min_speech_ms,
                end_silence_ms=limits.end_silence_ms,
                max_utterance_s=limits.max_utterance_s,
            )
        )
        await connection.send(control("ready"))

        finals = 0
        leg = StreamLeg()
        backlog = self.backlog

        async def forward() -> None:
            nonlocal finals
            async for event in stream:
                match event:
                    case SpeechStarted(at_s=at):
                        backlog.turn_started(leg, at)
                    case Final() | StreamFailed():
                        backlog.turn_done(leg)
                finals += isinstance(event, Final)
                with contextlib.suppress(ConnectionClosed):
                    await connection.send(encode_event(event))
                if self._publish is not None and isinstance(event, (Partial, Final, StreamFailed)):
                    try:
                        await self._publish(request, event)
                    except Exception:  # the bus must never stop transcription
                        log.exception("publishing an ASR result failed")

        forwarder = asyncio.create_task(forward())
        shed = 0.0
        try:
            async for message in connection:
                if isinstance(message, bytes):
                    try:
                        stream.feed(message)
                    except ValueError as exc:
                        await connection.send(control("error", message=str(exc), retryable=False))
                        break
                    leg.frames += 1
                    checking = leg.turns and leg.frames % _CHECK_FRAMES == 0
                    if checking and (shed := self._late(leg.turns[-1])):
                        break
                elif '"eof"' in message:
                    break
        except ConnectionClosed:
            pass  # the worker went away: finish what was said so far
        finally:
            if shed:
                forwarder.cancel()
            else:
                await stream.close()
            with contextlib.suppress(asyncio.CancelledError):
                await forwarder
            backlog.drop(leg)
        if shed:
            await self._shed(connection, request, shed)
            return
        if self._publish is not None:
            try:
                await self._publish(request, StreamEnded(finals))
            except Exception:
                log.exception("publishing the end of an ASR stream failed")
        with contextlib.suppress(ConnectionClosed):
            await connection.send(control("closed"))
            await connection.close()

    async def _shed(
        self, connection: ServerConnection, request: StreamRequest, wait: float
    ) -> None:
        """The caller's turn could only be transcribed too late: the engine's stream was
        dropped unflushed (nothing of it is decoded) and the worker is told at once.
        The close without ``closed`` makes the worker report ``asr.unavailable``."""
        self.shed += 1
        log.info(
            "asr turn shed: decoding is behind",
            extra={
                "fields": {
                    "call_id": request.call_id,
                    "leg": request.leg,
                    "turn": request.turn,
                    "wait_s": round(wait, 2),
                    "bound_s": self.limits.max_final_delay_s,
                }
            },
        )
        with contextlib.suppress(ConnectionClosed):
            await connection.send(
                control(
                    "error",
                    message=f"overloaded: a final would come {wait:.1f} s after the caller stops",
                    retryable=True,
                    reason="overloaded",
                )
            )
            # The worker goes on sending audio until it hears of the close; what it
            # sent meanwhile is read and dropped, or its close frame would wait behind it.
            drain = asyncio.create_task(_discard(connection))
            await connection.close(1013, "overloaded")
            await drain


async def _discard(connection: ServerConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for _ in connection:
            pass


async def start_service(service: AsrService, host: str, port: int) -> Server:
    """Listen; ``port`` 0 picks a free one (``server.sockets[0].getsockname()``)."""
    return await serve(service.handle, host, port, max_size=1 << 20, ping_interval=20)
