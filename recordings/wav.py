"""WAV headers as pure functions: parse, describe, repair.

A media worker that dies mid-call leaves WAV files whose RIFF and data sizes
were never written.  :func:`repair_header` recomputes them from the file
length so every recorded sample stays playable.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WavFormat:
    channels: int
    sample_rate: int
    bits: int
    data_offset: int  # where the sample bytes start
    data_size: int  # as written in the header

    @property
    def block_align(self) -> int:
        return self.channels * self.bits // 8


def parse_header(head: bytes) -> WavFormat:
    """Parse the RIFF header at the start of a file; ``ValueError`` if it is not PCM WAV."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    pos, fmt = 12, None
    while pos + 8 <= len(head):
        chunk, size = head[pos : pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
        body = pos + 8
        if chunk == b"fmt ":
            if size < 16 or body + 16 > len(head):
                raise ValueError("truncated fmt chunk")
            tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", head, body)
            if tag != 1:
                raise ValueError(f"not PCM (format tag {tag})")
            if channels < 1 or rate < 1 or bits not in (8, 16, 24, 32):
                raise ValueError("implausible PCM format")
            fmt = (channels, rate, bits)
        elif chunk == b"data":
            if fmt is None:
                raise ValueError("data chunk before fmt chunk")
            return WavFormat(fmt[0], fmt[1], fmt[2], body, size)
        pos = body + size + (size & 1)
    raise ValueError("no data chunk in the header")


def repair_header(head: bytes, file_size: int) -> tuple[bytes, int]:
    """Header bytes with RIFF/data sizes that match ``file_size``.

    Returns ``(new_header, usable_size)``: the file should be truncated to
    ``usable_size`` so it ends on a whole sample frame.
    """
    fmt = parse_header(head)
    data = max(0, file_size - fmt.data_offset)
    data -= data % fmt.block_align
    fixed = bytearray(head[: fmt.data_offset])
    struct.pack_into("<I", fixed, 4, fmt.data_offset - 8 + data)
    struct.pack_into("<I", fixed, fmt.data_offset - 4, data)
    return bytes(fixed), fmt.data_offset + data


def header_is_consistent(head: bytes, file_size: int) -> bool:
    fmt = parse_header(head)
    return fmt.data_offset + fmt.data_size == file_size and (
        struct.unpack_from("<I", head, 4)[0] == file_size - 8
    )


@dataclass(frozen=True)
class WavSummary:
    channels: int
    sample_rate: int
    bits: int
    frames: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


def read_summary(path: Path) -> WavSummary:
    with path.open("rb") as handle:
        head = handle.read(4096)
    fmt = parse_header(head)
    size = path.stat().st_size
    data = min(fmt.data_size, size - fmt.data_offset)
    return WavSummary(fmt.channels, fmt.sample_rate, fmt.bits, data // fmt.block_align)


def repair_file(path: Path) -> bool:
    """Fix a cut-short WAV in place; True if it needed fixing."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(4096)
    if header_is_consistent(head, size):
        return False
    fixed, usable = repair_header(head, size)
    with path.open("r+b") as handle:
        handle.write(fixed)
        handle.truncate(usable)
    return True
