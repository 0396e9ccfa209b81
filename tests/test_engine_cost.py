"""What makes a media worker cheap (issue 13): the engine's idle poll that a job
ends, a tapped frame's copy, frames gathered by the bridge into one callback per
hand-over, split again for ASR."""

from __future__ import annotations

import asyncio
import gc
import os
import select
import socket
import threading
from pathlib import Path

import numpy as np
import pjsua2 as pj
import pytest

from ivr.media.asr_link import AsrLink
from ivr.media.engine import EngineConfig, SipEngine
from ivr.media.engine_support import JobQueue, Poller, TapBuffer, vector_reader
from sip_config.settings import WorkersSection


def test_a_frames_bytes_are_read_as_bytes_would_read_them() -> None:
    read = vector_reader(pj.ByteVector(bytes(range(256))))
    assert read is not bytes  # the fast way passed its own check on this build
    for content in (os.urandom(320), os.urandom(640), b"\x00" * 320, b"x"):
        assert read(pj.ByteVector(content)) == content
    assert read(pj.ByteVector()) == b""
    frame = pj.MediaFrame()
    frame.buf = pj.ByteVector(b"\x01\x02" * 160)
    assert read(frame.buf) == b"\x01\x02" * 160


def test_something_that_is_not_a_swig_vector_is_read_the_plain_way() -> None:
    assert vector_reader(bytearray(b"abc")) is bytes


def test_frames_go_to_the_sink_as_they_come_and_none_after_detach() -> None:
    got: list[bytes] = []
    buffer = TapBuffer()
    buffer.add(b"lost")  # no sink yet
    buffer.attach(got.append)
    frame = b"f" * 1600
    buffer.add(frame)
    assert got == [frame] and got[0] is frame
    buffer.detach()
    buffer.add(b"after")
    assert got == [frame] and not buffer.attached


def test_frames_from_another_thread_arrive_whole_and_in_order() -> None:
    got: list[bytes] = []
    buffer = TapBuffer()
    buffer.attach(got.append)

    def clock() -> None:
        for index in range(1000):
            buffer.add(index.to_bytes(4, "big"))

    thread = threading.Thread(target=clock)
    thread.start()
    thread.join()
    buffer.detach()
    joined = b"".join(got)
    assert [int.from_bytes(joined[i : i + 4], "big") for i in range(0, len(joined), 4)] == list(
        range(1000)
    )
    assert all(len(chunk) == 4 for chunk in got)


