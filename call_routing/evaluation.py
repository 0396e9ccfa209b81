"""Accuracy, macro-F1 and a confusion matrix of the understanding on labelled texts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from call_routing.understanding import Understander


@dataclass(frozen=True)
class Report:
    labels: list[str]
    matrix: list[list[int]]  # gold rows × predicted columns
    n: int

    @property
    def accuracy(self) -> float:
        correct = sum(self.matrix[i][i] for i in range(len(self.labels)))
        return correct / self.n if self.n else 0.0

    @property
    def macro_f1(self) -> float:
        scores = []
        for i in range(len(self.labels)):
            tp = self.matrix[i][i]
            gold = sum(self.matrix[i])
            predicted = sum(row[i] for row in self.matrix)
            if gold == 0:
                continue  # a label nobody used is not scored
            precision = tp / predicted if predicted else 0.0
            recall = tp / gold
            scores.append(2 * precision * recall / (precision + recall) if tp else 0.0)
        return sum(scores) / len(scores) if scores else 0.0

    def summary(self) -> dict:
        return {
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "n": self.n,
        }


def evaluate(understander: Understander, rows: list[tuple[str, str]], label: str) -> Report:
    """``label`` is ``domain`` or ``type``; domain labels may use aliases (社会治安)."""
    taxonomy = understander.taxonomy
    now = datetime(2026, 1, 1)
    pairs = []
    for text, gold in rows:
        gold = gold.strip()
        if label == "domain":
            gold = taxonomy.canonical_domain(gold)
        elif gold not in taxonomy.request_types:
            raise KeyError(
                f"unknown request type {gold!r}; known: {', '.join(taxonomy.request_types)}"
            )
        result = understander.understand(text, now)
        pairs.append((gold, result.domain if label == "domain" else result.request_type))
    known = list(taxonomy.domains) if label == "domain" else list(taxonomy.request_types)
    labels = [x for x in known if any(x in pair for pair in pairs)]
    index = {name: i for i, name in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for gold, predicted in pairs:
        matrix[index[gold]][index[predicted]] += 1
    return Report(labels, matrix, len(pairs))
