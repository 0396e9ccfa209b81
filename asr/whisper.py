"""faster-whisper with the Whisper base model from PyPI (see ``models.py``).

Whisper decodes a whole utterance at a time; settings measured on AISHELL
clips (DESIGN.md, "Models"): Chinese, beam 5, temperature 0, no 3-gram
repeats, no conditioning on previous text, then Traditional → Simplified.

Every decode is guarded (``speech_gate.py`` before, ``hallucination.py``
after): audio without speech is never decoded, and text that looks like
Whisper's inventions is withheld, so silence, hiss, tones and hold music give
an empty transcript on every CPU.

Given a :class:`~asr.vocabulary.Vocabulary` (``asr.vocabulary``), every decode is
biased toward the hotline's words: the first ``max_hotwords`` terms are Whisper's
``hotwords``, and a decode that recites them (``vocabulary.recites``) is done again
without them; then near-homophones of every term are mended by their pinyin
(``homophones.py``, ``asr.mend_homophones``).  The guard judges the biased decode
as it judges any other, so the vocabulary never gives words to non-speech.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soxr

from asr.hallucination import Decoded, GuardConfig, Verdict, judge
from asr.homophones import Lexicon
from asr.models import prepare_whisper_base
from asr.normalize import punctuate, to_simplified
from asr.recognizer import RecognizerError, Segment, Transcript
from asr.speech_gate import GateConfig, assess, webrtc_gate
from asr.vad import Classifier
from asr.vocabulary import Bias, Vocabulary, prompt_terms, recites

MODEL_RATE = 16000
FRAMES_PER_S = 100  # log-mel frames the encoder takes per second of audio


class WhisperRecognizer:
    name = "whisper-base"

    def __init__(
        self,
        model_dir: Path | None = None,
        cpu_threads: int = 2,
        beam_size: int = 5,
        vad_aggressiveness: int = 2,
        gate: GateConfig = GateConfig(),
        guard: GuardConfig = GuardConfig(),
        vocabulary: Vocabulary | None = None,
        max_hotwords: int = 0,
        mend_homophones: bool = True,
    ) -> None:
        self.beam_size = beam_size
        self._classifier: Callable[[int], Classifier] = webrtc_gate(vad_aggressiveness)
        self._gate, self._guard = gate, guard
        directory = model_dir or prepare_whisper_base().path
        try:
            self._model = _fitted_window_model()(
                str(directory),
                device="cpu",
                compute_type="int8",
                cpu_threads=cpu_threads,
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise RecognizerError(f"cannot load Whisper from {directory}: {exc}") from None
        self.bias, self.lexicon = Bias(), Lexicon(())
        if vocabulary is not None:
            self.bias, self.lexicon = self._biasing(vocabulary, max_hotwords, mend_homophones)

    def biased(
        self, vocabulary: Vocabulary | None, max_hotwords: int = 24, mend_homophones: bool = True
    ) -> WhisperRecognizer:
        """This recogniser with another vocabulary (None: none), the model shared."""
        other = copy.copy(self)
        other.bias, other.lexicon = Bias(), Lexicon(())
        if vocabulary is not None:
            other.bias, other.lexicon = self._biasing(vocabulary, max_hotwords, mend_homophones)
        return other

    def _biasing(self, vocabulary: Vocabulary, max_hotwords: int, mend: bool) -> tuple:
        tokenizer = self._model.hf_tokenizer
        bias = prompt_terms(vocabulary, max_hotwords, lambda text: len(tokenizer.encode(text).ids))
        return bias, Lexicon(vocabulary.terms if mend else ())

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> Transcript:
        """Full accuracy: the utterance in Whisper's 30 s window, as it was trained."""
        return self._transcribe(samples, sample_rate, quick=False)

    def transcribe_quick(self, samples: np.ndarray, sample_rate: int) -> Transcript:
        """The encoder sees the utterance plus 1 s instead of 30 s: about 3 times
        faster; on 8 kHz telephone audio the CER rises a few points (README)."""
        return self._transcribe(samples, sample_rate, quick=True)

    def _transcribe(self, samples: np.ndarray, sample_rate: int, quick: bool) -> Transcript:
        if sample_rate not in (8000, 16000):
            raise RecognizerError(f"unsupported sample rate {sample_rate} (8000 or 16000)")
        audio = np.asarray(samples, dtype=np.float32)
        if sample_rate != MODEL_RATE:
            audio = soxr.resample(audio, sample_rate, MODEL_RATE, quality="HQ").astype(np.float32)
        started = time.perf_counter()
        seconds = len(audio) / MODEL_RATE
        evidence = assess(samples, sample_rate, self._classifier(sample_rate), self._gate)
        if not evidence.has_speech:
            return Transcript(
                text="",
                audio_s=seconds,
                decode_s=time.perf_counter() - started,
                engine=self.name,
                withheld=evidence.reason,
            )
        _window.frames = min(3000, math.ceil(seconds + 1) * FRAMES_PER_S) if quick else None
        decoded, verdict = self._decode(audio, evidence.speech_s, self.bias)
        if self.bias and recites(_kept_text(decoded, verdict), self.bias):
            decoded, verdict = self._decode(audio, evidence.speech_s, Bias())
        found = [
            Segment(
                round(s.start, 2),
                round(s.end, 2),
                self.lexicon.mend(to_simplified(s.text.strip()))[0],
                round(math.exp(min(s.avg_logprob, 0.0)), 3),
            )
            for s in (decoded[i] for i in verdict.kept)
        ]
        found = [s for s in found if s.text]
        return Transcript(
            text=punctuate([(s.start_s, s.end_s, s.text) for s in found], pause_s=0.0),
            segments=found,
            audio_s=seconds,
            decode_s=time.perf_counter() - started,
            engine=self.name,
            withheld=verdict.reason,
        )

    def _decode(self, audio: np.ndarray, speech_s: float, bias: Bias) -> tuple[list, Verdict]:
        try:
            segments, _info = self._model.transcribe(
                audio,
                language="zh",
                beam_size=self.beam_size,
                temperature=0.0,
                no_repeat_ngram_size=3,
                condition_on_previous_text=False,
                vad_filter=False,
                hotwords=bias.hotwords,
            )
            decoded = list(segments)
        except (RuntimeError, ValueError) as exc:
            raise RecognizerError(f"Whisper failed: {exc}", retryable=True) from None
        verdict = judge(
            [
                Decoded(s.text, s.no_speech_prob, s.avg_logprob, s.compression_ratio)
                for s in decoded
            ],
            speech_s,
            self._guard,
        )
        return decoded, verdict


def _kept_text(decoded: list, verdict: Verdict) -> str:
    return to_simplified("".join(decoded[i].text for i in verdict.kept))


_window = threading.local()  # per decoding thread: how many encoder frames to keep


def _fitted_window_model() -> type:
    """``WhisperModel`` whose encoder may see a window fitted to the utterance.

    faster-whisper pads every window to 30 s of features; the encoder's cost is
    proportional to the window, and CTranslate2 accepts shorter ones.
    """
    from faster_whisper import WhisperModel  # heavy import, only when an engine is made

    class FittedWindowModel(WhisperModel):
        def encode(self, features):  # noqa: ANN001, ANN202 (faster-whisper's signature)
            frames = getattr(_window, "frames", None)
            if frames and features.shape[-1] > frames:
                features = features[..., :frames]
            return super().encode(features)

    return FittedWindowModel
