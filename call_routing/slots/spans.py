"""Spans into the caller's words: full-width characters folded one for one (so
spans found in the folded text are spans in the input), spans that overlap, the
text left free between spans, and edits at spans."""

from __future__ import annotations

from collections.abc import Iterator


def _fold(text: str) -> str:
    """Full-width ASCII to half-width, one character for one, so spans found in the
    folded text are spans in the input."""
    out = []
    for char in text:
        code = ord(char)
        if 0xFF01 <= code <= 0xFF5E:
            char = chr(code - 0xFEE0)
        elif code == 0x3000:
            char = " "
        out.append(char)
    return "".join(out)


def _replace(text: str, edits: list[tuple[tuple[int, int], str]]) -> str:
    for (start, end), new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < b and a < span[1] for a, b in taken)


def _free_segments(text: str, taken: list[tuple[int, int]]) -> Iterator[tuple[int, str]]:
    position = 0
    for start, end in sorted(taken):
        if start > position:
            yield position, text[position:start]
        position = max(position, end)
    if position < len(text):
        yield position, text[position:]
