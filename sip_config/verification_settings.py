"""``[verification]``: calling citizens back (回访) to verify results and collect
好差评 — when, how often, through which trunk, and what is sampled."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

_WINDOW = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")


def _window(text: str) -> tuple[time, time]:
    match = _WINDOW.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a window; write HH:MM-HH:MM, e.g. 09:00-12:00")
    try:
        start, end = (_clock(part) for part in match.groups())
    except ValueError:
        raise ValueError(f"{text!r} has a time that does not exist") from None
    if end <= start:
        raise ValueError(f"the window {text!r} ends before it starts")
    return start, end


def _clock(text: str) -> time:
    """``09:00`` → 09:00; ``24:00`` is the end of the day."""
    if text.zfill(5) == "24:00":
        return time.max
    return time.fromisoformat(text.zfill(5))


class VerificationSection(BaseModel):
    """回访 survey calls (off unless ``enabled``; then a trunk must be known)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    # Where survey calls dial out: a URI with {number}; empty: acd.trunk_uri.
    trunk_uri: str = ""
    # Local calling windows; never on a public holiday of the tickets' calendar.
    calling_hours: list[str] = ["09:00-12:00", "14:00-20:30"]
    weekends: bool = True  # Saturdays and Sundays that are not holidays are calling days
    within_working_days: int = Field(2, ge=1, le=30)  # after the ticket is closed
    attempts: int = Field(3, ge=1, le=10)
    retry_after_min: float = Field(60.0, gt=0, le=1440)
    ring_timeout_s: float = Field(40.0, ge=5, le=180)
    # 即时办结 tickets: every one (close_at_once = true) or a share of them.
    close_at_once: bool = False
    sample_close_at_once: float = Field(0.2, ge=0, le=1)
    # 现场核查 for this share of closed tickets (every disputed one gets one anyway).
    on_site_sample: float = Field(0.0, ge=0, le=1)
    # One number per line (# comments): never called for a survey.
    do_not_call: Path | None = None
    comment: bool = True  # ask for a spoken comment at the end
    # Survey calls at once (they share the media workers with citizens' own calls).
    max_calls: int = Field(2, ge=1, le=64)
    every_s: float = Field(30.0, ge=1, le=3600)  # how often due tasks are looked for

    @field_validator("calling_hours")
    @classmethod
    def _hours(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("no calling window: give at least one, e.g. ['09:00-12:00']")
        windows = sorted(_window(text) for text in value)
        for (_, end), (start, _) in zip(windows, windows[1:], strict=False):
            if start < end:
                raise ValueError(f"calling windows overlap at {start:%H:%M}")
        return value

    @field_validator("trunk_uri")
    @classmethod
    def _trunk(cls, value: str) -> str:
        if value and not re.match(r"^sips?:[^@\s]*\{number\}[^@\s]*@[^\s]+$", value):
            raise ValueError("must look like sip:{number}@gateway.example (with {number})")
        return value

    def windows(self) -> tuple[tuple[time, time], ...]:
        return tuple(sorted(_window(text) for text in self.calling_hours))
