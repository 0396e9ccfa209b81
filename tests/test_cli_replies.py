"""`hotline replies assess` (ivr.cli.replies, through the `hotline` app) on small CSVs written to
tmp_path, and on a seeded sample of real complaint/reply pairs (TipDM 2020, in
../shared/data/hotline): each message's own reply against another message's."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from ivr.cli.app import app

REPLIES = Path(__file__).resolve().parents[2] / "shared/data/hotline/tipdm2020_replies_dev.csv"
NOISE = "投诉华景新城小区门口每天晚上10点以后有烧烤摊，油烟很大，吵得睡不着。"
GOOD = (
    "您好！经核实，华景新城小区门口夜间烧烤摊油烟扰民问题属实。5月12日晚上10点执法人员到现场，"
    "依据《城市市容和环境卫生管理条例》第十四条责令摊主停止占道经营，罚款200元，现已恢复正常。"
)
HOLLOW = "您好，您反映的问题已转交相关部门处理，我们将加强管理。"
SOCIAL = "我的社保卡丢了，怎么补办？"
SOCIAL_REPLY = "您好！社保卡补办请携带身份证到社保经办网点办理，补卡工本费20元，7个工作日内制卡。"


def write_csv(path: Path, header: list[str], rows: list[list[str]], bom: bool = False) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def assess(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["replies", "assess", *args])


def test_json_gives_one_object_per_row_in_file_order(tmp_path: Path) -> None:
    rows = [[NOISE, GOOD], [NOISE, HOLLOW], [SOCIAL, SOCIAL_REPLY], [NOISE, ""]]
    result = assess(str(write_csv(tmp_path / "r.csv", ["complaint", "reply"], rows)), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, list) and len(data) == 4
    for item in data:
        assert set(item) == {"score", "flag", "reasons"}
        assert 0.0 <= item["score"] <= 1.0
        assert isinstance(item["flag"], bool)
        assert all(set(r) == {"code", "text"} for r in item["reasons"])
    good, hollow, social, empty = data
    assert not good["flag"] and hollow["flag"] and not social["flag"] and empty["flag"]
    assert good["score"] > hollow["score"]
    assert "boilerplate" in [r["code"] for r in hollow["reasons"]]
    assert [r["code"] for r in empty["reasons"]] == ["empty"]
    assert empty["score"] == 0.0


def test_a_bom_other_columns_and_the_title_column(tmp_path: Path) -> None:
    rows = [["1", "烧烤油烟扰民", NOISE, GOOD, "x"], ["2", "社保卡补办", SOCIAL, SOCIAL_REPLY, "y"]]
    header = ["msg_id", "title", "text", "reply", "reply_time"]
    path = write_csv(tmp_path / "tipdm.csv", header, rows, bom=True)
    args = ["--complaint-column", "text", "--title-column", "title", "--json", "--signals"]
    result = assess(str(path), *args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [item["flag"] for item in data] == [False, False]
    assert all(0.0 <= item["signals"]["relevance"] <= 1.0 for item in data)


def test_a_missing_column_names_it_and_the_columns_present(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", ["question", "reply"], [[NOISE, GOOD]])
    result = assess(str(path), "--json")
    assert result.exit_code == 2
    assert "complaint" in result.output
    assert "question, reply" in result.output
    assert result.stdout == ""
    other = assess(str(path), "--complaint-column", "question", "--reply-column", "answer")
    assert other.exit_code == 2 and "answer" in other.output


def test_bad_files_exit_2(tmp_path: Path) -> None:
    assert assess(str(tmp_path / "none.csv")).exit_code == 2
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    empty = assess(str(tmp_path / "empty.csv"))
    assert empty.exit_code == 2 and "empty file" in empty.output
    (tmp_path / "gbk.csv").write_bytes("complaint,reply\n投诉,答复\n".encode("gbk"))
    gbk = assess(str(tmp_path / "gbk.csv"))
    assert gbk.exit_code == 2 and "UTF-8" in gbk.output


def test_the_table_and_summary_for_reviewers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path = write_csv(tmp_path / "r.csv", ["complaint", "reply"], [[NOISE, GOOD], [NOISE, HOLLOW]])
    result = CliRunner().invoke(app, ["replies", "assess", str(path)])
    assert result.exit_code == 0, result.output
    assert "需复核" in result.output
    assert "共 2 条答复，标记需复核 1 条（50%）" in result.output
    assert "boilerplate" in result.output


def test_a_header_only_file_gives_an_empty_list(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", ["complaint", "reply"], [])
    result = assess(str(path), "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_own_replies_score_above_other_messages_replies_on_real_pairs(tmp_path: Path) -> None:
    assert REPLIES.is_file(), f"{REPLIES} is missing: check out the project beside ../shared"
    with REPLIES.open(encoding="utf-8-sig", newline="") as handle:
        messages = list(csv.DictReader(handle))
    rng = random.Random(12345)
    sample = rng.sample(messages, 200)
    rows, labels = [], []
    for index, message in enumerate(sample):
        other = sample[(index + rng.randrange(1, len(sample))) % len(sample)]
        for label, reply in ((1, message["reply"]), (0, other["reply"])):
            rows.append([message["title"], message["text"], reply])
            labels.append(label)
    path = write_csv(tmp_path / "pairs.csv", ["title", "text", "reply"], rows)
    result = assess(str(path), "--complaint-column", "text", "--title-column", "title", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    scores = [item["score"] for item in data]
    assert roc_auc_score(labels, scores) > 0.75
    own = [item["flag"] for item, label in zip(data, labels, strict=True) if label]
    swapped = [item["flag"] for item, label in zip(data, labels, strict=True) if not label]
    assert sum(own) / len(own) < 0.35  # real replies are mostly substantive
    assert sum(swapped) / len(swapped) > 0.6  # another message's reply mostly is not an answer
