"""Vosk (Kaldi) streaming recognition: native partials, word times, optional grammar.

:class:`VoskEngine` has the stream surface of :class:`asr.stream.StreamAdapter`:
``open_stream(EndpointConfig)`` gives a :class:`VoskStream` that takes 20 ms
frames of 16-bit PCM at 8 or 16 kHz with ``feed`` and yields the same events
(:class:`SpeechStarted`, :class:`Partial`, :class:`Final`, :class:`StreamFailed`).

Vosk 0.3.45 cannot set its endpointer's delays from Python (no
``SetEndpointerDelays``), so turns are cut by the WebRTC VAD
:class:`~asr.vad.Endpointer`, which honours the configured minimum speech,
end-of-speech silence and maximum utterance; only a turn's audio is given to
Kaldi, which spends no CPU on the silence between turns.  Within a turn Kaldi's
own endpoints split the result into segments; the turn's :class:`Final` holds
them all, with times from Kaldi's word alignment and the mean word confidence.

Decoding runs in a thread pool sized by ``decoders``.  A stream has at most one
decoding job at a time and a job decodes at most ``max_job_s`` of audio before
it goes to the back of the pool's queue, so no stream waits behind another
stream's decoding for longer than that.  The model is loaded once per process.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asr.normalize import punctuate, to_simplified
from asr.recognizer import RecognizerError, Segment, Transcript
from asr.stream import Final, Partial, SpeechStarted, StreamEvent, StreamFailed
from asr.vad import FRAME_MS, Classifier, EndpointConfig, Endpointer, SpeechEnd, SpeechStart

RATES = (8000, 16000)
UNKNOWN = "[unk]"
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff])\s+(?=[\u3400-\u9fff\uf900-\ufaff])")

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

_models: dict[Path, object] = {}
_models_lock = threading.Lock()


def load_model(path: Path):  # noqa: ANN201 (vosk.Model; vosk is imported lazily)
    """The model in ``path``, loaded once per process."""
    import vosk

    key = path.resolve()
    with _models_lock:
        if key not in _models:
            vosk.SetLogLevel(-1)
            if not (key / "am" / "final.mdl").is_file():
                raise RecognizerError(f"{path} is not a Vosk model folder (no am/final.mdl)")
            try:
                _models[key] = vosk.Model(str(key))
            except Exception as exc:  # vosk raises a bare Exception
                raise RecognizerError(f"the Vosk model in {path} cannot be loaded: {exc}") from None
        return _models[key]


def tidy(words: Iterable[str]) -> str:
    """Words as text: ``[unk]`` dropped, no spaces between Chinese characters, simplified."""
    text = " ".join(w for w in words if w and w != UNKNOWN)
    return to_simplified(_CJK_GAP.sub("", text))


def final_text(words: Sequence[tuple[float, float, str]]) -> str:
    """A turn's text from (start_s, end_s, word): :func:`tidy`, and for Chinese the
    punctuation Vosk does not give (a pause of 0.3 s or more ends a clause)."""
    text = tidy(word for _, _, word in words)
    if not _CJK.search(text):
        return text
    return punctuate([(start, end, tidy([word])) for start, end, word in words])


def grammar_json(model, phrases: Sequence[str]) -> str:  # noqa: ANN001 (vosk.Model)
    """A Kaldi grammar from phrases of space-separated vocabulary words.

    Chinese phrases are written as the model's words (``我 要 投诉``).  A word
    the model does not know would be dropped by Vosk without a word, so it is
    refused here.  Speech outside the grammar comes out as nothing.
    """
    if not phrases:
        raise ValueError("a grammar needs at least one phrase")
    missing = sorted({w for p in phrases for w in p.split() if model.vosk_model_find_word(w) < 0})
    if missing:
        raise ValueError(
            f"grammar words not in the model's vocabulary: {', '.join(missing)} "
            "(write phrases as space-separated words the model knows)"
        )
    allowed = list(phrases)
    if model.vosk_model_find_word(UNKNOWN) >= 0:
        allowed.append(UNKNOWN)
    return json.dumps(allowed, ensure_ascii=False)


def _recognizer(model, rate: int, grammar: str | None):  # noqa: ANN001, ANN202
    import vosk

    if rate not in RATES:
        raise ValueError(f"sample rate {rate} Hz: 8000 or 16000 Hz is needed")
    recognizer = (
        vosk.KaldiRecognizer(model, rate, grammar) if grammar else vosk.KaldiRecognizer(model, rate)
    )
    recognizer.SetWords(True)
    return recognizer


@dataclass(frozen=True)
class _Word:
    text: str
    start_s: float
    end_s: float
    confidence: float


def _words(result_json: str, offset_s: float) -> list[_Word]:
    """Kaldi's words with times moved by ``offset_s``; ``[unk]`` dropped."""
    return [
        _Word(w["word"], round(w["start"] + offset_s, 3), round(w["end"] + offset_s, 3), w["conf"])
        for w in json.loads(result_json).get("result", [])
        if w.get("word") and w["word"] != UNKNOWN
    ]


