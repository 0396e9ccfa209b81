"""The synthesiser interface: utterances in, speech out, one backend per file.

Backends: :mod:`tts.pyttsx` (pyttsx3 driving libespeak-ng, the default) and
:mod:`tts.espeak` (the ``espeak-ng`` program).  :class:`FallbackSynthesizer`
tries them in order, so prompts are still made when one cannot run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from tts.wav import mono_wav_bytes

log = logging.getLogger("tts")


class SynthesisError(Exception):
    """Text could not be synthesized; retrying will not help."""

    retryable = False


class SynthesizerUnavailable(SynthesisError):
    """This backend cannot run here (library missing, crashed, hung); another may."""


@dataclass(frozen=True)
class Utterance:
    """One text to speak, with the voice and speed to speak it in."""

    text: str
    voice: str
    words_per_minute: int


@dataclass(frozen=True)
class Speech:
    """Synthesized audio: 16-bit mono samples, their rate, and who made them."""

    samples: np.ndarray
    sample_rate: int
    backend: str

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate

    def wav_bytes(self, sample_rate: int) -> bytes:
        return mono_wav_bytes(self.samples, self.sample_rate, sample_rate)


class Synthesizer(Protocol):
    name: str

    def synthesize(self, utterances: Sequence[Utterance]) -> list[Speech]:
        """Speech for each utterance, in order; raises :class:`SynthesisError`."""
        ...


def check_texts(utterances: Sequence[Utterance]) -> None:
    for utterance in utterances:
        if not utterance.text.strip():
            raise SynthesisError("nothing to say: the text is empty")


class FallbackSynthesizer:
    """The first backend that can run; a backend that could not is not tried again."""

    def __init__(self, backends: Sequence[Synthesizer]) -> None:
        if not backends:
            raise ValueError("at least one synthesizer is needed")
        self.backends = list(backends)
        self.name = "+".join(backend.name for backend in backends)

    def synthesize(self, utterances: Sequence[Utterance]) -> list[Speech]:
        check_texts(utterances)
        while True:
            backend = self.backends[0]
            try:
                return backend.synthesize(utterances)
            except SynthesizerUnavailable as exc:
                if len(self.backends) == 1:
                    raise
                self.backends.pop(0)
                log.warning(
                    "%s cannot synthesize (%s); using %s instead",
                    backend.name,
                    exc,
                    self.backends[0].name,
                )
