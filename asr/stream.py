"""Streaming recognition from a batch engine: VAD cuts turns, the engine decodes them.

``StreamAdapter(recognizer)`` opens one :class:`RecognizerStream` per call leg.
Frames go in with :meth:`RecognizerStream.feed` (20 ms of 16-bit PCM); events
come out of ``async for event in stream``: :class:`SpeechStarted` (for barge-in),
an interim :class:`Partial` about once a second while the caller talks (for the
agent's screen), one :class:`Final` per turn, or :class:`StreamFailed`.
Decoding runs in a thread pool, so feeding never waits for the engine.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from asr.recognizer import BatchRecognizer, RecognizerError, Segment, Transcript
from asr.vad import FRAME_MS, Classifier, EndpointConfig, Endpointer, SpeechEnd, SpeechStart


@dataclass(frozen=True)
class SpeechStarted:
    at_s: float


@dataclass(frozen=True)
class Partial:
    text: str
    start_s: float


@dataclass(frozen=True)
class Final:
    text: str
    start_s: float
    end_s: float
    segments: list[Segment] = field(default_factory=list)
    confidence: float = 0.0
    reason: str = "silence"
    latency_s: float = 0.0  # end of speech → this result


@dataclass(frozen=True)
class StreamFailed:
    message: str
    retryable: bool


@dataclass(frozen=True)
class StreamEnded:
    """Said by the service once a stream is closed and every result is out."""

    finals: int


StreamEvent = SpeechStarted | Partial | Final | StreamFailed | StreamEnded
_CLOSED = object()


@dataclass
class DecodeLoad:
    """Decodes in flight across all streams: interim results only use idle decoders,
    so a caller's final never waits behind another caller's interim text."""

    decoders: int
    in_flight: int = 0

    @property
    def idle(self) -> bool:
        return self.in_flight < self.decoders


class RecognizerStream:
    def __init__(
        self,
        recognizer: BatchRecognizer,
        config: EndpointConfig,
        classify: Classifier,
        executor: concurrent.futures.Executor,
        interim_every_s: float = 1.0,
        load: DecodeLoad | None = None,
        speculate_after_ms: int = 0,
    ) -> None:
        self._recognizer = recognizer
        self._config = config
        self._endpointer = Endpointer(config, classify)
        self._executor = executor
        self._interim_frames = max(1, int(interim_every_s * 1000 / FRAME_MS))
        self._loop = asyncio.get_running_loop()
        self._events: asyncio.Queue[object] = asyncio.Queue()
        self._turn = 0  # partials of an earlier turn are dropped
        self._frames_since_interim = 0
        self._interim_busy = False
        self._pending: set[asyncio.Future] = set()
        self._closing = False
        self._load = load or DecodeLoad(decoders=1)
        # Early final: once the caller has been quiet this long, the turn is decoded
        # while the endpointer still waits out the end-of-speech silence; if the
        # caller stays quiet the result is the final, if not it is dropped.
        self._speculate_ms = speculate_after_ms or config.end_silence_ms // 2
        self._speculation: tuple[int, int, asyncio.Future] | None = None
        self.speculations = self.speculations_used = 0

    # ---- input ----------------------------------------------------------------
    def feed(self, frame: bytes) -> None:
        if self._closing:
            raise RuntimeError("the stream is closed")
        for event in self._endpointer.feed(frame):
            self._on_endpoint(event)
        silence_ms = self._endpointer.trailing_silence_ms
        if silence_ms == 0:
            self._speculation = None  # the caller went on talking
        elif silence_ms >= self._speculate_ms and self._speculation is None:
            audio = self._endpointer.speech_without_trailing_silence()
            quick = not self._load.idle  # other finals wait: this one must not add to it
            self._speculation = (self._turn, len(audio), self._submit(audio, quick))
            self.speculations += 1
        if self._endpointer.in_speech and silence_ms == 0:
            self._frames_since_interim += 1
            if (
                self._frames_since_interim >= self._interim_frames
                and not self._interim_busy
                and self._load.idle
            ):
                self._frames_since_interim = 0
                self._decode_interim()

    def flush(self) -> None:
        """The caller's audio ended (hang-up, listen stopped): finish the current turn."""
        for event in self._endpointer.flush():
            self._on_endpoint(event)

    async def close(self) -> None:
        """Flush, wait for decoding in flight, end the event iteration."""
        if self._closing:
            return
        self.flush()
        self._closing = True
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        self._events.put_nowait(_CLOSED)

    # ---- output ---------------------------------------------------------------
    def __aiter__(self) -> RecognizerStream:
        return self

    async def __anext__(self) -> StreamEvent:
        event = await self._events.get()
        if event is _CLOSED:
            raise StopAsyncIteration
        return event  # type: ignore[return-value]

    # ---- internals ------------------------------------------------------------
    def _on_endpoint(self, event: SpeechStart | SpeechEnd) -> None:
        if isinstance(event, SpeechStart):
            self._turn += 1
            self._frames_since_interim = 0
            self._events.put_nowait(SpeechStarted(event.at_s))
            return
        turn, ended_at = self._turn, time.perf_counter()
        speculation, self._speculation = self._speculation, None
        if speculation is not None and speculation[:2] == (turn, len(event.audio)):
            future = speculation[2]  # decoded while the endpointer waited
            self.speculations_used += 1
        else:
            future = self._submit(event.audio, quick=not self._load.idle)

        def done(result: asyncio.Future) -> None:
            self._pending.discard(result)
            try:
                transcript: Transcript = result.result()
            except RecognizerError as exc:
                self._events.put_nowait(StreamFailed(str(exc), exc.retryable))
                return
            confidence = min((s.confidence for s in transcript.segments), default=0.0)
            self._events.put_nowait(
                Final(
                    transcript.text,
                    event.start_s,
                    event.end_s,
                    transcript.segments,
                    confidence,
                    event.reason,
                    round(time.perf_counter() - ended_at, 3),
                )
            )
            if self._turn == turn:
                self._turn += 1  # a partial still decoding for this turn is now stale

        future.add_done_callback(done)

    def _decode_interim(self) -> None:
        turn = self._turn
        self._interim_busy = True
        future = self._submit(self._endpointer.speech_so_far(), quick=True)

        def done(result: asyncio.Future) -> None:
            self._pending.discard(result)
            self._interim_busy = False
            if result.exception() is None and self._turn == turn:
                text = result.result().text
                if text:
                    self._events.put_nowait(Partial(text, 0.0))

        future.add_done_callback(done)

    def _submit(self, audio: bytes, quick: bool = False) -> asyncio.Future:
        """Decode in the pool; ``quick`` uses the engine's faster mode where it has one."""
        samples = np.frombuffer(audio, dtype="<i2").astype(np.float32) / 32768.0
        decode = self._recognizer.transcribe
        if quick:
            decode = getattr(self._recognizer, "transcribe_quick", decode)
        future = self._loop.run_in_executor(
            self._executor, decode, samples, self._config.sample_rate
        )
        self._load.in_flight += 1
        self._pending.add(future)

        def settled(_: asyncio.Future) -> None:
            self._load.in_flight -= 1

        future.add_done_callback(settled)
        return future


class StreamAdapter:
    """Gives a batch recogniser streams (livekit's ``StreamAdapter`` idea)."""

    def __init__(
        self,
        recognizer: BatchRecognizer,
        classifier_factory: Callable[[int], Classifier],
        decoders: int = 1,
        interim_every_s: float = 1.0,
    ) -> None:
        self.recognizer = recognizer
        self._classifier_factory = classifier_factory
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=decoders, thread_name_prefix="asr-decode"
        )
        self._interim_every_s = interim_every_s
        self._load = DecodeLoad(decoders)

    def open_stream(self, config: EndpointConfig) -> RecognizerStream:
        return RecognizerStream(
            self.recognizer,
            config,
            self._classifier_factory(config.sample_rate),
            self._executor,
            self._interim_every_s,
            self._load,
        )

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