def test_a_job_ends_an_idle_poll_by_a_datagram_to_the_engines_own_port() -> None:
    """The poller waits on a real UDP socket as PJSIP would; a job submitted during
    the long poll wakes it (the datagram is what ended it, not the timeout)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    seen: list[tuple[int, bytes]] = []
    polling = threading.Event()

    def handle_events(timeout_ms: int) -> int:
        polling.set()
        readable, _, _ = select.select([sock], [], [], timeout_ms / 1000)
        seen.append((timeout_ms, sock.recv(64) if readable else b""))
        return len(readable)

    jobs = JobQueue()
    poller = Poller(jobs, poll_ms=20, idle_poll_ms=999)
    poller.start(handle_events, "0.0.0.0", sock.getsockname()[1], udp=True)
    # With 60 s idle polls a missed wake would hang the test, not slow it down.
    poller.idle_poll_ms = 60_000
    thread = threading.Thread(target=poller.poll, kwargs={"busy": False})
    thread.start()
    assert polling.wait(10)
    jobs.put(lambda: None)
    poller.submitted()
    thread.join(30)
    assert not thread.is_alive()
    assert seen == [(60_000, b"\r\n\r\n")]
    poller.poll(busy=True)  # the job is not run yet: no wait at all
    assert len(seen) == 1
    jobs.run_pending()
    poller.poll(busy=True)  # with legs: the short poll, nobody needs waking
    assert seen[-1] == (20, b"")
    # A job submitted during a poll with legs ends it too (a command does not wait).
    poller.poll_ms = 60_000
    thread = threading.Thread(target=poller.poll, kwargs={"busy": True})
    polling.clear()
    thread.start()
    assert polling.wait(10)
    jobs.put(lambda: None)
    poller.submitted()
    thread.join(30)
    assert not thread.is_alive() and seen[-1] == (60_000, b"\r\n\r\n")
    poller.close()
    sock.close()


def test_a_queued_job_means_no_idle_poll_at_all() -> None:
    calls: list[int] = []
    jobs = JobQueue()
    poller = Poller(jobs, poll_ms=20, idle_poll_ms=999)
    poller.start(calls.append, "127.0.0.1", 9, udp=True)
    jobs.put(lambda: None)
    poller.poll(busy=False)
    assert calls == []
    poller.close()


def test_without_udp_the_engine_never_polls_long() -> None:
    calls: list[int] = []
    poller = Poller(JobQueue(), poll_ms=20, idle_poll_ms=500)
    poller.start(calls.append, "127.0.0.1", 9, udp=False)
    poller.poll(busy=False)
    assert calls == [20]


@pytest.mark.parametrize(
    "config",
    [
        EngineConfig(),
        EngineConfig(media_thread=False),
        EngineConfig(idle_poll_ms=20, tap_batch_frames=1, tap_fast_copy=False),
        EngineConfig(transports=("tcp",)),
    ],
    ids=["default", "shared-ioqueue", "legacy", "tcp-only"],
)
def test_an_idle_engine_runs_jobs_and_stops(config: EngineConfig) -> None:
    engine = SipEngine(config, on_event=lambda event: None)
    engine.start()
    try:
        for _ in range(20):  # each one submitted while the engine waits idle
            assert engine.leg_ids().result(timeout=30) == []
        assert engine.submit(lambda a, b: a + b, 2, 3).result(timeout=30) == 5
    finally:
        engine.stop()
    assert not engine._thread.is_alive()


def test_the_asr_link_sends_one_20_ms_frame_per_message() -> None:
    async def run() -> list[bytes]:
        link = AsrLink("ws://127.0.0.1:9", "c", "caller", 8000, on_lost=lambda why: None)
        link.push(b"".join(bytes([i]) * 320 for i in range(5)))
        link.push(b"\x09" * 320)
        return [link._queue.get_nowait() for _ in range(link._queue.qsize())]

    frames = asyncio.run(run())
    assert frames == [bytes([i]) * 320 for i in (0, 1, 2, 3, 4, 9)]


def test_a_full_asr_queue_drops_the_oldest_frames() -> None:
    async def run() -> AsrLink:
        link = AsrLink("ws://127.0.0.1:9", "c", "caller", 16000, on_lost=lambda why: None)
        for index in range(110):
            link.push(index.to_bytes(2, "big") * 320 * 5)  # 100 ms: five 640-byte frames
        return link

    link = asyncio.run(run())
    assert link.dropped == 50 and link._queue.qsize() == 500
    first = link._queue.get_nowait()
    assert len(first) == 640 and first[:2] == (10).to_bytes(2, "big")


def test_the_workers_cost_settings_have_their_defaults() -> None:
    workers = WorkersSection()
    assert (workers.idle_poll_ms, workers.media_thread, workers.tap_batch_frames) == (500, True, 5)
    config = EngineConfig()
    assert (config.idle_poll_ms, config.media_thread, config.tap_batch_frames) == (
        workers.idle_poll_ms,
        workers.media_thread,
        workers.tap_batch_frames,
    )


@pytest.mark.parametrize("batch", [1, 5])
def test_a_tapped_call_reaches_the_sink_in_port_sized_chunks_with_its_speech(
    tmp_path: Path, batch: int
) -> None:
    """A real call (SIPp, A-law from a recorded clip) into a bare engine: the tap's
    port is ``batch`` × 20 ms, so every chunk is that long (one callback per chunk
    on PJSIP's clock thread), and together they carry the caller's speech."""
    from bench.ramp import held_call_scenario
    from ivr.media import engine_events as ev
    from ivr.peers.sipp import run_sipp, speech_pcap
    from tests.support.nodes import SPEECH

    chunks: list[bytes] = []
    lock = threading.Lock()

    def sink(chunk: bytes) -> None:
        with lock:
            chunks.append(chunk)

    def on_event(event: ev.EngineEvent) -> None:  # on the engine thread
        if isinstance(event, ev.LegOffered):
            engine.answer(event.leg, 200)
        elif isinstance(event, ev.LegMedia):
            engine.tap(event.leg, sink)

    # PJSIP allows one Endpoint per process; an earlier engine's last references sit
    # in cycles (SWIG directors, a test's closures) until they are collected.
    gc.collect()
    engine = SipEngine(EngineConfig(tap_batch_frames=batch), on_event)
    engine.start()
    try:
        (tmp_path / "caller.pcap").write_bytes(
            speech_pcap(SPEECH / "aishell1_BAC009S0764W0121.wav", min_seconds=6)
        )
        result = run_sipp(
            held_call_scenario(6, tmp_path), f"127.0.0.1:{engine.port}", tmp_path, timeout_s=60
        )
    finally:
        engine.stop()
    assert result.successful == 1, result
    with lock:
        got = list(chunks)
    assert got and all(len(chunk) == 320 * batch for chunk in got)
    audio = np.frombuffer(b"".join(got), dtype=np.int16).astype(np.float64)
    assert 4.0 <= len(audio) / 8000 <= 7.0  # the call's audio, held 6 s
    loud = np.sqrt((audio[: len(audio) // 160 * 160].reshape(-1, 160) ** 2).mean(axis=1))
    assert (loud > 200).sum() >= 50  # at least a second of speech came through
