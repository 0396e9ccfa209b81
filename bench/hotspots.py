"""热点问题 over 10,000 messages on one core: how long each stage takes, the
memory it needs, and whether the six hand-labelled hotspots of
``tests/data/hotspot_messages.csv`` are still found among that many.

    .venv/bin/python bench/hotspots.py                  # ≈ 10,900 messages
    .venv/bin/python bench/hotspots.py --messages 4000 --json

The messages: the real ones of ../shared/data/hotline with their times (2,291),
then the words of the segmented training file joined back into text (8,599
real messages whose time is not public: given times spread over the same two
years, fixed by a seed), then the labelled hotspots.  BLAS and OpenMP are held
to one thread, as the issue asks ("under a minute on one core").
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.hotspot_evaluation import match_known  # noqa: E402
from analytics.hotspots import find_hotspots  # noqa: E402
from analytics.message_rows import requests_from_rows  # noqa: E402
from analytics.requests import Request  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "hotline"
KNOWN = ROOT / "tests" / "data" / "hotspot_messages.csv"


def _read(path: Path, prefix: str = "") -> list[Request]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [dict(row, msg_id=prefix + row.get("msg_id", "")) for row in reader]
        found = requests_from_rows(reader.fieldnames or [], rows)
    return [Request(r.id, r.at, r.title, r.text, r.person, likes=r.likes) for r in found]


def messages(wanted: int) -> list[Request]:
    found = _read(SHARED / "tipdm2020_replies_dev.csv") + _read(
        SHARED / "tipdm2020_messages_dev.csv", "dev-"
    )
    rng = random.Random(17)
    start = datetime(2018, 1, 1)
    with (SHARED / "tipdm2020_segmented_train.csv").open(encoding="utf-8") as handle:
        for k, row in enumerate(csv.DictReader(handle)):
            if len(found) >= wanted:
                break
            words = row["tokens"].split()
            found.append(
                Request(
                    f"seg-{k}",
                    start + timedelta(minutes=rng.randrange(2 * 365 * 24 * 60)),
                    "".join(words[:12]),
                    "".join(words[12:]),
                )
            )
    return found[:wanted] + _read(KNOWN)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_900, help="background messages")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    requests = messages(args.messages)
    from call_routing.nlu_model import load

    began = time.perf_counter()
    model = load().domain
    loaded = time.perf_counter() - began

    def classify(titles: list[str]) -> list[dict[str, float]]:
        return [p.scores for p in model.predict_all(titles)]

    began = time.perf_counter()
    hotspots = find_hotspots(requests, classify=classify)
    took = time.perf_counter() - began
    known: dict[str, list[str]] = defaultdict(list)
    with KNOWN.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["hotspot"]:
                known[row["hotspot"]].append(row["id"])
    matches = match_known(hotspots[: args.top], known)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {
        "messages": len(requests),
        "seconds": round(took, 1),
        "model_load_s": round(loaded, 1),
        "peak_rss_mib": round(peak_mib),
        "hotspots": len(hotspots),
        "in_hotspots": sum(h.requests for h in hotspots),
        "known_found_in_top": sum(m.rank is not None for m in matches),
        "known": len(matches),
        "matches": [m.__dict__ for m in matches],
        "top": [
            {"rank": h.rank, "title": h.title, "requests": h.requests, "heat": h.heat}
            for h in hotspots[: args.top]
        ],
    }
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return
    print(
        f"{figures['messages']} messages grouped in {figures['seconds']} s on one thread "
        f"(model load {figures['model_load_s']} s), peak RSS {figures['peak_rss_mib']} MiB; "
        f"{figures['hotspots']} hotspots holding {figures['in_hotspots']} messages"
    )
    print(
        f"known hotspots found in the top {args.top}: "
        f"{figures['known_found_in_top']} of {len(matches)}"
    )
    for m in matches:
        print(
            f"  {m.known:<11} {m.size} messages  rank {m.rank}  "
            f"recall {m.recall}  precision {m.precision}"
        )
    for h in figures["top"]:
        print(f"  {h['rank']:>2}. {h['title']}  ({h['requests']} requests, heat {h['heat']})")


if __name__ == "__main__":
    main()
