"""What every speech recogniser gives back, and the interface engines implement.

Engines live one per file (``whisper.py``; Vosk and the streaming adapter come
next) and are created from an explicit registry, never on import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Segment:
    """A stretch of recognised speech; times are seconds from the start of the audio."""

    start_s: float
    end_s: float
    text: str
    confidence: float  # 0..1


@dataclass(frozen=True)
class Transcript:
    text: str
    segments: list[Segment] = field(default_factory=list)
    audio_s: float = 0.0
    decode_s: float = 0.0
    engine: str = ""
    withheld: str = ""  # why text was held back (non-speech, a hallucination); "" if none

    @property
    def rtf(self) -> float:
        """Real-time factor: decoding time per second of audio."""
        return self.decode_s / self.audio_s if self.audio_s else 0.0


class RecognizerError(Exception):
    """A recogniser failed; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class BatchRecognizer(Protocol):
    """Recognises a whole utterance at once (the VAD adapter turns it into a stream)."""

    name: str

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> Transcript:
        """``samples``: mono float32 in [-1, 1] at ``sample_rate`` (8000 or 16000)."""
        ...


class QuickRecognizer(BatchRecognizer, Protocol):
    """A batch engine that also has a faster, somewhat less accurate mode, used for
    interim results and for finals while other finals wait for a decoder."""

    def transcribe_quick(self, samples: np.ndarray, sample_rate: int) -> Transcript: ...
