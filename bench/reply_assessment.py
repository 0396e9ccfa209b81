"""Reply assessment (形式办结 signals) on real replies: does the score tell a
message's own reply from another message's?

    .venv/bin/python bench/reply_assessment.py [--file CSV] [--seed 2020] [--idf both] [--json]

The file is the TipDM 2020 replies (../shared/data/hotline/tipdm2020_replies_dev.csv:
msg_id, time, title, text, reply, reply_time; 1,408 messages); the complaint is
title + text.  Each message gives two pairs: its own reply (positive) and the
reply of another message of the same half, drawn with a fixed seed (negative).

The rows are split by msg_id: the even half is where the weights and thresholds
of verification/reply_assessment.py were chosen (tuning), the odd half was not
looked at while choosing them (held out).  Both halves are printed; the held-out
figures are the ones to quote.  For each: ROC AUC of the score (own above
swapped), the share of own and of swapped replies flagged, and the share of own
replies given each reason.  Two word weightings: jieba's general IDF table (the
default of ``hotline replies assess``) and a city's own table computed from the
tuning half's complaints and replies only (``--idf-from-file`` on a city's history).

Then hand-written replies: boilerplate (已转交相关部门处理, 将加强管理…), alone or
restating the complaint, that must be flagged, and substantive ones that should
not be.  Targets: held-out AUC well above 0.8; own replies flagged at a modest
rate; swapped replies flagged most of the time; every boilerplate reply flagged.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sklearn.metrics import roc_auc_score  # noqa: E402

from verification import REASON_CODES, IdfTable, ReplyAssessor  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FILE = REPO.parent / "shared" / "data" / "hotline" / "tipdm2020_replies_dev.csv"

# Hand-written complaints and replies (no real data): boilerplate that answers nothing…
COMPLAINTS = [
    "投诉华景新城小区门口每天晚上10点以后有烧烤摊，油烟很大，吵得睡不着，希望城管处理。",
    "天河区棠下村龙门街的路灯坏了两个多月了，晚上走路很危险，请尽快维修。",
    "我在幸福里小区物业公司做保洁，公司已经拖欠三个月工资，老板不接电话。",
    "白云区石井街道的工地凌晨两点还在施工，噪音很大，多次投诉无人管。",
]
BOILERPLATE = [
    "您好，您反映的问题已转交相关部门处理，我们将加强管理。",
    "您好！您的留言已收悉，我们高度重视，已转相关部门处理，感谢您的支持！",
    "网友您好，您反映的情况已收悉，我们将进一步加强巡查力度，妥善处理。",
    "您好，该问题已转交有关部门，正在处理中，请您耐心等待。",
    "您好，您反映的问题我们已交办，将认真研究，尽快解决。感谢您对我们工作的关心与监督！",
    "尊敬的市民：您好！来信收悉。我们将加大管理力度，持续关注，依法依规处理。",
    "网友：您好！留言已收悉",
    "您好，我们会尽快安排人员处理，给您带来不便敬请谅解。",
]
# … boilerplate that restates the complaint (the usual 形式办结: on topic, nothing done),
# one for each complaint, in order …
ECHOING = [
    "您好，您反映的华景新城小区门口夜间烧烤摊油烟扰民问题已收悉，已转交相关部门处理，"
    "我们将加强管理。",
    "您好！关于棠下村龙门街路灯不亮的问题，我们高度重视，已转相关部门，将尽快安排维修。",
    "网友您好，您反映的幸福里小区物业公司拖欠保洁工资一事已收悉，我们将进一步加强监管，"
    "依法依规处理。",
    "您好，关于石井街道工地凌晨施工噪音扰民的问题，已转交有关部门，正在处理中，请您耐心等待。",
]
# … and substantive replies to the same complaints, in order.
SUBSTANTIVE = [
    "您好！经核实，您反映的华景新城小区门口夜间烧烤摊油烟扰民问题属实。5月12日晚上10点，"
    "我局执法人员到现场检查，依据《城市市容和环境卫生管理条例》第十四条责令摊主停止占道经营，"
    "暂扣烧烤炉具2台，罚款200元。目前该处已恢复正常，每晚22时至24时安排巡查。",
    "您好！经现场核查，棠下村龙门街有3盏路灯因线路老化不亮。我处已于6月3日更换电缆120米，"
    "路灯已于当晚恢复照明。",
    "您好！经A区人社局劳动保障监察大队调查，幸福里小区物业公司确实拖欠保洁员工资，"
    "依据《劳动保障监察条例》第二十六条，我局已于7月2日下达限期改正指令书，"
    "该公司已于7月9日补发3个月工资共4.2万元。",
    "您好！石井街道执法队于6月15日凌晨1时到现场，该工地未办理夜间施工许可，"
    "依据《环境噪声污染防治法》第三十条责令其立即停止夜间施工，罚款5000元，目前已停止夜间作业。",
]


def read_messages(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [row for row in csv.DictReader(handle) if (row.get("reply") or "").strip()]


def split(messages: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    """The tuning half (even msg_id) and the held-out half (odd msg_id)."""
    return {
        "tuning": [m for m in messages if int(m["msg_id"]) % 2 == 0],
        "held_out": [m for m in messages if int(m["msg_id"]) % 2 == 1],
    }


def measure(assessor: ReplyAssessor, messages: list[dict[str, str]], seed: int) -> dict[str, Any]:
    """Own reply against another message's reply (same half, seeded) for each message."""
    rng = random.Random(seed)
    labels: list[int] = []
    scores: list[float] = []
    flags: dict[int, list[bool]] = {1: [], 0: []}
    reasons: dict[int, Counter[str]] = {1: Counter(), 0: Counter()}
    for index, message in enumerate(messages):
        other = (index + rng.randrange(1, len(messages))) % len(messages)
        complaint = f"{message['title']}。{message['text']}"
        for label, reply in ((1, message["reply"]), (0, messages[other]["reply"])):
            result = assessor.assess(complaint, reply)  # own, then swapped: complaint read once
            labels.append(label)
            scores.append(result.score)
            flags[label].append(result.flag)
            reasons[label].update(set(result.codes))
    n = len(messages)
    return {
        "messages": n,
        "auc": roc_auc_score(labels, scores),
        "flagged_own": sum(flags[1]) / n,
        "flagged_swapped": sum(flags[0]) / n,
        "reasons_own": {c: reasons[1][c] / n for c in REASON_CODES if reasons[1][c]},
        "reasons_swapped": {c: reasons[0][c] / n for c in REASON_CODES if reasons[0][c]},
    }


