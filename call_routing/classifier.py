"""Request type and domain from the caller's words: a linear model on character
n-grams (scikit-learn), trained by ``hotline nlu train`` from the labelled texts in
``call_routing/data`` and shipped as a small artefact in ``call_routing/models``.

Character n-grams suit transcripts: they need no word segmentation, tolerate ASR
substitutions of single characters, and catch dialect words seen in training.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from call_routing.text import normalise

_SEED = 12345


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    scores: dict[str, float]  # every label's probability


@dataclass(frozen=True)
class Example:
    text: str
    type: str
    domain: str
    emergency: str = ""


def read_examples(text: str) -> list[Example]:
    """CSV with ``text,type,domain[,emergency]`` (other columns ignored)."""
    rows = csv.DictReader(io.StringIO(text))
    missing = {"text", "type", "domain"} - set(rows.fieldnames or ())
    if missing:
        raise ValueError(
            f"the CSV needs the columns text, type, domain (missing {sorted(missing)})"
        )
    return [
        Example(
            r["text"], r["type"].strip(), r["domain"].strip(), (r.get("emergency") or "").strip()
        )
        for r in rows
        if (r.get("text") or "").strip()
    ]


class TextClassifier:
    """One label per text, with probabilities; ``fit`` is deterministic."""

    def __init__(self, pipeline) -> None:  # noqa: ANN001 (a fitted sklearn Pipeline)
        self._pipeline = pipeline
        self.labels: tuple[str, ...] = tuple(pipeline.classes_)

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], c: float = 4.0) -> TextClassifier:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        pipeline = Pipeline(
            [
                (
                    "ngrams",
                    TfidfVectorizer(
                        analyzer="char",
                        ngram_range=(1, 3),
                        min_df=2,
                        max_features=40000,
                        sublinear_tf=True,
                        dtype=np.float32,
                    ),
                ),
                (
                    "model",
                    LogisticRegression(
                        C=c, max_iter=2000, class_weight="balanced", random_state=_SEED
                    ),
                ),
            ]
        )
        pipeline.fit([normalise(t) for t in texts], list(labels))
        return cls(pipeline)

    def predict(self, text: str) -> Prediction:
        probabilities = self._pipeline.predict_proba([normalise(text)])[0]
        scores = {label: float(p) for label, p in zip(self.labels, probabilities, strict=True)}
        best = max(scores, key=scores.__getitem__)
        return Prediction(best, scores[best], scores)

    def predict_many(self, texts: Iterable[str]) -> list[str]:
        return list(self._pipeline.predict([normalise(t) for t in texts]))


def fingerprint(*parts: str) -> str:
    """What a model was trained from (the data and the code's settings), for its name."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
    return digest.hexdigest()[:16]
