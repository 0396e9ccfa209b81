"""Assemble the hand-written rows in src/*.txt into train.csv and eval.csv.

Each line of a source file is one individually written request:

    <type code> <domain code> [emergency]|<text>

Type codes: Z 咨询, Q 求助, T 投诉, J 举报, Y 建议, B 表扬.
Domain codes: see DOMAINS below.  Lines starting with '#' and blank lines are skipped.
Files named train_*.txt go to train.csv, eval_*.txt to eval.csv.  The script only
decodes the codes, removes exact duplicates and shuffles with a fixed seed; it does
not generate any text.

    .venv/bin/python call_routing/data/build_data.py
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TYPES = {"Z": "咨询", "Q": "求助", "T": "投诉", "J": "举报", "Y": "建议", "B": "表扬"}
DOMAINS = {
    "CJ": "城乡建设",
    "HB": "环境保护",
    "JT": "交通运输",
    "JW": "教育文体",
    "LD": "劳动和社会保障",
    "SM": "商贸旅游",
    "WS": "卫生计生",
    "SJ": "市场监管",
    "GA": "公安政法",
    "MZ": "民政",
    "NY": "农业农村",
    "SD": "水电气",
    "QT": "其他",
}
EMERGENCY = {"", "110", "119", "120"}


def read_rows(pattern: str) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    seen: set[str] = set()
    for path in sorted((HERE / "src").glob(pattern)):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            head, sep, text = line.partition("|")
            parts = head.split()
            if not sep or len(parts) not in (2, 3) or not text.strip():
                sys.exit(f"{path.name}:{lineno}: bad line: {line}")
            t, d = parts[0], parts[1]
            e = parts[2] if len(parts) == 3 else ""
            if t not in TYPES or d not in DOMAINS or e not in EMERGENCY:
                sys.exit(f"{path.name}:{lineno}: bad labels: {head}")
            text = text.strip()
            if text in seen:
                print(f"{path.name}:{lineno}: duplicate dropped: {text[:30]}", file=sys.stderr)
                continue
            seen.add(text)
            rows.append((text, TYPES[t], DOMAINS[d], e))
    return rows


def write(rows: list[tuple[str, str, str, str]], name: str, seed: int) -> None:
    random.Random(seed).shuffle(rows)
    with open(HERE / name, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        w.writerow(["text", "type", "domain", "emergency"])
        w.writerows(rows)
    print(f"{name}: {len(rows)} rows")


if __name__ == "__main__":
    write(read_rows("train_*.txt"), "train.csv", 12345)
    write(read_rows("eval_*.txt"), "eval.csv", 54321)
