"""Validate call_routing/data/train.csv and eval.csv and print label counts.

    .venv/bin/python call_routing/data/check_data.py

Checks: header, labels from the allowed sets, no empty texts, no exact
duplicates within a file, no exact or near duplicates between train and eval
(character 4-gram Jaccard > 0.6 flags a pair), and the minimum counts asked for
(rows, per type, per domain, emergencies), and per-file minima for the phone
files in src/ (rows, rows per type, emergencies and non-emergencies, length).
Exit status 1 if anything fails.
"""

from __future__ import annotations

import csv
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = ["text", "type", "domain", "emergency"]
TYPES = ["咨询", "求助", "投诉", "举报", "建议", "表扬"]
DOMAINS = [
    "城乡建设",
    "环境保护",
    "交通运输",
    "教育文体",
    "劳动和社会保障",
    "商贸旅游",
    "卫生计生",
    "市场监管",
    "公安政法",
    "民政",
    "农业农村",
    "水电气",
    "其他",
]
EMERGENCY = ["", "119", "110", "120"]
# minimum rows, per type, per domain, emergencies
MINIMA = {"train.csv": (1300, 80, 60, 120), "eval.csv": (450, 25, 20, 60)}
JACCARD = 0.6
TYPE_CODES = {"Z": "咨询", "Q": "求助", "T": "投诉", "J": "举报", "Y": "建议", "B": "表扬"}
# src file: (rows, {type: minimum}, emergencies, non-emergencies, (shortest, longest)
# in characters); where emergencies are asked for, non-emergencies must be at least as many
SRC_MINIMA = {
    "train_22_types.txt": (300, {"咨询": 40, "求助": 40, "投诉": 40, "举报": 40}, 0, 0, (15, 120)),
    "train_23_emergency.txt": (120, {}, 60, 60, (15, 120)),
    "eval_11_phone_types.txt": (
        200,
        {"咨询": 40, "求助": 40, "投诉": 40, "举报": 40, "建议": 5, "表扬": 5},
        0,
        0,
        (15, 120),
    ),
    "eval_12_emergency_hard.txt": (140, {}, 40, 100, (15, 120)),
}
_PUNCT = re.compile(r"[\s，。！？、；：,.!?;:“”\"'（）()…—-]+")


def load(name: str, errors: list[str]) -> list[dict[str, str]]:
    path = HERE / name
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header != HEADER:
            errors.append(f"{name}: header is {header}, expected {HEADER}")
            return []
        rows = []
        for i, rec in enumerate(reader, 2):
            if len(rec) != 4:
                errors.append(f"{name}:{i}: {len(rec)} fields")
                continue
            row = dict(zip(HEADER, rec, strict=False))
            if not row["text"].strip():
                errors.append(f"{name}:{i}: empty text")
            if row["type"] not in TYPES:
                errors.append(f"{name}:{i}: bad type {row['type']!r}")
            if row["domain"] not in DOMAINS:
                errors.append(f"{name}:{i}: bad domain {row['domain']!r}")
            if row["emergency"] not in EMERGENCY:
                errors.append(f"{name}:{i}: bad emergency {row['emergency']!r}")
            rows.append(row)
    dup = [t for t, n in Counter(r["text"] for r in rows).items() if n > 1]
    for t in dup:
        errors.append(f"{name}: duplicate text: {t[:40]}")
    return rows


def grams(text: str, n: int = 4) -> frozenset[str]:
    s = _PUNCT.sub("", text)
    if len(s) < n:
        return frozenset([s])
    return frozenset(s[i : i + n] for i in range(len(s) - n + 1))


def near_duplicates(train: list[dict[str, str]], evals: list[dict[str, str]]):
    """Pairs (jaccard, train text, eval text) above the threshold."""
    tg = [grams(r["text"]) for r in train]
    index: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(tg):
        for x in g:
            index[x].append(i)
    found = []
    for r in evals:
        eg = grams(r["text"])
        shared: Counter[int] = Counter()
        for x in eg:
            for i in index.get(x, ()):
                shared[i] += 1
        for i, inter in shared.items():
            j = inter / (len(eg) + len(tg[i]) - inter)
            if j > JACCARD or train[i]["text"] == r["text"]:
                found.append((j, train[i]["text"], r["text"]))
    return found


