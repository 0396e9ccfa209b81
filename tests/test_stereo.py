"""recordings.stereo: caller left, agent right, on synthesized tones in tmp_path."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from recordings import stereo
from recordings.stereo import write_stereo
from recordings.wav import read_summary

RATE = 8000


def tone(freq: float, seconds: float, rate: int = RATE, amplitude: int = 8000) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples.astype("<i2").tobytes())
    return path


def read_stereo(path: Path) -> tuple[int, np.ndarray, np.ndarray]:
    with wave.open(str(path)) as reader:
        assert reader.getnchannels() == 2
        assert reader.getsampwidth() == 2
        frames = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
        rate = reader.getframerate()
    pairs = frames.reshape(-1, 2)
    return rate, pairs[:, 0], pairs[:, 1]


def dominant_hz(samples: np.ndarray, rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def test_caller_left_agent_right_at_its_offset(tmp_path: Path) -> None:
    caller = tone(440, 3.0)
    agent = tone(1000, 1.5)
    left = write_wav(tmp_path / "caller.wav", caller)
    right = write_wav(tmp_path / "agent.wav", agent)

    out = write_stereo(left, right, tmp_path / "qa.wav", right_offset_s=1.0)

    assert out == tmp_path / "qa.wav"
    rate, left_ch, right_ch = read_stereo(out)
    assert rate == RATE
    assert len(left_ch) == 3 * RATE  # the caller's file is the longer one
    assert np.array_equal(left_ch, caller)
    assert not right_ch[: RATE - 1].any()  # silence until the agent answered
    assert np.array_equal(right_ch[RATE : RATE + len(agent)], agent)
    assert not right_ch[RATE + len(agent) :].any()
    assert dominant_hz(left_ch) == pytest.approx(440, abs=2)
    assert dominant_hz(right_ch[RATE:]) == pytest.approx(1000, abs=2)


def test_left_is_padded_when_the_agent_talks_longer(tmp_path: Path) -> None:
    caller = tone(300, 1.0)
    agent = tone(700, 2.0)
    left = write_wav(tmp_path / "caller.wav", caller)
    right = write_wav(tmp_path / "agent.wav", agent)

    out = write_stereo(left, right, tmp_path / "qa.wav", right_offset_s=0.5)

    _, left_ch, right_ch = read_stereo(out)
    assert len(left_ch) == len(right_ch) == round(2.5 * RATE)
    assert np.array_equal(left_ch[:RATE], caller)
    assert not left_ch[RATE:].any()
    assert np.array_equal(right_ch[RATE // 2 :], agent)


def test_blocks_join_without_gaps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small blocks, an offset that is not a multiple of the block: same samples."""
    monkeypatch.setattr(stereo, "BLOCK_FRAMES", 97)
    rng = np.random.default_rng(7)
    caller = rng.integers(-30000, 30000, 5000).astype(np.int16)
    agent = rng.integers(-30000, 30000, 4900).astype(np.int16)
    left = write_wav(tmp_path / "caller.wav", caller)
    right = write_wav(tmp_path / "agent.wav", agent)

    out = write_stereo(left, right, tmp_path / "qa.wav", right_offset_s=250 / RATE)

    _, left_ch, right_ch = read_stereo(out)
    assert len(left_ch) == 250 + 4900
    assert np.array_equal(left_ch[:5000], caller) and not left_ch[5000:].any()
    assert not right_ch[:250].any()
    assert np.array_equal(right_ch[250:], agent)


def test_zero_offset_and_16k(tmp_path: Path) -> None:
    caller, agent = tone(500, 1.0, 16000), tone(2000, 1.0, 16000)
    left = write_wav(tmp_path / "caller.wav", caller, 16000)
    right = write_wav(tmp_path / "agent.wav", agent, 16000)

    rate, left_ch, right_ch = read_stereo(write_stereo(left, right, tmp_path / "qa.wav"))

    assert rate == 16000
    assert np.array_equal(left_ch, caller) and np.array_equal(right_ch, agent)


def test_different_sample_rates_are_refused(tmp_path: Path) -> None:
    left = write_wav(tmp_path / "caller.wav", tone(440, 1.0, 8000), 8000)
    right = write_wav(tmp_path / "agent.wav", tone(440, 1.0, 16000), 16000)

    with pytest.raises(ValueError, match="sample rates differ.*8000 Hz.*16000 Hz"):
        write_stereo(left, right, tmp_path / "qa.wav")

    assert sorted(p.name for p in tmp_path.iterdir()) == ["agent.wav", "caller.wav"]


