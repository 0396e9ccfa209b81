"""A city's own history of labelled requests, for ``hotline nlu train --history``.

A history file is a CSV with a ``label`` column (the first-level category or domain
the centre gave the request) and either ``text`` (what the citizen said or wrote) or
``tokens`` (the same, already split into words by spaces, as some exports have it).
Labels must name domains of the taxonomy (or their aliases): a model that routes to a
domain the hub does not know could not seat its calls.

Everything here is pure: files are read by the caller and passed in as text.
"""

from __future__ import annotations

import csv
import io
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from call_routing.taxonomy import Taxonomy

_SEED = 12345
MIN_PER_LABEL = 2  # fewer than this cannot be both trained on and held back


class HistoryError(ValueError):
    """A history file that cannot be trained on; the message names file, row and fix."""


@dataclass(frozen=True)
class Labelled:
    text: str
    label: str
    source: str  # "file.csv:12", or "ticket 20260301-0007"


def read_history(text: str, source: str, taxonomy: Taxonomy) -> list[Labelled]:
    """The rows of one history CSV, labels as the taxonomy's domain names."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = [c.strip() for c in reader.fieldnames or ()]
    reader.fieldnames = columns
    column = "text" if "text" in columns else "tokens" if "tokens" in columns else ""
    missing = [name for name, ok in (("text", column), ("label", "label" in columns)) if not ok]
    if missing:
        raise HistoryError(
            f"{source}: no column {' and no column '.join(missing)} (found "
            f"{', '.join(columns) or 'none'}); the file needs a header with text,label "
            "(or tokens,label for text already split into words)"
        )
    rows: list[Labelled] = []
    unknown: dict[str, int] = {}
    for number, row in enumerate(reader, start=2):
        body = (row.get(column) or "").strip()
        label = (row.get("label") or "").strip()
        if not body:
            continue  # an empty message teaches nothing
        if not label:
            raise HistoryError(f"{source}:{number}: empty label; give every row its category")
        try:
            name = taxonomy.canonical_domain(label)
        except KeyError:
            unknown.setdefault(label, number)
            continue
        rows.append(Labelled(body, name, f"{source}:{number}"))
    if unknown:
        first = ", ".join(f"{label!r} (line {line})" for label, line in list(unknown.items())[:5])
        raise HistoryError(
            f"{source}: unknown label {first}: the taxonomy's domains are "
            f"{', '.join(taxonomy.domains)}; rename the label, or add it to a domain's "
            "aliases in your taxonomy (routing.taxonomy)"
        )
    if not rows:
        raise HistoryError(f"{source}: no labelled rows with text")
    return rows


def check_counts(rows: Sequence[Labelled], minimum: int = MIN_PER_LABEL) -> Counter[str]:
    """Rows per label; a label with too few rows to learn and to hold back is an error."""
    counts = Counter(row.label for row in rows)
    thin = sorted(label for label, n in counts.items() if n < minimum)
    if thin:
        raise HistoryError(
            f"too few rows for {', '.join(f'{x} ({counts[x]})' for x in thin)}: every label "
            f"needs at least {minimum}; add examples or merge the label into another"
        )
    if len(counts) < 2:
        raise HistoryError(
            f"only one label ({next(iter(counts))}): a model needs at least two to choose from"
        )
    return counts


def held_back_split(
    rows: Sequence[Labelled], fraction: float
) -> tuple[list[Labelled], list[Labelled]]:
    """(train, held back): ``fraction`` of every label, at least one, chosen with a
    fixed seed so that the same history gives the same split."""
    if not 0 < fraction < 1:
        raise HistoryError(f"the held-back fraction must be between 0 and 1, not {fraction}")
    by_label: dict[str, list[Labelled]] = defaultdict(list)
    for row in rows:
        by_label[row.label].append(row)
    shuffle = random.Random(_SEED)
    train: list[Labelled] = []
    held: list[Labelled] = []
    for label in sorted(by_label):
        group = list(by_label[label])
        shuffle.shuffle(group)
        keep = max(1, round(len(group) * fraction))
        held.extend(group[:keep])
        train.extend(group[keep:])
    return train, held


def drop_near_duplicates(
    rows: Sequence[Labelled],
    others: Iterable[str],
    threshold: float = 0.35,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Labelled], int]:
    """``rows`` without those whose words overlap one of ``others`` (Jaccard of their
    word sets above ``threshold``): so that a file measured on is not trained on, even
    where it was exported twice.  Words are jieba's (as the classifier's)."""
    from call_routing.classifier import words

    row_words = [frozenset(words(row.text)) for row in rows]
    index: dict[str, list[int]] = defaultdict(list)
    for i, found in enumerate(row_words):
        for word in found:
            index[word].append(i)
    drop: set[int] = set()
    for done, other in enumerate(others, start=1):
        mine = frozenset(words(other))
        shared: Counter[int] = Counter()
        for word in mine:
            shared.update(index.get(word, ()))
        for i, common in shared.items():
            if i not in drop and common / (len(mine) + len(row_words[i]) - common) > threshold:
                drop.add(i)
        if progress is not None:
            progress(done)
    kept = [row for i, row in enumerate(rows) if i not in drop]
    return kept, len(drop)
