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


@dataclass(frozen=True)
class EmergencyReport:
    """Emergency detection: recall on the emergencies, false alarms on the rest."""

    n: int
    emergencies: int
    found: int  # emergencies detected (any number)
    right_number: int  # … and transferred to the labelled number
    false_alarms: int
    missed: list[str]

    @property
    def recall(self) -> float:
        return self.found / self.emergencies if self.emergencies else 1.0

    @property
    def precision(self) -> float:
        flagged = self.found + self.false_alarms
        return self.found / flagged if flagged else 1.0

    def summary(self) -> dict:
        return {
            "recall": round(self.recall, 4),
            "precision": round(self.precision, 4),
            "right_number": round(self.right_number / self.emergencies, 4)
            if self.emergencies
            else 1.0,
            "emergencies": self.emergencies,
            "false_alarms": self.false_alarms,
            "n": self.n,
        }


def evaluate_emergency(understander: Understander, rows: list[tuple[str, str]]) -> EmergencyReport:
    """``rows``: (text, number) with the number empty where there is no emergency."""
    now = datetime(2026, 1, 1)
    emergencies = found = right = false_alarms = 0
    missed = []
    for text, gold in rows:
        gold = gold.strip()
        detected = understander.understand(text, now).emergency
        if gold:
            emergencies += 1
            if detected is not None:
                found += 1
                right += detected.number == gold
            else:
                missed.append(text)
        elif detected is not None:
            false_alarms += 1
    return EmergencyReport(len(rows), emergencies, found, right, false_alarms, missed)
