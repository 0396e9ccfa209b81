"""Streaming from a batch engine (asr/stream.py): partials, finals, failures."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from asr.audio import read_wav
from asr.normalize import cer
from asr.recognizer import RecognizerError, Segment, Transcript
from asr.stream import Final, Partial, SpeechStarted, StreamAdapter, StreamFailed
from asr.vad import EndpointConfig, webrtc_classifier
from asr.whisper import WhisperRecognizer
from tests.support.nodes import SPEECH
from tests.support.signals import energy, silence, tone

RATE = 8000
FRAME = RATE // 50


class CountingRecognizer:
    """A fake engine: says how many seconds it was given; can be told to fail."""

    name = "counting"

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.calls: list[float] = []
        self.lock = threading.Lock()

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> Transcript:
        seconds = len(samples) / sample_rate
        with self.lock:
            self.calls.append(seconds)
        if self.fail:
            raise RecognizerError("engine crashed", retryable=True)
        return Transcript(
            f"{seconds:.1f}秒",
            [Segment(0, seconds, f"{seconds:.1f}秒", 0.9)],
            seconds,
            0.01,
            self.name,
        )


async def feed_all(stream, audio: np.ndarray, realtime: float = 0.0) -> list:
    events: list = []

    async def collect() -> None:
        async for event in stream:
            events.append(event)

    reader = asyncio.create_task(collect())
    for start in range(0, len(audio) - FRAME + 1, FRAME):
        stream.feed(audio[start : start + FRAME].tobytes())
        await asyncio.sleep(realtime)
    await stream.close()
    await reader
    return events


async def test_partials_about_once_a_second_then_one_final() -> None:
    engine = CountingRecognizer()
    adapter = StreamAdapter(engine, lambda rate: energy, interim_every_s=1.0)
    stream = adapter.open_stream(EndpointConfig(sample_rate=RATE, end_silence_ms=800))
    events = await feed_all(
        stream, np.concatenate([silence(0.5), tone(3.2), silence(1.5)]), realtime=0.001
    )
    adapter.close()
    kinds = [type(e) for e in events]
    assert kinds[0] is SpeechStarted and kinds[-1] is Final
    partials = [e for e in events if isinstance(e, Partial)]
    assert 2 <= len(partials) <= 3, "about one interim result per second of talk"
    final = events[-1]
    assert final.reason == "silence" and final.start_s == pytest.approx(0.5, abs=0.05)
    assert final.text == "3.4秒" and final.confidence == 0.9  # 3.2 s + 0.2 s pre-roll
    assert final.latency_s < 1.0


async def test_two_turns_give_two_finals_in_order() -> None:
    adapter = StreamAdapter(CountingRecognizer(), lambda rate: energy, interim_every_s=10)
    stream = adapter.open_stream(EndpointConfig(sample_rate=RATE))
    audio = np.concatenate([tone(1.0), silence(1.0), tone(2.0), silence(1.0)])
    finals = [e for e in await feed_all(stream, audio) if isinstance(e, Final)]
    adapter.close()
    # The first turn starts the stream (no pre-roll to keep); the second has 0.2 s of it.
    assert [f.text for f in finals] == ["1.0秒", "2.2秒"]
    assert finals[0].end_s < finals[1].start_s


async def test_an_engine_failure_is_an_event_not_a_hang() -> None:
    adapter = StreamAdapter(CountingRecognizer(fail=True), lambda rate: energy, interim_every_s=10)
    stream = adapter.open_stream(EndpointConfig(sample_rate=RATE))
    events = await asyncio.wait_for(feed_all(stream, np.concatenate([tone(1), silence(1)])), 10)
    adapter.close()
    failed = [e for e in events if isinstance(e, StreamFailed)]
    assert len(failed) == 1 and failed[0].retryable and "engine crashed" in failed[0].message


async def test_whisper_stream_on_a_telephone_clip() -> None:
    samples, rate = read_wav(SPEECH / "aishell1_BAC009S0764W0121_8k_ulaw_sim.wav")
    pcm = (samples * 32767).astype(np.int16)
    adapter = StreamAdapter(WhisperRecognizer(), webrtc_classifier, interim_every_s=1.0)
    stream = adapter.open_stream(EndpointConfig(sample_rate=rate, end_silence_ms=800))
    audio = np.concatenate([np.zeros(rate // 2, np.int16), pcm, np.zeros(rate * 2, np.int16)])
    events = await feed_all(stream, audio, realtime=0.02)  # as fast as a caller talks
    adapter.close()
    finals = [e for e in events if isinstance(e, Final)]
    assert finals, events
    assert any(isinstance(e, Partial) for e in events[: events.index(finals[0])])
    assert cer("甚至出现交易几乎停滞的情况", "".join(f.text for f in finals)) <= 0.3
    assert finals[-1].latency_s < 2.0


async def test_the_final_is_decoded_during_the_end_of_speech_silence() -> None:
    """Early final: decoded once the caller is quiet for half the end-of-speech silence."""
    engine = CountingRecognizer()
    adapter = StreamAdapter(engine, lambda rate: energy, interim_every_s=10.0)
    stream = adapter.open_stream(EndpointConfig(sample_rate=RATE, end_silence_ms=800))
    events = await feed_all(stream, np.concatenate([silence(0.5), tone(2.0), silence(1.5)]))
    adapter.close()
    finals = [e for e in events if isinstance(e, Final)]
    assert [f.text for f in finals] == ["2.2秒"]
    assert stream.speculations == 1 and stream.speculations_used == 1
    assert engine.calls == [pytest.approx(2.2, abs=0.06)], "one decode for the turn, not two"


async def test_an_early_final_is_dropped_when_the_caller_goes_on() -> None:
    engine = CountingRecognizer()
    adapter = StreamAdapter(engine, lambda rate: energy, interim_every_s=10.0)
    stream = adapter.open_stream(EndpointConfig(sample_rate=RATE, end_silence_ms=800))
    # a 0.6 s pause: long enough to decode early, too short to end the turn
    audio = np.concatenate([silence(0.5), tone(1.0), silence(0.6), tone(1.0), silence(1.5)])
    events = await feed_all(stream, audio)
    adapter.close()
    (final,) = [e for e in events if isinstance(e, Final)]
    assert final.text == "2.8秒", "the whole turn, both stretches of speech and the pause"
    assert stream.speculations == 2 and stream.speculations_used == 1
