"""An overloaded ASR service says "no transcript" at once instead of a late final.

A real service over real WebSockets with the real VAD and real speech; only the
recogniser is a fake whose decodes wait until the test lets them finish, so the
backlog is there for as long as the test needs it (asr/service.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading

import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from asr.audio import read_wav
from asr.recognizer import Transcript
from asr.service import AsrService, ServiceLimits, start_service
from asr.stream import Final, StreamAdapter
from asr.vad import webrtc_classifier
from ivr.media.asr_link import AsrLink
from tests.support.nodes import SPEECH

CLIP_8K = SPEECH / "aishell1_BAC009S0764W0121_8k_ulaw_sim.wav"
CLIP_16K = SPEECH / "aishell1_BAC009S0764W0122.wav"


class HeldRecognizer:
    """Decodes only once ``release`` is set; remembers what it was asked to decode."""

    name = "held"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls: list[tuple[int, int]] = []  # (samples, sample rate)

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> Transcript:
        self.calls.append((len(samples), sample_rate))
        self.release.wait(30)
        return Transcript("我要反映噪音问题", audio_s=len(samples) / sample_rate, decode_s=0.1)


def _frames(path, lead_s: float = 0.5, tail_s: float = 1.5) -> list[bytes]:
    samples, rate = read_wav(path)
    pcm = (samples * 32767).astype(np.int16)
    audio = np.concatenate(
        [np.zeros(int(rate * lead_s), np.int16), pcm, np.zeros(int(rate * tail_s), np.int16)]
    )
    step = rate // 50
    return [audio[i : i + step].tobytes() for i in range(0, len(audio) - step + 1, step)]


@pytest.fixture
async def held():
    recognizer = HeldRecognizer()
    published: list = []

    async def publish(request, event) -> None:
        published.append((request.call_id, event))

    # No interim results: every decode the recogniser sees is a turn's final.
    adapter = StreamAdapter(recognizer, webrtc_classifier, decoders=1, interim_every_s=60)
    limits = ServiceLimits(max_streams=4, decoders=1, rtf=1.0, max_final_delay_s=0.5)
    service = AsrService(adapter, limits, publish)
    server = await start_service(service, "127.0.0.1", 0)
    url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield service, recognizer, published, url
    finally:
        recognizer.release.set()
        server.close()
        await server.wait_closed()
        adapter.close()


async def _open(url: str, call_id: str, rate: int) -> ClientConnection:
    ws = await connect(url)
    await ws.send(json.dumps({"call_id": call_id, "leg": "caller", "sample_rate": rate}))
    assert json.loads(await ws.recv()) == {"type": "ready"}
    return ws


async def _all(ws: ClientConnection) -> list[dict]:
    """Every message until the service closes the connection, however it closes it."""
    seen: list[dict] = []
    with contextlib.suppress(ConnectionClosed):
        async for raw in ws:
            seen.append(json.loads(raw))
    return seen


async def _until(ws: ClientConnection, kind: str) -> list[dict]:
    seen: list[dict] = []
    async for raw in ws:
        seen.append(json.loads(raw))
        if seen[-1]["type"] == kind:
            break
    return seen


async def test_a_turn_behind_a_backlog_is_shed_at_once_and_never_decoded(held) -> None:
    service, recognizer, published, url = held
    first = await _open(url, "c-first", 8000)
    second = await _open(url, "c-second", 16000)  # admitted: nothing is owed yet
    for frame in _frames(CLIP_8K):
        await first.send(frame)
    await first.send(json.dumps({"eof": True}))
    await _until(first, "speech_started")
    while not recognizer.calls:  # the first caller's turn waits for its decode
        await asyncio.sleep(0.01)
    assert service.backlog.owed_s() > 3.0  # about 4 s of speech owed, at RTF 1

    with contextlib.suppress(ConnectionClosed):  # the service may close it mid-way
        for frame in _frames(CLIP_16K):
            await second.send(frame)
    replies = await _all(second)  # until the service closes it
    assert second.close_code == 1013 and second.close_reason == "overloaded"
    assert [r["type"] for r in replies] == ["speech_started", "error"]
    failure = replies[-1]
    assert failure["reason"] == "overloaded" and failure["retryable"] is True
    assert "overloaded" in failure["message"]

    # Early: the first caller's final has not even been decoded yet.
    assert not [e for c, e in published if isinstance(e, Final)]
    recognizer.release.set()
    after = await _until(first, "closed")
    assert [r["type"] for r in after].count("final") == 1
    assert {rate for _, rate in recognizer.calls} == {8000}  # the shed turn: no decode
    assert [c for c, _ in published] == ["c-first", "c-first"]  # final, then done
    assert service.shed == 1 and service.backlog.owed_s() == 0
    await first.close()


async def test_a_stream_opened_behind_a_backlog_is_told_busy_overloaded(held) -> None:
    service, recognizer, published, url = held
    first = await _open(url, "c-first", 8000)
    for frame in _frames(CLIP_8K):
        await first.send(frame)
    await first.send(json.dumps({"eof": True}))
    await _until(first, "speech_started")
    while not recognizer.calls:
        await asyncio.sleep(0.01)

    async with connect(url) as late:
        await late.send(json.dumps({"call_id": "c-late", "sample_rate": 8000}))
        (reply,) = await _all(late)
    assert reply["type"] == "busy" and reply["reason"] == "overloaded"
    assert reply["wait_s"] > 0.5 and reply["capacity"] == 4
    assert late.close_code == 1013

    lost: list[str] = []  # the media worker's own client: it reports asr.unavailable
    link = AsrLink(url, "c-link", "caller", 8000, on_lost=lost.append, turn=1)
    assert await link.start() == "busy (overloaded)"  # asr.unavailable says why
    assert service.overloaded == 2 and service.served == 1

    recognizer.release.set()  # the backlog drains: streams are admitted again
    await _until(first, "closed")
    await first.close()
    assert service.backlog.owed_s() == 0
    again = await _open(url, "c-again", 8000)
    await again.send(json.dumps({"eof": True}))
    assert (await _until(again, "closed"))[-1] == {"type": "closed"}
    await again.close()


async def test_the_worker_link_hears_a_shed_turn_as_a_lost_stream(held) -> None:
    service, recognizer, published, url = held
    lost: list[str] = []  # the media worker's own client, opened while nothing is owed
    link = AsrLink(url, "c-link", "caller", 16000, on_lost=lost.append, turn=1)
    assert await link.start() == ""
    first = await _open(url, "c-first", 8000)
    for frame in _frames(CLIP_8K):
        await first.send(frame)
    await first.send(json.dumps({"eof": True}))
    while not recognizer.calls:
        await asyncio.sleep(0.01)
    for frame in _frames(CLIP_16K):  # the worker streams its caller's turn
        link.push(frame)
        await asyncio.sleep(0.002)
        if lost:
            break
    for _ in range(500):
        if lost:
            break
        await asyncio.sleep(0.01)
    assert lost == ["asr service: overloaded"]  # the worker emits asr.unavailable, with why
    await link.close()
    recognizer.release.set()
    await _until(first, "closed")
    await first.close()
    assert {rate for _, rate in recognizer.calls} == {8000} and service.shed == 1
