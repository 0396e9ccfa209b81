"""Accuracy and speed of a recogniser on a manifest of recordings with references."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

from asr.audio import read_wav
from asr.normalize import edit_distance, for_scoring
from asr.recognizer import BatchRecognizer


@dataclass(frozen=True)
class FileResult:
    path: str
    reference: str
    hypothesis: str
    errors: int
    characters: int
    audio_s: float
    decode_s: float

    @property
    def cer(self) -> float:
        return self.errors / self.characters if self.characters else 0.0


@dataclass(frozen=True)
class Evaluation:
    files: list[FileResult]

    @property
    def cer(self) -> float:
        characters = sum(f.characters for f in self.files)
        return sum(f.errors for f in self.files) / characters if characters else 0.0

    @property
    def rtf(self) -> float:
        audio = sum(f.audio_s for f in self.files)
        return sum(f.decode_s for f in self.files) / audio if audio else 0.0

    @property
    def latency_p95_s(self) -> float:
        """End of speech → final: a batch engine decodes the utterance once it ended."""
        if not self.files:
            return 0.0
        return float(np.percentile([f.decode_s for f in self.files], 95))

    def as_json(self) -> dict:
        return {
            "cer": round(self.cer, 4),
            "rtf": round(self.rtf, 4),
            "latency_p95_s": round(self.latency_p95_s, 3),
            "files": [
                {
                    "path": f.path,
                    "cer": round(f.cer, 4),
                    "hypothesis": f.hypothesis,
                    "reference": f.reference,
                    "rtf": round(f.decode_s / f.audio_s, 4) if f.audio_s else 0.0,
                }
                for f in self.files
            ],
        }


def read_manifest(path: Path) -> list[tuple[Path, str]]:
    """Rows of ``path`` and ``transcript`` columns; paths relative to the manifest's folder."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle, delimiter="\t")
            if not reader.fieldnames or not {"path", "transcript"} <= set(reader.fieldnames):
                raise ValueError(f"{path}: needs tab-separated columns 'path' and 'transcript'")
            return [(path.parent / row["path"], row["transcript"]) for row in reader]
    except FileNotFoundError:
        raise ValueError(f"{path}: no such manifest") from None


def evaluate(
    recognizer: BatchRecognizer,
    rows: list[tuple[Path, str]],
    progress: Callable[[Path], None] | None = None,
) -> Evaluation:
    results = []
    for audio_path, reference in rows:
        if progress is not None:
            progress(audio_path)
        samples, rate = read_wav(audio_path)
        if rate not in (8000, 16000):
            samples = soxr.resample(samples, rate, 16000).astype(np.float32)
            rate = 16000
        transcript = recognizer.transcribe(samples, rate)
        ref, hyp = for_scoring(reference), for_scoring(transcript.text)
        results.append(
            FileResult(
                path=audio_path.name,
                reference=reference,
                hypothesis=transcript.text,
                errors=edit_distance(ref, hyp),
                characters=len(ref),
                audio_s=transcript.audio_s,
                decode_s=transcript.decode_s,
            )
        )
    return Evaluation(results)
