"""The stereo file QA staff listen to: caller on the left, agent on the right.

A bridged call leaves one mono WAV per leg.  The agent's leg starts later
than the caller's (``offset_s`` into the call), so its channel begins with
that much silence; the shorter channel is padded at the end.  Files are read
and written in blocks, so an hours-long call never sits in memory at once,
and the result appears only when complete (temp file + rename).
"""

from __future__ import annotations

import math
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from recordings.wav import parse_header

BLOCK_FRAMES = 1 << 16  # frames per read/write: 8 s at 8 kHz, 256 KiB of stereo
_HEADER_BYTES = 4096  # enough for RIFF + fmt + the odd LIST chunk before data


@dataclass(frozen=True)
class _Source:
    """A mono 16-bit PCM input: where its samples start and how many there are."""

    path: Path
    sample_rate: int
    data_offset: int
    frames: int


def write_stereo(left: Path, right: Path, out: Path, right_offset_s: float = 0.0) -> Path:
    """Write ``out``: ``left`` (the caller) in the left channel, ``right`` (the agent)
    in the right channel starting ``right_offset_s`` seconds in.

    Both inputs must be mono 16-bit PCM WAV at the same sample rate; anything else
    raises ``ValueError`` naming the file, and no ``out`` is left behind.  A file
    cut short (its header claims more samples than it holds, or none, as a recorder
    that died leaves it) contributes the whole frames it holds.
    """
    if not math.isfinite(right_offset_s) or right_offset_s < 0:
        raise ValueError(f"right_offset_s must be a finite number >= 0, not {right_offset_s}")
    first, second = _source(left), _source(right)
    if first.sample_rate != second.sample_rate:
        raise ValueError(
            f"sample rates differ: {left.name} is {first.sample_rate} Hz, "
            f"{right.name} is {second.sample_rate} Hz; resample one first"
        )
    offset = round(right_offset_s * first.sample_rate)
    total = max(first.frames, offset + second.frames)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    temp = Path(temp_name)
    try:
        with (
            os.fdopen(fd, "wb") as handle,
            left.open("rb") as left_file,
            right.open("rb") as right_file,
        ):
            handle.write(_stereo_header(first.sample_rate, total))
            left_file.seek(first.data_offset)
            right_file.seek(second.data_offset)
            for start in range(0, total, BLOCK_FRAMES):
                count = min(BLOCK_FRAMES, total - start)
                block = np.zeros((count, 2), dtype="<i2")
                _fill(block[:, 0], left_file, first, start)
                _fill(block[:, 1], right_file, second, start - offset)
                handle.write(block.tobytes())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, out)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return out


def _source(path: Path) -> _Source:
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEADER_BYTES)
        size = path.stat().st_size
    except FileNotFoundError:
        raise ValueError(f"{path.name}: no such recording") from None
    try:
        fmt = parse_header(head)
    except ValueError as exc:
        raise ValueError(f"{path.name}: not a usable WAV file ({exc})") from None
    if fmt.channels != 1 or fmt.bits != 16:
        raise ValueError(
            f"{path.name}: {fmt.channels} channel(s) of {fmt.bits}-bit samples; "
            "expected mono 16-bit PCM"
        )
    available = max(0, size - fmt.data_offset)
    data = fmt.data_size if 0 < fmt.data_size <= available else available
    return _Source(path, fmt.sample_rate, fmt.data_offset, data // fmt.block_align)


def _fill(channel: np.ndarray, handle: BinaryIO, source: _Source, first_frame: int) -> None:
    """Copy the source's frames ``first_frame .. first_frame + len(channel)`` into
    ``channel``; frames before 0 or past the end stay silent.  Blocks arrive in
    order, so the file is read sequentially."""
    begin = max(0, first_frame)
    end = min(source.frames, first_frame + len(channel))
    if end <= begin:
        return
    wanted = (end - begin) * 2
    data = handle.read(wanted)
    if len(data) != wanted:
        raise ValueError(f"{source.path.name}: file shrank while it was read")
    channel[begin - first_frame : end - first_frame] = np.frombuffer(data, dtype="<i2")


def _stereo_header(sample_rate: int, frames: int) -> bytes:
    data = frames * 4
    if data + 36 > 0xFFFFFFFF:
        raise ValueError(f"{frames} stereo frames do not fit in one WAV file (4 GiB)")
    return b"".join(
        [
            b"RIFF",
            struct.pack("<I", 36 + data),
            b"WAVE",
            b"fmt ",
            struct.pack("<IHHIIHH", 16, 1, 2, sample_rate, sample_rate * 4, 4, 16),
            b"data",
            struct.pack("<I", data),
        ]
    )
