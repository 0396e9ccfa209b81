"""A fake monotonic clock for code that takes ``clock=`` (the hub, seating, consoles)."""

from __future__ import annotations


class FakeClock:
    """Virtual monotonic time: tests move it on by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
