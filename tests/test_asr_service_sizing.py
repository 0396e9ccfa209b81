"""The ASR service's sizing rule and its decode backlog, as pure logic (asr/service.py)."""

from __future__ import annotations

import pytest

from asr.service import (
    ASR_SHARE,
    ENGINE_COST,
    SPEECH_SHARE,
    DecodeBacklog,
    StreamLeg,
    size_service,
)
from asr.vad import FRAME_MS
from sip_config.settings import AsrSection

FRAMES_PER_S = 1000 // FRAME_MS


def _fits(cores: int, engine: str) -> int:
    return int(cores * ASR_SHARE / (ENGINE_COST[engine] * SPEECH_SHARE) + 1e-9)


def test_whisper_on_two_cores_gets_one_decoder_of_two_threads() -> None:
    sizing = size_service(2, "whisper")
    assert (sizing.decoders, sizing.cpu_threads) == (1, 2)
    assert sizing.max_streams == _fits(2, "whisper") == 10
    assert sizing.rtf == pytest.approx(0.15)  # the measured RTF on 2 threads
    assert sizing.auto == ("max_streams", "decoders", "cpu_threads")
    assert "2 cores" in sizing.how and "10 streams" in sizing.how


@pytest.mark.parametrize(
    ("cores", "decoders", "threads"), [(1, 1, 1), (2, 1, 2), (3, 1, 2), (4, 2, 2), (16, 8, 2)]
)
def test_whisper_decoders_follow_the_cores(cores: int, decoders: int, threads: int) -> None:
    sizing = size_service(cores, "whisper")
    assert (sizing.decoders, sizing.cpu_threads) == (decoders, threads)
    assert sizing.max_streams == _fits(cores, "whisper")


def test_one_core_decodes_slower_per_decode() -> None:
    assert size_service(1, "whisper").rtf == pytest.approx(0.30)


def test_vosk_decodes_on_one_thread_per_core_and_carries_more_streams() -> None:
    sizing = size_service(2, "vosk")
    assert (sizing.decoders, sizing.cpu_threads) == (2, 1)
    assert sizing.max_streams == _fits(2, "vosk") > size_service(2, "whisper").max_streams


def test_streams_grow_with_the_cores() -> None:
    counts = [size_service(n, "whisper").max_streams for n in (1, 2, 4, 8)]
    assert counts == sorted(counts) and counts[0] < counts[-1]


def test_figures_given_are_kept() -> None:
    sizing = size_service(8, "whisper", max_streams=3, decoders=5, cpu_threads=1)
    assert (sizing.max_streams, sizing.decoders, sizing.cpu_threads) == (3, 5, 1)
    assert sizing.auto == ()
    assert sizing.as_status()["sized"] == "settings"
    partly = size_service(8, "whisper", max_streams=3)
    assert partly.auto == ("decoders", "cpu_threads")
    assert partly.as_status() == {
        "capacity": 3,
        "decoders": 4,
        "cpu_threads": 2,
        "cores": 8,
        "sized": "decoders,cpu_threads",
    }


def test_no_cores_is_sized_as_one_and_streams_are_capped() -> None:
    assert size_service(0, "whisper").cores == 1
    assert size_service(10_000, "vosk").max_streams == 1000


def test_the_settings_default_to_auto() -> None:
    asr = AsrSection()
    assert (asr.max_streams, asr.decoders, asr.cpu_threads) == (0, 0, 0)
    assert asr.nice == 10 and 0 < asr.max_final_delay_s < 4.0  # the hub waits 4 s


def _talk(leg: StreamLeg, seconds: float) -> None:
    leg.frames += int(seconds * FRAMES_PER_S)


def test_the_backlog_owes_the_speech_of_open_turns_until_their_final() -> None:
    backlog = DecodeBacklog(decoders=1, rtf=0.5, max_utterance_s=30)
    a, b = StreamLeg(), StreamLeg()
    _talk(a, 1.0)
    turn_a = backlog.turn_started(a, 1.0)
    _talk(a, 4.0)
    _talk(b, 2.0)
    turn_b = backlog.turn_started(b, 2.0)
    assert backlog.owed_s() == pytest.approx(4.0)  # b has not said anything yet
    _talk(b, 2.0)
    assert backlog.owed_s() == pytest.approx(6.0)
    assert backlog.wait_s(turn_a) == 0  # nothing ahead of the oldest turn
    assert backlog.wait_s(turn_b) == pytest.approx(4.0 * 0.5)  # a's 4 s, at RTF 0.5
    assert backlog.wait_s() == pytest.approx(6.0 * 0.5)
    backlog.turn_done(a)  # a's final came
    assert backlog.wait_s(turn_b) == 0 and backlog.owed_s() == pytest.approx(2.0)
    backlog.drop(b)
    assert backlog.owed_s() == 0 and not b.turns


def test_a_turn_ends_where_the_legs_next_turn_begins_and_is_capped() -> None:
    backlog = DecodeBacklog(decoders=2, rtf=0.2, max_utterance_s=5)
    leg = StreamLeg()
    backlog.turn_started(leg, 0.0)
    _talk(leg, 3.0)
    second = backlog.turn_started(leg, 3.0)  # the first turn's final is still due
    _talk(leg, 20.0)
    assert backlog.owed_s() == pytest.approx(3.0 + 5.0)  # the second one capped at 5 s
    assert backlog.wait_s(second) == pytest.approx(3.0 * 0.2 / 2)  # two decoders


def test_measured_decodes_replace_the_nominal_speed() -> None:
    backlog = DecodeBacklog(decoders=1, rtf=0.15, max_utterance_s=30)
    backlog.measured(0.5, 2.0)
    assert backlog.rtf == 0.15  # under a second of audio measured: the sizing's figure
    for _ in range(20):
        backlog.measured(4.0, 2.0)  # a CPU-starved service: RTF 0.5
    assert backlog.rtf == pytest.approx(0.5, abs=0.05)
    backlog.measured(0.0, 1.0)  # nothing decoded: ignored
    assert backlog.decodes == 21