def test_stereo_input_is_refused(tmp_path: Path) -> None:
    left = write_wav(tmp_path / "caller.wav", tone(440, 1.0))
    right = write_wav(tmp_path / "agent.wav", np.zeros(1600, np.int16), channels=2)

    with pytest.raises(ValueError, match="agent.wav: 2 channel"):
        write_stereo(left, right, tmp_path / "qa.wav")


@pytest.mark.parametrize(
    "content",
    [b"", b"RIFF\x00\x00", b"\x00\x01" * 500, b"RIFF\x24\x00\x00\x00WAVEfmt "],
    ids=["empty", "cut-riff", "not-wav", "cut-fmt"],
)
def test_broken_input_is_refused_and_leaves_no_output(tmp_path: Path, content: bytes) -> None:
    left = write_wav(tmp_path / "caller.wav", tone(440, 1.0))
    right = tmp_path / "agent.wav"
    right.write_bytes(content)

    with pytest.raises(ValueError, match="agent.wav: not a usable WAV file"):
        write_stereo(left, right, tmp_path / "qa.wav")

    assert sorted(p.name for p in tmp_path.iterdir()) == ["agent.wav", "caller.wav"]


def test_missing_input_is_a_clear_error(tmp_path: Path) -> None:
    left = write_wav(tmp_path / "caller.wav", tone(440, 1.0))

    with pytest.raises(ValueError, match="agent.wav: no such recording"):
        write_stereo(left, tmp_path / "agent.wav", tmp_path / "qa.wav")


def test_truncated_input_contributes_the_frames_it_holds(tmp_path: Path) -> None:
    """A copy cut mid-sample, and a recorder that died before writing its sizes."""
    caller = tone(440, 1.0)
    agent = tone(1000, 1.0)
    left = write_wav(tmp_path / "caller.wav", caller)
    full = write_wav(tmp_path / "full.wav", agent).read_bytes()
    right = tmp_path / "agent.wav"
    right.write_bytes(full[: 44 + 2 * 3000 + 1])  # 3000 whole frames and half a sample
    crashed = bytearray(full)
    struct.pack_into("<I", crashed, 4, 0)
    struct.pack_into("<I", crashed, 40, 0)
    (tmp_path / "crashed.wav").write_bytes(bytes(crashed))

    _, _, right_ch = read_stereo(write_stereo(left, right, tmp_path / "qa.wav", 0.25))
    _, _, crashed_ch = read_stereo(
        write_stereo(left, tmp_path / "crashed.wav", tmp_path / "qa2.wav")
    )

    assert len(right_ch) == RATE  # the caller's second is longer than 0.25 s + 3000 frames
    assert np.array_equal(right_ch[2000:5000], agent[:3000])
    assert not right_ch[5000:].any()
    assert np.array_equal(crashed_ch, agent)


def test_a_failure_while_writing_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    left = write_wav(tmp_path / "caller.wav", tone(440, 2.0))
    right = write_wav(tmp_path / "agent.wav", tone(1000, 2.0))
    out = tmp_path / "qa.wav"
    out.write_bytes(b"previous")

    def disk_full(fd: int) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr("os.fsync", disk_full)

    with pytest.raises(OSError, match="No space left"):
        write_stereo(left, right, out)

    assert out.read_bytes() == b"previous"  # the old file is untouched, no temp file left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["agent.wav", "caller.wav", "qa.wav"]


@pytest.mark.parametrize("offset", [-0.5, float("nan"), float("inf")])
def test_bad_offsets_are_refused(tmp_path: Path, offset: float) -> None:
    left = write_wav(tmp_path / "caller.wav", tone(440, 0.1))

    with pytest.raises(ValueError, match="right_offset_s"):
        write_stereo(left, left, tmp_path / "qa.wav", offset)


def test_the_stereo_file_reads_back_as_two_channels(tmp_path: Path) -> None:
    left = write_wav(tmp_path / "caller.wav", tone(440, 2.0))
    right = write_wav(tmp_path / "agent.wav", tone(1000, 0.5))

    summary = read_summary(write_stereo(left, right, tmp_path / "qa.wav", 0.75))

    assert (summary.channels, summary.sample_rate, summary.bits) == (2, RATE, 16)
    assert summary.duration_s == pytest.approx(2.0)