def _segment(words: list[_Word]) -> Segment:
    return Segment(
        words[0].start_s,
        words[-1].end_s,
        tidy(w.text for w in words),
        round(sum(w.confidence for w in words) / len(words), 3),
    )


class VoskRecognizer:
    """Whole recordings at once (``hotline asr transcribe``/``eval``): a BatchRecognizer."""

    def __init__(self, model_dir: Path, grammar: Sequence[str] | None = None) -> None:
        self.model_dir = model_dir
        self.name = f"vosk:{model_dir.name}"
        self.model = load_model(model_dir)
        self.grammar = grammar_json(self.model, grammar) if grammar else None

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> Transcript:
        started = time.perf_counter()
        recognizer = _recognizer(self.model, sample_rate, self.grammar)
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        pieces: list[list[_Word]] = []
        step = sample_rate // 5 * 2  # 200 ms
        try:
            for i in range(0, len(pcm), step):
                if recognizer.AcceptWaveform(pcm[i : i + step]):
                    pieces.append(_words(recognizer.Result(), 0.0))
            pieces.append(_words(recognizer.FinalResult(), 0.0))
        except Exception as exc:
            raise RecognizerError(f"Vosk failed: {exc}") from None
        segments = [_segment(p) for p in pieces if p]
        return Transcript(
            text=final_text([(w.start_s, w.end_s, w.text) for piece in pieces for w in piece]),
            segments=segments,
            audio_s=len(samples) / sample_rate,
            decode_s=time.perf_counter() - started,
            engine=self.name,
        )


# ---- streaming --------------------------------------------------------------------


@dataclass(frozen=True)
class _Begin:
    """The audio that follows starts a turn at ``stream_s`` seconds into the stream."""

    stream_s: float
    speech_start_s: float


@dataclass(frozen=True)
class _End:
    event: SpeechEnd
    ended_at: float  # perf_counter when the end of speech was seen


_CLOSE = object()
_CLOSED = object()


