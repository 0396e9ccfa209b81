"""Request type and domain from the caller's words: a linear model on character
n-grams and jieba words (scikit-learn), trained by ``hotline nlu train`` from the
labelled texts in ``call_routing/data`` (or a city's own history) and shipped as a
small artefact in ``call_routing/models``.

Character n-grams suit transcripts: they need no word segmentation, tolerate ASR
substitutions of single characters, and catch dialect words seen in training.  Words
carry what characters cannot: 工资 is not 工 and 资.  Already-segmented text (a
history exported as ``tokens``, words separated by spaces) gives the same features,
because the spaces between Chinese characters are dropped for the n-grams and jieba
cuts at them for the words.

The probabilities are calibrated: a temperature fitted on out-of-fold predictions of
the training data, so that a confidence of 0.6 is right about 60 % of the time on
text like the training text (``low_confidence`` then means something).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import logging
import re
from collections.abc import Callable, Iterable, Sequence
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


_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff]) +(?=[\u3400-\u9fff])")
_WORD = re.compile(r"\w")
FEATURES = "char13+jieba1"  # what ``TextClassifier.fit`` builds (the model's meta says it)


def chars(text: str) -> str:
    """The text for character n-grams: spaces between Chinese characters dropped."""
    return _CJK_SPACE.sub("", normalise(text))


def words(text: str) -> list[str]:
    """jieba's words of the text, without spaces and punctuation (a module function:
    the fitted vectoriser keeps a reference to it)."""
    return [w for w in _segmenter().lcut(normalise(text)) if _WORD.search(w)]


@functools.cache
def _segmenter():  # noqa: ANN202 (jieba's default Tokenizer)
    """jieba, its dictionary loaded once (about a second) and its start-up lines quiet."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba.dt


class TextClassifier:
    """One label per text, with calibrated probabilities; ``fit`` is deterministic."""

    def __init__(self, pipeline, temperature: float = 1.0) -> None:  # noqa: ANN001
        self._pipeline = pipeline  # a fitted sklearn Pipeline
        self.temperature = temperature
        self.labels: tuple[str, ...] = tuple(pipeline.classes_)

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        c: float = 8.0,
        calibrate: bool = True,
        stage: Callable[[str], None] | None = None,
    ) -> TextClassifier:
        """``stage`` hears what is being done (for a progress display)."""
        prepared = list(texts)
        targets = list(labels)
        say = stage or (lambda _: None)
        say(f"fitting on {len(prepared)} texts")
        pipeline = _pipeline(c)
        pipeline.fit(prepared, targets)
        temperature = _temperature(prepared, targets, c, say) if calibrate else 1.0
        return cls(pipeline, temperature)

    def predict(self, text: str) -> Prediction:
        return self.predict_all([text])[0]

    def predict_all(self, texts: Sequence[str]) -> list[Prediction]:
        """One prediction per text (vectorised: much faster than one by one)."""
        if not texts:
            return []
        probabilities = _softmax(self._pipeline.decision_function(list(texts)), self.temperature)
        found = []
        for row in probabilities:
            scores = {label: float(p) for label, p in zip(self.labels, row, strict=True)}
            best = max(scores, key=scores.__getitem__)
            found.append(Prediction(best, scores[best], scores))
        return found

    def predict_many(self, texts: Iterable[str]) -> list[str]:
        return list(self._pipeline.predict(list(texts)))


def _pipeline(c: float):  # noqa: ANN202 (an unfitted sklearn Pipeline)
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion(
        [
            (
                "ngrams",
                TfidfVectorizer(
                    preprocessor=chars,
                    analyzer="char",
                    ngram_range=(1, 3),
                    min_df=2,
                    max_features=60000,
                    sublinear_tf=True,
                    dtype=np.float32,
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer=words,
                    min_df=1,
                    max_features=60000,
                    sublinear_tf=True,
                    dtype=np.float32,
                ),
            ),
        ]
    )
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=_SEED)
    return Pipeline([("features", features), ("model", model)])


def _columns(scores: np.ndarray) -> np.ndarray:
    """sklearn's decision values as one column per label (two labels give one value)."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:
        return np.column_stack([-scores, scores]) / 2
    return scores


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    scaled = _columns(scores) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


def _temperature(
    texts: list[str], labels: list[str], c: float, say: Callable[[str], None]
) -> float:
    """The temperature that makes out-of-fold probabilities most likely (1.0 when
    there is too little data to hold any back)."""
    from sklearn.model_selection import StratifiedKFold

    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    folds = 3 if len(texts) > 3000 else 5
    if len(counts) < 2 or min(counts.values()) < folds:
        return 1.0
    order = sorted(counts)
    gold = np.array([order.index(label) for label in labels])
    held: list[np.ndarray] = []
    truth: list[np.ndarray] = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=_SEED)
    for number, (train, test) in enumerate(splitter.split(np.zeros(len(texts)), gold), 1):
        say(f"calibrating: fold {number} of {folds}")
        fold = _pipeline(c).fit([texts[i] for i in train], [labels[i] for i in train])
        scores = _columns(fold.decision_function([texts[i] for i in test]))
        columns = [order.index(label) for label in fold.classes_]
        full = np.full((len(test), len(order)), -1e9)
        full[:, columns] = scores
        held.append(full)
        truth.append(gold[test])
    scores, gold_held = np.vstack(held), np.concatenate(truth)
    best, best_loss = 1.0, float("inf")
    for temperature in np.exp(np.linspace(np.log(0.05), np.log(5.0), 120)):
        probabilities = _softmax(scores, float(temperature))
        loss = -np.mean(np.log(probabilities[np.arange(len(gold_held)), gold_held] + 1e-12))
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return round(best, 4)


def fingerprint(*parts: str) -> str:
    """What a model was trained from (the data and the code's settings), for its name."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
    return digest.hexdigest()[:16]
