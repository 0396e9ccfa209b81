"""The ASR service over real WebSockets with the real Whisper engine (asr/service.py)."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
from websockets.asyncio.client import connect

from asr.audio import read_wav
from asr.normalize import cer
from asr.protocol import parse_request
from asr.service import AsrService, ServiceLimits, meter, start_service
from asr.stream import Final, StreamAdapter
from asr.vad import webrtc_classifier
from asr.whisper import WhisperRecognizer
from tests.support.nodes import SPEECH

CLIP = SPEECH / "aishell1_BAC009S0764W0121_8k_ulaw_sim.wav"


@pytest.fixture(scope="module")
def whisper() -> WhisperRecognizer:
    return WhisperRecognizer()


async def _service(whisper, published: list, max_streams: int = 2):
    async def publish(request, event) -> None:
        published.append((request.call_id, event))

    adapter = StreamAdapter(whisper, webrtc_classifier, decoders=1)
    service = AsrService(adapter, ServiceLimits(max_streams=max_streams), publish)
    meter(adapter, service.backlog)
    server = await start_service(service, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return service, server, adapter, f"ws://127.0.0.1:{port}"


def _frames(seconds_silence_after: float = 1.5) -> list[bytes]:
    samples, rate = read_wav(CLIP)
    pcm = (samples * 32767).astype(np.int16)
    audio = np.concatenate(
        [np.zeros(rate // 2, np.int16), pcm, np.zeros(int(rate * seconds_silence_after), np.int16)]
    )
    frame = rate // 50
    return [audio[i : i + frame].tobytes() for i in range(0, len(audio) - frame + 1, frame)]


async def _talk(url: str, call_id: str) -> list[dict]:
    received: list[dict] = []
    async with connect(url) as ws:
        await ws.send(json.dumps({"call_id": call_id, "leg": "caller", "sample_rate": 8000}))
        assert json.loads(await ws.recv()) == {"type": "ready"}

        async def read() -> None:
            async for message in ws:
                received.append(json.loads(message))

        reader = asyncio.create_task(read())
        for frame in _frames():
            await ws.send(frame)
            await asyncio.sleep(0.005)
        await ws.send(json.dumps({"eof": True}))
        await asyncio.wait_for(reader, 60)
    return received


async def test_a_stream_gets_speech_start_partials_and_a_final(whisper) -> None:
    published: list = []
    service, server, adapter, url = await _service(whisper, published)
    try:
        received = await _talk(url, "20261128-120000-w1-abcdef")
    finally:
        server.close()
        await server.wait_closed()
        adapter.close()
    kinds = [m["type"] for m in received]
    assert kinds[0] == "speech_started" and kinds[-1] == "closed"
    finals = [m for m in received if m["type"] == "final"]
    assert finals and cer("甚至出现交易几乎停滞的情况", "".join(f["text"] for f in finals)) <= 0.3
    assert all(0 <= f["start_s"] < f["end_s"] for f in finals)
    assert [c for c, e in published if isinstance(e, Final)] == ["20261128-120000-w1-abcdef"]
    load = service.load
    assert {k: load[k] for k in ("streams", "capacity", "served", "refused", "shed")} == {
        "streams": 0,
        "capacity": 2,
        "served": 1,
        "refused": 0,
        "shed": 0,
    }
    assert load["backlog_s"] == 0  # the final came: nothing is owed any more
    assert service.backlog.decodes >= 1 and load["rtf"] > 0  # measured on real decodes


async def test_a_saturated_service_says_busy_at_once(whisper) -> None:
    service, server, adapter, url = await _service(whisper, [], max_streams=1)
    try:
        async with connect(url) as first:
            await first.send(json.dumps({"call_id": "c1", "sample_rate": 8000}))
            assert json.loads(await first.recv())["type"] == "ready"
            async with connect(url) as second:
                await second.send(json.dumps({"call_id": "c2", "sample_rate": 8000}))
                reply = json.loads(await asyncio.wait_for(second.recv(), 5))
            assert reply == {"type": "busy", "capacity": 1, "reason": "streams"}
            await first.send(json.dumps({"eof": True}))
            async for _ in first:
                pass
    finally:
        server.close()
        await server.wait_closed()
        adapter.close()
    assert service.refused == 1


@pytest.mark.parametrize(
    ("opening", "message"),
    [
        ("not json", "must be JSON"),
        (json.dumps({"call_id": "../x", "sample_rate": 8000}), "call_id"),
        (json.dumps({"call_id": "c1", "sample_rate": 44100}), "8000 or 16000"),
    ],
)
async def test_bad_openings_get_a_reason(whisper, opening: str, message: str) -> None:
    service, server, adapter, url = await _service(whisper, [])
    try:
        async with connect(url) as ws:
            await ws.send(opening)
            reply = json.loads(await ws.recv())
    finally:
        server.close()
        await server.wait_closed()
        adapter.close()
    assert reply["type"] == "error" and message in reply["message"]


async def test_a_wrong_frame_size_is_refused_with_a_reason(whisper) -> None:
    service, server, adapter, url = await _service(whisper, [])
    try:
        async with connect(url) as ws:
            await ws.send(json.dumps({"call_id": "c1", "sample_rate": 8000}))
            await ws.recv()
            await ws.send(b"\0" * 100)
            replies = [json.loads(m) async for m in ws]
    finally:
        server.close()
        await server.wait_closed()
        adapter.close()
    assert replies[0]["type"] == "error" and "expected 320 bytes" in replies[0]["message"]
    assert replies[-1]["type"] == "closed"


def test_parse_request_defaults_to_the_caller_leg() -> None:
    assert parse_request('{"call_id": "c1", "sample_rate": 16000}').leg == "caller"
