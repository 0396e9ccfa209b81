"""The prompt catalogue rendered once into a cache at the call sample rates.

``<prompts_dir>/<rate>/<id>.wav`` is what media workers play.  A prompt with a
recording (a voice talent's WAV, any rate, 16-bit PCM) is converted from it;
the others are synthesized (pyttsx3 on libespeak-ng, or the ``espeak-ng``
program when pyttsx3 cannot run).  A prompt is rendered again only when its
text, voice, speed, recording or rate changes: a ``.key`` file beside the WAV
remembers what it was made from.  Texts made during a call (queue positions,
ticket numbers, see :mod:`tts.dynamic`) are cached the same way under
``<prompts_dir>/<rate>/dynamic/``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from tts.catalogue import Catalogue, Prompt
from tts.espeak import EspeakCliSynthesizer
from tts.layout import prompt_path
from tts.pyttsx import PyttsxSynthesizer
from tts.synth import FallbackSynthesizer, Speech, SynthesisError, Synthesizer, Utterance
from tts.wav import mono_wav_bytes, read_wav, write_wav

BATCH = 8  # prompts synthesized per pyttsx3 process; the progress bar moves per batch


def default_synthesizer() -> Synthesizer:
    """pyttsx3 on libespeak-ng, falling back to the ``espeak-ng`` program (logged)."""
    return FallbackSynthesizer([PyttsxSynthesizer(), EspeakCliSynthesizer()])


@dataclass(frozen=True)
class RenderedPrompt:
    """One prompt at one rate in the cache; ``backend`` is None when it was up to date."""

    prompt_id: str
    sample_rate: int
    path: Path
    source: Literal["recorded", "synth"]
    backend: str | None  # "pyttsx3", "espeak-ng" or "recording" when made now

    @property
    def fresh(self) -> bool:
        return self.backend is not None


def cache_key(prompt: Prompt, sample_rate: int) -> str:
    """What a rendered WAV was made from: text, voice, speed or recording, and rate."""
    if prompt.recording is not None:
        source = f"recorded:{hashlib.sha256(prompt.recording.read_bytes()).hexdigest()}"
    else:
        source = f"{prompt.voice}|{prompt.words_per_minute}|{prompt.text}"
    return hashlib.sha256(f"{source}|{sample_rate}".encode()).hexdigest()


def render_catalogue(
    catalogue: Catalogue,
    prompts_dir: Path,
    sample_rates: Sequence[int],
    progress: Callable[[RenderedPrompt], None] | None = None,
    synthesizer: Synthesizer | None = None,
) -> list[RenderedPrompt]:
    """Render every prompt at every rate that is missing or stale.

    Returns one entry per prompt and rate, in id order; ``progress`` is called
    with each as it is done (cached ones too).
    """
    done: dict[tuple[str, int], RenderedPrompt] = {}
    stale: list[tuple[Prompt, int, str]] = []

    def finish(item: RenderedPrompt) -> None:
        done[(item.prompt_id, item.sample_rate)] = item
        if progress is not None:
            progress(item)

    for prompt in catalogue:
        for rate in sample_rates:
            path = prompt_path(prompts_dir, rate, prompt.id)
            key = cache_key(prompt, rate)
            key_file = path.with_suffix(".key")
            if path.exists() and key_file.exists() and key_file.read_text() == key:
                finish(RenderedPrompt(prompt.id, rate, path, prompt.source, None))
            else:
                stale.append((prompt, rate, key))
    to_make = list({prompt.id: prompt for prompt, _, _ in stale}.values())
    synth = synthesizer
    for start in range(0, len(to_make), BATCH):
        batch = to_make[start : start + BATCH]
        recorded = [p for p in batch if p.recording is not None]
        spoken = [p for p in batch if p.recording is None]
        audio: dict[str, Speech] = {}
        for prompt in recorded:
            assert prompt.recording is not None
            samples, rate = _read_recording(prompt.recording)
            audio[prompt.id] = Speech(samples, rate, "recording")
        if spoken:
            synth = synth or default_synthesizer()
            utterances = [Utterance(p.text, p.voice, p.words_per_minute) for p in spoken]
            for prompt, speech in zip(spoken, synth.synthesize(utterances), strict=True):
                audio[prompt.id] = speech
        for prompt, rate, key in stale:
            if prompt.id not in audio:
                continue
            speech = audio[prompt.id]
            path = prompt_path(prompts_dir, rate, prompt.id)
            write_wav(path, speech.wav_bytes(rate))
            path.with_suffix(".key").write_text(key)
            finish(RenderedPrompt(prompt.id, rate, path, prompt.source, speech.backend))
    return [done[(p.id, rate)] for p in catalogue for rate in sample_rates]


def _read_recording(path: Path) -> tuple[np.ndarray, int]:
    try:
        return read_wav(path)
    except (OSError, ValueError) as exc:
        raise SynthesisError(f"{path}: cannot use this recording: {exc}") from None


def convert_recording(path: Path, sample_rate: int) -> bytes:
    """A recorded prompt as 16-bit mono PCM WAV bytes at ``sample_rate``."""
    samples, rate = _read_recording(path)
    return mono_wav_bytes(samples, rate, sample_rate)


def render_text(
    text: str,
    prompts_dir: Path,
    sample_rate: int,
    voice: str,
    words_per_minute: int,
    synthesizer: Synthesizer | None = None,
) -> str:
    """A text made during a call, synthesized once; returns the prompt id to play.

    The id is ``dynamic/<hash>``, so ``prompt_path(prompts_dir, rate, id)``
    finds it like any catalogue prompt.
    """
    digest = hashlib.sha256(f"{voice}|{words_per_minute}|{text}".encode()).hexdigest()[:20]
    prompt_id = f"dynamic/{digest}"
    path = prompt_path(prompts_dir, sample_rate, prompt_id)
    if not path.exists():
        synth = synthesizer or default_synthesizer()
        (speech,) = synth.synthesize([Utterance(text, voice, words_per_minute)])
        write_wav(path, speech.wav_bytes(sample_rate))
    return prompt_id
