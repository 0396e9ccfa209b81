"""faster-whisper with the Whisper base model from PyPI (see ``models.py``).

Whisper decodes a whole utterance at a time; settings measured on AISHELL
clips (DESIGN.md, "Models"): Chinese, beam 5, temperature 0, no 3-gram
repeats, no conditioning on previous text, then Traditional → Simplified.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import soxr

from asr.models import prepare_whisper_base
from asr.normalize import punctuate, to_simplified
from asr.recognizer import RecognizerError, Segment, Transcript

MODEL_RATE = 16000


class WhisperRecognizer:
    name = "whisper-base"

    def __init__(self, model_dir: Path | None = None, cpu_threads: int = 2) -> None:
        from faster_whisper import WhisperModel  # heavy import, only when an engine is made

        directory = model_dir or prepare_whisper_base().path
        try:
            self._model = WhisperModel(
                str(directory),
                device="cpu",
                compute_type="int8",
                cpu_threads=cpu_threads,
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise RecognizerError(f"cannot load Whisper from {directory}: {exc}") from None

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> Transcript:
        if sample_rate not in (8000, 16000):
            raise RecognizerError(f"unsupported sample rate {sample_rate} (8000 or 16000)")
        audio = np.asarray(samples, dtype=np.float32)
        if sample_rate != MODEL_RATE:
            audio = soxr.resample(audio, sample_rate, MODEL_RATE, quality="HQ").astype(np.float32)
        started = time.perf_counter()
        try:
            segments, _info = self._model.transcribe(
                audio,
                language="zh",
                beam_size=5,
                temperature=0.0,
                no_repeat_ngram_size=3,
                condition_on_previous_text=False,
                vad_filter=False,
            )
            found = [
                Segment(
                    round(s.start, 2),
                    round(s.end, 2),
                    to_simplified(s.text.strip()),
                    round(math.exp(min(s.avg_logprob, 0.0)), 3),
                )
                for s in segments
            ]
        except (RuntimeError, ValueError) as exc:
            raise RecognizerError(f"Whisper failed: {exc}", retryable=True) from None
        return Transcript(
            text=punctuate([(s.start_s, s.end_s, s.text) for s in found], pause_s=0.0),
            segments=found,
            audio_s=len(audio) / MODEL_RATE,
            decode_s=time.perf_counter() - started,
            engine=self.name,
        )
