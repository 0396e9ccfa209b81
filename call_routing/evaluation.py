"""Accuracy, macro-F1 and a confusion matrix of the understanding on labelled texts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from call_routing.understanding import Understander


@dataclass(frozen=True)
class Scored:
    """One row: its gold label, what the understanding chose, and how sure it was."""

    label: str
    predicted: str
    confidence: float


@dataclass(frozen=True)
class Report:
    labels: list[str]
    matrix: list[list[int]]  # gold rows × predicted columns
    n: int
    predictions: list[Scored] = field(default_factory=list)  # in the rows' order
    mapping: dict[str, str] = field(default_factory=dict)  # domain → category, if mapped

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

    def reliability(self, edges: tuple[float, ...] = (0.0, 0.4, 0.6, 0.8, 1.0)) -> list[dict]:
        """Accuracy per band of confidence: calibrated when the two agree."""
        bands = []
        for low, high in zip(edges, edges[1:], strict=False):
            inside = [
                p for p in self.predictions
                if low <= p.confidence < high or (high == edges[-1] and p.confidence == high)
            ]  # fmt: skip
            right = sum(p.label == p.predicted for p in inside)
            bands.append(
                {
                    "confidence": f"{low:.1f}-{high:.1f}",
                    "n": len(inside),
                    "accuracy": round(right / len(inside), 4) if inside else None,
                    "mean_confidence": round(sum(p.confidence for p in inside) / len(inside), 4)
                    if inside
                    else None,
                }
            )
        return bands

    def summary(self) -> dict:
        return {
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "n": self.n,
        }

    def as_dict(self) -> dict:
        """Everything ``hotline nlu eval --json`` prints."""
        return {
            **self.summary(),
            "labels": self.labels,
            "confusion_matrix": self.matrix,
            "mapping": self.mapping,
            "reliability": self.reliability(),
            "predictions": [
                {"label": p.label, "predicted": p.predicted, "confidence": round(p.confidence, 4)}
                for p in self.predictions
            ],
        }


def evaluate(
    understander: Understander,
    rows: list[tuple[str, str]],
    label: str,
    mapping: dict[str, str] | None = None,
) -> Report:
    """``label`` is ``domain`` or ``type``; domain labels may use aliases (社会治安).

    With ``mapping`` (domain → a category of the city's first level), domain labels
    are such categories: the understanding's domain probabilities are summed per
    category and the best category among the file's labels is the prediction (a
    closed set, as the city's own labelling)."""
    taxonomy = understander.taxonomy
    now = datetime(2026, 1, 1)
    golds = [gold.strip() for _, gold in rows]
    if label == "domain" and mapping is None:
        golds = [taxonomy.canonical_domain(gold) for gold in golds]
    elif label == "type":
        for gold in golds:
            if gold not in taxonomy.request_types:
                raise KeyError(
                    f"unknown request type {gold!r}; known: {', '.join(taxonomy.request_types)}"
                )
    present = sorted(set(golds))
    canonical = {taxonomy.canonical_domain(d): c for d, c in (mapping or {}).items()}
    scored = []
    for (text, _), gold in zip(rows, golds, strict=True):
        result = understander.understand(text, now)
        if label == "type":
            scored.append(Scored(gold, result.request_type, result.type_confidence))
        elif mapping is None:
            scored.append(Scored(gold, result.domain, result.domain_confidence))
        else:
            scored.append(Scored(gold, *_mapped(result, canonical, present, taxonomy)))
    if label == "domain" and mapping is not None:
        known = list(dict.fromkeys([*present, *mapping.values()]))
    else:
        known = list(taxonomy.domains) if label == "domain" else list(taxonomy.request_types)
    labels = [x for x in known if any(x in (p.label, p.predicted) for p in scored)]
    index = {name: i for i, name in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for p in scored:
        matrix[index[p.label]][index[p.predicted]] += 1
    return Report(labels, matrix, len(scored), scored, dict(mapping or {}))


def _mapped(
    result: Any, mapping: dict[str, str], present: list[str], taxonomy: Any
) -> tuple[str, float]:
    """The category among ``present`` that the domain probabilities favour most."""
    totals = dict.fromkeys(present, 0.0)
    for domain, probability in result.alternatives.get("domain", {}).items():
        category = mapping.get(taxonomy.canonical_domain(domain))
        if category in totals:
            totals[category] += probability
    best = max(present, key=lambda c: (totals[c], -present.index(c)))
    if totals[best] == 0.0:  # no probabilities (an empty text): the domain's own category
        return mapping.get(result.domain, best), 0.0
    return best, totals[best] / (sum(totals.values()) or 1.0)


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