class VoskStream:
    """One call leg: frames in, events out (the surface of ``asr.stream.RecognizerStream``)."""

    def __init__(
        self,
        model,  # noqa: ANN001 (vosk.Model)
        config: EndpointConfig,
        classify: Classifier,
        executor: concurrent.futures.Executor,
        grammar: str | None = None,
        chunk_ms: int = 100,
        max_job_s: float = 1.0,
    ) -> None:
        import asyncio

        self._recognizer = _recognizer(model, config.sample_rate, grammar)
        self._config = config
        self._endpointer = Endpointer(config, classify)
        self._executor = executor
        self._bytes_per_s = config.sample_rate * 2
        self._chunk_bytes = self._bytes_per_s * chunk_ms // 1000
        self._job_bytes = int(self._bytes_per_s * max_job_s)
        self._loop = asyncio.get_running_loop()
        self._events: asyncio.Queue[object] = asyncio.Queue()
        self._closed = self._loop.create_future()
        self._frames = 0
        self._closing = False
        # shared with the decoding thread, under _lock
        self._lock = threading.Lock()
        self._ops: collections.deque[object] = collections.deque()
        self._queued_bytes = 0
        self._queued_controls = 0  # turn ends and the close: each is worth a job at once
        self._scheduled = False
        # decoding thread only
        self._fed_s = 0.0  # audio given to Kaldi so far: its word times count from here
        self._offset_s = 0.0  # Kaldi time → stream time for the current turn
        self._turn_start_s = 0.0
        self._pieces: list[list[_Word]] = []
        self._last_partial = ""
        self._failed = False

    # ---- input ----------------------------------------------------------------
    def feed(self, frame: bytes) -> None:
        if self._closing:
            raise RuntimeError("the stream is closed")
        was_in_speech = self._endpointer.in_speech
        events = self._endpointer.feed(frame)  # ValueError for a frame of the wrong size
        self._frames += 1
        if was_in_speech:
            self._enqueue(frame)
        for event in events:
            self._on_endpoint(event)

    def flush(self) -> None:
        """The caller's audio ended: finish the current turn."""
        for event in self._endpointer.flush():
            self._on_endpoint(event)

    async def close(self) -> None:
        """Flush, wait for decoding in flight, end the event iteration."""
        if self._closing:
            await self._closed
            return
        self.flush()
        self._closing = True
        self._enqueue(_CLOSE)
        await self._closed

    # ---- output ---------------------------------------------------------------
    def __aiter__(self) -> VoskStream:
        return self

    async def __anext__(self) -> StreamEvent:
        event = await self._events.get()
        if event is _CLOSED:
            raise StopAsyncIteration
        return event  # type: ignore[return-value]

    # ---- event loop side ------------------------------------------------------
    def _on_endpoint(self, event: SpeechStart | SpeechEnd) -> None:
        if isinstance(event, SpeechStart):
            self._events.put_nowait(SpeechStarted(event.at_s))  # at once: barge-in
            audio = self._endpointer.speech_so_far()  # pre-roll + onset, this frame included
            begins = self._frames * FRAME_MS / 1000 - len(audio) / self._bytes_per_s
            self._enqueue(_Begin(round(begins, 3), event.at_s))
            self._enqueue(audio)
        else:
            self._enqueue(_End(event, time.perf_counter()))

    def _enqueue(self, op: object) -> None:
        with self._lock:
            self._ops.append(op)
            if isinstance(op, bytes):
                self._queued_bytes += len(op)
            elif not isinstance(op, _Begin):
                self._queued_controls += 1
            if not self._scheduled and self._ready():
                self._scheduled = True
                self._executor.submit(self._drain)

    def _ready(self) -> bool:
        """Worth a decoding job: a chunk of audio, or a turn to finish, or the end."""
        return self._queued_bytes >= self._chunk_bytes or self._queued_controls > 0

    def _emit(self, event: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening
            self._loop.call_soon_threadsafe(self._events.put_nowait, event)

    # ---- decoding thread --------------------------------------------------------
    def _drain(self) -> None:
        """Decode up to ``max_job_s`` of queued audio, then yield the thread."""
        budget = self._job_bytes
        while True:
            with self._lock:
                if not self._ops or budget <= 0:
                    if self._ops and self._ready():
                        self._executor.submit(self._drain)  # back of the queue: fairness
                    else:
                        self._scheduled = False
                    return
                audio = bytearray()
                while self._ops and isinstance(self._ops[0], bytes) and len(audio) < budget:
                    audio += self._ops.popleft()  # type: ignore[operator]
                op = self._ops.popleft() if not audio else None
                self._queued_bytes -= len(audio)
                if op is not None and not isinstance(op, _Begin):
                    self._queued_controls -= 1
            if audio:
                budget -= len(audio)
                self._decode(bytes(audio))
            else:
                self._control(op)

    def _decode(self, audio: bytes) -> None:
        if self._failed:
            return
        try:
            endpoint = self._recognizer.AcceptWaveform(audio)
            self._fed_s += len(audio) / self._bytes_per_s
            if endpoint:
                self._pieces.append(_words(self._recognizer.Result(), self._offset_s))
                partial = ""
            else:
                partial = json.loads(self._recognizer.PartialResult()).get("partial", "")
        except Exception as exc:  # vosk raises a bare Exception
            self._fail(f"Vosk failed: {exc}")
            return
        text = tidy([w.text for piece in self._pieces for w in piece] + partial.split())
        if text and text != self._last_partial:
            self._last_partial = text
            self._emit(Partial(text, self._turn_start_s))

    def _control(self, op: object) -> None:
        if isinstance(op, _Begin):
            self._offset_s = op.stream_s - self._fed_s
            self._turn_start_s = op.speech_start_s
            self._pieces, self._last_partial = [], ""
        elif isinstance(op, _End):
            self._finish(op)
        elif op is _CLOSE:
            self._loop.call_soon_threadsafe(self._close_done)

    def _finish(self, end: _End) -> None:
        if self._failed:
            return
        try:
            self._pieces.append(_words(self._recognizer.FinalResult(), self._offset_s))
        except Exception as exc:
            self._fail(f"Vosk failed: {exc}")
            return
        segments = [_segment(p) for p in self._pieces if p]
        words = [w for piece in self._pieces for w in piece]
        event = end.event
        self._emit(
            Final(
                final_text([(w.start_s, w.end_s, w.text) for w in words]),
                words[0].start_s if words else event.start_s,
                words[-1].end_s if words else event.end_s,
                segments,
                round(sum(w.confidence for w in words) / len(words), 3) if words else 0.0,
                event.reason,
                round(time.perf_counter() - end.ended_at, 3),
            )
        )
        self._pieces, self._last_partial = [], ""

    def _fail(self, message: str) -> None:
        self._failed = True
        self._emit(StreamFailed(message, retryable=False))

    def _close_done(self) -> None:
        self._events.put_nowait(_CLOSED)
        if not self._closed.done():
            self._closed.set_result(None)


class VoskEngine:
    """The Vosk engine of the ASR service: one model, a decoding pool, a stream per leg."""

    def __init__(
        self,
        model_dir: Path,
        classifier_factory: Callable[[int], Classifier],
        decoders: int = 1,
        grammar: Sequence[str] | None = None,
        max_job_s: float = 1.0,
    ) -> None:
        self.recognizer = VoskRecognizer(model_dir, grammar)  # ``.name``, batch use
        self.name = self.recognizer.name
        self._classifier_factory = classifier_factory
        self._max_job_s = max_job_s
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=decoders, thread_name_prefix="vosk-decode"
        )

    def open_stream(
        self, config: EndpointConfig, grammar: Sequence[str] | None = None
    ) -> VoskStream:
        """A stream; ``grammar`` (phrases) overrides the engine's for this stream."""
        model = self.recognizer.model
        return VoskStream(
            model,
            config,
            self._classifier_factory(config.sample_rate),
            self._executor,
            grammar_json(model, grammar) if grammar else self.recognizer.grammar,
            max_job_s=self._max_job_s,
        )

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