def report(name: str, rows: list[dict[str, str]], errors: list[str]) -> None:
    n_min, t_min, d_min, e_min = MINIMA[name]
    lengths = sorted(len(r["text"]) for r in rows)
    print(
        f"\n== {name}: {len(rows)} rows; text length median {lengths[len(lengths) // 2]}, "
        f"max {lengths[-1]}, {sum(x >= 200 for x in lengths)} rows of 200+ characters"
    )
    if len(rows) < n_min:
        errors.append(f"{name}: {len(rows)} rows < {n_min}")
    for col, allowed, minimum in (("type", TYPES, t_min), ("domain", DOMAINS, d_min)):
        c = Counter(r[col] for r in rows)
        print(f"{col}: " + ", ".join(f"{k} {c[k]}" for k in allowed))
        for k in allowed:
            if c[k] < minimum:
                errors.append(f"{name}: {col} {k} has {c[k]} rows < {minimum}")
    c = Counter(r["emergency"] for r in rows)
    print("emergency: " + ", ".join(f"{k or 'none'} {c[k]}" for k in EMERGENCY))
    n_em = len(rows) - c[""]
    if n_em < e_min:
        errors.append(f"{name}: {n_em} emergency rows < {e_min}")
    by = Counter((r["emergency"], r["domain"]) for r in rows if r["emergency"])
    print("emergency by domain: " + ", ".join(f"{e}/{d} {n}" for (e, d), n in sorted(by.items())))


def check_src(errors: list[str]) -> None:
    """Per-file minima for the phone files (counted on the source lines)."""
    for name, (n_min, type_min, em_min, none_min, (short, long)) in SRC_MINIMA.items():
        path = HERE / "src" / name
        if not path.exists():
            errors.append(f"src/{name}: missing")
            continue
        heads, lengths = [], []
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            head, _, text = line.partition("|")
            heads.append(head.split())
            lengths.append(len(text.strip()))
        types = Counter(TYPE_CODES.get(h[0], h[0]) for h in heads)
        n_em = sum(len(h) == 3 for h in heads)
        print(
            f"src/{name}: {len(heads)} rows; "
            + ", ".join(f"{k} {types[k]}" for k in TYPES)
            + f"; emergencies {n_em}, none {len(heads) - n_em}"
        )
        if len(heads) < n_min:
            errors.append(f"src/{name}: {len(heads)} rows < {n_min}")
        for k, m in type_min.items():
            if types[k] < m:
                errors.append(f"src/{name}: type {k} has {types[k]} rows < {m}")
        if n_em < em_min:
            errors.append(f"src/{name}: {n_em} emergencies < {em_min}")
        # hard negatives: at least none_min, and at least as many as the emergencies
        need = max(none_min, n_em) if em_min else none_min
        if len(heads) - n_em < need:
            errors.append(f"src/{name}: {len(heads) - n_em} non-emergencies < {need}")
        bad = [x for x in lengths if not short <= x <= long]
        if bad:
            errors.append(f"src/{name}: {len(bad)} rows outside {short}-{long} characters")


def main() -> int:
    errors: list[str] = []
    train = load("train.csv", errors)
    evals = load("eval.csv", errors)
    for name, rows in (("train.csv", train), ("eval.csv", evals)):
        if rows:
            report(name, rows, errors)
    print()
    check_src(errors)
    pairs = near_duplicates(train, evals)
    for j, t, e in sorted(pairs, reverse=True):
        errors.append(f"train/eval overlap (Jaccard {j:.2f}):\n  train: {t}\n  eval:  {e}")
    print(f"\ntrain/eval pairs with 4-gram Jaccard > {JACCARD}: {len(pairs)}")
    if errors:
        print(f"\n{len(errors)} problem(s):")
        for e in errors:
            print(" -", e)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
