"""recordings.wav: parse, describe and repair WAV headers."""

from __future__ import annotations

import io
import struct
import wave
from pathlib import Path

import pytest

from recordings.wav import (
    WavFormat,
    header_is_consistent,
    parse_header,
    read_summary,
    repair_file,
    repair_header,
)


def wav_bytes(frames: bytes, *, channels: int = 1, width: int = 2, rate: int = 8000) -> bytes:
    """A WAV written by the standard library, as a reference writer."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(frames)
    return buffer.getvalue()


def ramp(count: int, channels: int = 1) -> bytes:
    """``count`` 16-bit frames with distinct samples, so truncation shows."""
    return b"".join(struct.pack("<h", (i * 37) % 30000) for i in range(count * channels))


def chunk(name: bytes, body: bytes) -> bytes:
    return name + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b"")


def fmt_body(tag: int = 1, channels: int = 1, rate: int = 8000, bits: int = 16) -> bytes:
    align = channels * bits // 8
    return struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits)


def riff(*chunks: bytes) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def crash_cut(data: bytes) -> bytes:
    """What a writer that died leaves: RIFF and data sizes never filled in."""
    cut = bytearray(data)
    struct.pack_into("<I", cut, 4, 0)
    fmt = parse_header(data)
    struct.pack_into("<I", cut, fmt.data_offset - 4, 0)
    return bytes(cut)


# ---- parse_header ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channels", "width", "rate", "frames"),
    [(1, 2, 8000, 160), (2, 2, 16000, 321), (1, 1, 8000, 7), (2, 3, 48000, 10), (1, 4, 22050, 5)],
)
def test_parse_header_reads_what_wave_wrote(
    channels: int, width: int, rate: int, frames: int
) -> None:
    samples = bytes(range(256)) * (frames * channels * width // 256 + 1)
    data = wav_bytes(
        samples[: frames * channels * width], channels=channels, width=width, rate=rate
    )

    fmt = parse_header(data)

    assert fmt == WavFormat(
        channels=channels,
        sample_rate=rate,
        bits=width * 8,
        data_offset=44,
        data_size=frames * channels * width,
    )
    assert fmt.block_align == channels * width
    assert header_is_consistent(data[:4096], len(data))


def test_parse_header_needs_only_the_head() -> None:
    data = wav_bytes(ramp(8000))

    assert parse_header(data[:44]) == parse_header(data)


def test_parse_header_skips_other_chunks_with_padding() -> None:
    samples = ramp(10)
    data = riff(chunk(b"fmt ", fmt_body()), chunk(b"LIST", b"odd"), chunk(b"data", samples))

    fmt = parse_header(data)

    # 12 (RIFF) + 24 (fmt) + 8 + 3 + 1 pad (LIST) + 8 (data chunk header)
    assert fmt.data_offset == 56
    assert data[fmt.data_offset :] == samples
    with wave.open(io.BytesIO(data)) as reader:  # the stdlib agrees
        assert reader.readframes(10) == samples


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"RIFF",
        b"hello world, this is not a wav file at all",
        b"RIFX" + b"\0" * 40,
        b"RIFF\0\0\0\0AVI " + b"\0" * 40,
    ],
)
def test_parse_header_refuses_garbage(garbage: bytes) -> None:
    with pytest.raises(ValueError, match="not a RIFF/WAVE file"):
        parse_header(garbage)


def test_parse_header_refuses_non_pcm() -> None:
    float_wav = riff(chunk(b"fmt ", fmt_body(tag=3, bits=32)), chunk(b"data", b"\0" * 8))

    with pytest.raises(ValueError, match="not PCM"):
        parse_header(float_wav)


def test_parse_header_refuses_implausible_format() -> None:
    no_channels = riff(chunk(b"fmt ", fmt_body(channels=0)), chunk(b"data", b""))
    odd_bits = riff(chunk(b"fmt ", fmt_body(bits=12)), chunk(b"data", b""))

    for data in (no_channels, odd_bits):
        with pytest.raises(ValueError, match="implausible"):
            parse_header(data)


def test_parse_header_refuses_truncated_fmt() -> None:
    data = wav_bytes(ramp(10))

    with pytest.raises(ValueError, match="truncated fmt"):
        parse_header(data[:28])


def test_parse_header_refuses_header_without_data_chunk() -> None:
    data = wav_bytes(ramp(10))

    with pytest.raises(ValueError, match="no data chunk"):
        parse_header(data[:36])  # RIFF + fmt, cut before the data chunk


def test_parse_header_refuses_data_before_fmt() -> None:
    data = riff(chunk(b"data", b"\0\0"), chunk(b"fmt ", fmt_body()))

    with pytest.raises(ValueError, match="data chunk before fmt"):
        parse_header(data)


# ---- consistency, summary ---------------------------------------------------------------


def test_header_is_inconsistent_for_extra_or_missing_bytes() -> None:
    data = wav_bytes(ramp(100))

    assert header_is_consistent(data, len(data))
    assert not header_is_consistent(data, len(data) + 2)
    assert not header_is_consistent(data, len(data) - 2)
    assert not header_is_consistent(crash_cut(data), len(data))


def test_read_summary_counts_frames(tmp_path: Path) -> None:
    path = tmp_path / "leg.wav"
    path.write_bytes(wav_bytes(ramp(4000, channels=2), channels=2, rate=16000))

    summary = read_summary(path)

    assert (summary.channels, summary.sample_rate, summary.bits) == (2, 16000, 16)
    assert summary.frames == 4000
    assert summary.duration_s == pytest.approx(0.25)


def test_read_summary_of_a_file_shorter_than_its_header_claims(tmp_path: Path) -> None:
    data = wav_bytes(ramp(1000))
    path = tmp_path / "short.wav"
    path.write_bytes(data[: 44 + 600])  # 300 frames present, 1000 claimed

    assert read_summary(path).frames == 300


# ---- repair -------------------------------------------------------------------------------


def test_repair_header_fixes_sizes_and_drops_a_partial_frame() -> None:
    samples = ramp(250)
    cut = crash_cut(wav_bytes(samples)) + b"\x7f"  # half a 16-bit sample at the end

    fixed, usable = repair_header(cut[:4096], len(cut))

    assert usable == 44 + len(samples)
    assert len(fixed) == 44
    assert struct.unpack_from("<I", fixed, 4)[0] == usable - 8
    assert struct.unpack_from("<I", fixed, 40)[0] == len(samples)
    assert header_is_consistent(fixed, usable)


def test_repair_header_of_a_file_with_no_samples() -> None:
    cut = crash_cut(wav_bytes(b""))

    fixed, usable = repair_header(cut, len(cut))

    assert usable == 44
    assert struct.unpack_from("<I", fixed, 40)[0] == 0


def test_repair_header_respects_stereo_frames() -> None:
    samples = ramp(100, channels=2)
    cut = crash_cut(wav_bytes(samples, channels=2)) + b"\1\2\3"  # 3 of 4 bytes of a frame

    _, usable = repair_header(cut, len(cut))

    assert usable == 44 + len(samples)


def test_repair_file_makes_a_crash_cut_wav_playable(tmp_path: Path) -> None:
    samples = ramp(1234)
    path = tmp_path / "caller.wav"
    path.write_bytes(crash_cut(wav_bytes(samples)) + b"\x55")
    with pytest.raises((wave.Error, EOFError)), wave.open(str(path)) as broken:
        broken.readframes(1)  # before repair the stdlib cannot read it

    assert repair_file(path) is True

    with wave.open(str(path)) as reader:
        assert reader.getnframes() == 1234
        assert reader.getframerate() == 8000
        assert reader.readframes(1234) == samples
    assert path.stat().st_size == 44 + len(samples)
    assert read_summary(path).frames == 1234


def test_repair_file_keeps_a_header_claiming_too_much(tmp_path: Path) -> None:
    """A writer that pre-declared a long recording and died: sizes shrink to what exists."""
    data = wav_bytes(ramp(1000))
    path = tmp_path / "played.wav"
    path.write_bytes(data[: 44 + 801])  # 400 whole frames and one odd byte

    assert repair_file(path) is True

    with wave.open(str(path)) as reader:
        assert reader.getnframes() == 400


def test_repair_file_leaves_a_good_file_byte_identical(tmp_path: Path) -> None:
    data = wav_bytes(ramp(999))
    path = tmp_path / "good.wav"
    path.write_bytes(data)

    assert repair_file(path) is False

    assert path.read_bytes() == data


def test_repair_file_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "cut.wav"
    path.write_bytes(crash_cut(wav_bytes(ramp(50))) + b"\0")
    assert repair_file(path) is True
    repaired = path.read_bytes()

    assert repair_file(path) is False
    assert path.read_bytes() == repaired


def test_repair_file_refuses_a_non_wav(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_bytes(b"this is not audio" * 10)

    with pytest.raises(ValueError):
        repair_file(path)
    assert path.read_bytes() == b"this is not audio" * 10