def hand_written(assessor: ReplyAssessor) -> dict[str, Any]:
    """Every boilerplate reply against every complaint, each echoing one and each
    substantive one against its own complaint."""
    boiler = [assessor.assess(c, r) for c in COMPLAINTS for r in BOILERPLATE]
    boiler += [assessor.assess(c, r) for c, r in zip(COMPLAINTS, ECHOING, strict=True)]
    good = [assessor.assess(c, r) for c, r in zip(COMPLAINTS, SUBSTANTIVE, strict=True)]
    return {
        "boilerplate_pairs": len(boiler),
        "boilerplate_flagged": sum(r.flag for r in boiler) / len(boiler),
        "boilerplate_max_score": max(r.score for r in boiler),
        "boilerplate_reasons": dict(Counter(c for r in boiler for c in r.codes).most_common()),
        "substantive_pairs": len(good),
        "substantive_flagged": sum(r.flag for r in good) / len(good),
        "substantive_min_score": min(r.score for r in good),
    }


def run(path: Path, seed: int, weightings: list[str]) -> dict[str, Any]:
    started = time.perf_counter()
    halves = split(read_messages(path))
    report: dict[str, Any] = {
        "file": str(path),
        "seed": seed,
        "split": "tuning = even msg_id (weights chosen there), held_out = odd msg_id",
        "weightings": {},
    }
    pairs = 0
    for weighting in weightings:
        if weighting == "jieba":
            assessor = ReplyAssessor()
        else:  # a city's own table, from the tuning half only
            texts = [
                t for m in halves["tuning"] for t in (f"{m['title']}。{m['text']}", m["reply"])
            ]
            assessor = ReplyAssessor(IdfTable.from_texts(texts))
        report["weightings"][weighting] = {
            name: measure(assessor, messages, seed) for name, messages in halves.items()
        }
        pairs += 2 * sum(len(m) for m in halves.values())
    report["hand_written"] = hand_written(ReplyAssessor())
    elapsed = time.perf_counter() - started
    report["seconds"] = elapsed
    report["ms_per_pair"] = 1000 * elapsed / max(pairs, 1)
    return report


def show(report: dict[str, Any]) -> None:
    print(f"{report['file']}  (seed {report['seed']}; {report['split']})")
    for weighting, halves in report["weightings"].items():
        label = "jieba's IDF" if weighting == "jieba" else "city IDF (tuning half's texts)"
        print(f"\n== {label}")
        print(f"{'half':<10} {'messages':>8} {'AUC':>7} {'flag own':>9} {'flag swapped':>13}")
        for name, m in halves.items():
            tag = f"{name}*" if name == "held_out" else name
            print(
                f"{tag:<10} {m['messages']:>8} {m['auc']:>7.3f} {m['flagged_own']:>9.1%}"
                f" {m['flagged_swapped']:>13.1%}"
            )
        print("reasons (share of own replies | of swapped replies), held out:")
        held = halves["held_out"]
        for code in REASON_CODES:
            own, swapped = (
                held["reasons_own"].get(code, 0.0),
                held["reasons_swapped"].get(code, 0.0),
            )
            if own or swapped:
                print(f"  {code:<22} {own:>6.1%} | {swapped:>6.1%}")
    hand = report["hand_written"]
    print(
        f"\nhand-written boilerplate: {hand['boilerplate_flagged']:.0%} of "
        f"{hand['boilerplate_pairs']} pairs flagged (highest score "
        f"{hand['boilerplate_max_score']:.2f}); substantive: {hand['substantive_flagged']:.0%} "
        f"of {hand['substantive_pairs']} flagged (lowest score {hand['substantive_min_score']:.2f})"
    )
    print(
        f"* held out (not looked at while tuning)\n{report['seconds']:.1f} s, "
        f"{report['ms_per_pair']:.1f} ms per pair"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument(
        "--idf", choices=("jieba", "city", "both"), default="both", help="word weighting(s)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args()
    if not args.file.is_file():
        sys.exit(f"no such file: {args.file}")
    weightings = ["jieba", "city"] if args.idf == "both" else [args.idf]
    report = run(args.file, args.seed, weightings)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        show(report)


if __name__ == "__main__":
    main()
