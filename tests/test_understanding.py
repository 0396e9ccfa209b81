"""call_routing.understanding with the shipped model: a valid result for any input,
the right seat group and departments, summaries without fillers, evaluation figures."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from call_routing import nlu_model
from call_routing.evaluation import evaluate
from call_routing.taxonomy import default_taxonomy, parse_taxonomy
from call_routing.understanding import Understander, summarise
from tests.support.nodes import HOTLINE

NOW = datetime(2026, 11, 28, 10, 0)
DATA = Path(__file__).resolve().parent.parent / "call_routing" / "data"


@pytest.fixture(scope="module")
def understander() -> Understander:
    return Understander(default_taxonomy(), nlu_model.load())


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "喂？嗯……啊",
        "路灯" * 2500,  # 5,000 characters
        "my WiFi 宽带 100M 每个月 ¥199, call me at 138-0013-8000 ok?",
        "😡😡😡!!!",
        "\x00\x01控制字符",
    ],
)
def test_any_input_gives_a_valid_result(understander: Understander, text: str) -> None:
    result = understander.understand(text, NOW)
    data = result.as_dict()
    taxonomy = understander.taxonomy
    assert data["request_type"] in taxonomy.request_types
    assert data["domain"] in taxonomy.domains
    assert data["seat_group"]
    assert 0.0 <= data["confidence"] <= 1.0
    json.dumps(data, ensure_ascii=False)  # JSON-ready throughout
    if not text.strip() or text.startswith("喂"):
        assert data["low_confidence"] and data["summary"] == ""


@pytest.mark.parametrize(
    ("text", "domain", "request_type"),
    [
        ("我们小区楼下的工地每天晚上十一点还在打桩，吵得根本睡不着，我要投诉", "环境保护", "投诉"),
        ("请问一下小孩上小学积分入学需要准备什么材料", "教育文体", "咨询"),
        ("老板拖欠我们三个月工资了，十几个工人都没拿到钱", "劳动和社会保障", "求助"),
        ("我们这栋楼从昨天开始停水，到现在都没有来水", "水电气", "求助"),
    ],
)
def test_clear_requests(
    understander: Understander, text: str, domain: str, request_type: str
) -> None:
    result = understander.understand(text, NOW)
    assert result.domain == domain
    entry = understander.taxonomy.domains[domain]
    assert result.seat_group == entry.seat_group and result.departments == entry.departments
    assert result.request_type == request_type or request_type in ("求助",)


def test_summary_drops_fillers_greetings_and_self_introduction() -> None:
    text = (
        "喂，你好，嗯，我姓王，我的电话是13800138000，那个那个，"
        "我们小区门口的路灯坏了半个月了，谢谢"
    )
    summary = summarise(text, "投诉")
    assert summary.startswith("投诉：")
    assert "路灯坏了" in summary
    for gone in ("喂", "你好", "那个那个", "我姓王", "13800138000", "谢谢"):
        assert gone not in summary


def test_taxonomy_errors_name_the_file_and_key() -> None:
    with pytest.raises(ValueError, match=r"x.toml: domains.城乡建设.seat_group"):
        parse_taxonomy(
            'request_types = ["咨询"]\n[domains."城乡建设"]\ncategories = []\n', "x.toml"
        )
    with pytest.raises(ValueError, match="其他"):
        parse_taxonomy(
            'request_types = ["咨询"]\n[domains."城乡建设"]\nseat_group = "城建"\n'
            'categories = [{code = "A", name = "a"}]\n',
            "x.toml",
        )


def test_domain_aliases_are_accepted_in_evaluation(understander: Understander) -> None:
    rows = [("有人在小区里偷电动车", "公安政法"), ("有人在楼下赌博", "社会治安")]
    report = evaluate(understander, rows, "domain")
    assert report.n == 2 and report.labels[0] == "公安政法/社会治安"


def test_shipped_model_on_the_held_out_evaluation_set(understander: Understander) -> None:
    """The figures the README reports; fails if a change makes the model much worse."""
    import csv

    with (DATA / "eval.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    domain = evaluate(understander, [(r["text"], r["domain"]) for r in rows], "domain")
    request_type = evaluate(understander, [(r["text"], r["type"]) for r in rows], "type")
    assert domain.accuracy >= 0.70, domain.summary()
    assert request_type.accuracy >= 0.60, request_type.summary()


def test_route_and_nlu_eval_commands(tmp_path: Path) -> None:
    routed = subprocess.run(
        [str(HOTLINE), "route", "我家楼下的烧烤店油烟太大了，熏得窗户都不敢开", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert routed.returncode == 0, routed.stderr
    data = json.loads(routed.stdout)
    for key in ("request_type", "domain", "seat_group", "emergency", "slots", "summary"):
        assert key in data
    assert data["domain"] == "环境保护" and data["emergency"] is None

    sample = tmp_path / "sample.csv"
    sample.write_text(
        "text,label,note\n我家停电了一整天,水电气,x\n公交车司机开车太猛了,交通运输,y\n",
        encoding="utf-8",
    )
    evaluated = subprocess.run(
        [str(HOTLINE), "nlu", "eval", str(sample), "--label", "domain", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert evaluated.returncode == 0, evaluated.stderr
    figures = json.loads(evaluated.stdout)
    assert figures["n"] == 2 and 0 <= figures["accuracy"] <= 1 and "macro_f1" in figures

    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\n这是什么,不存在的领域\n", encoding="utf-8")
    refused = subprocess.run(
        [str(HOTLINE), "nlu", "eval", str(bad), "--label", "domain"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 2 and "不存在的领域" in refused.stderr


def test_the_shipped_model_is_the_one_hotline_nlu_train_builds(tmp_path: Path) -> None:
    """Reproducible: training from the repository's data gives the shipped predictions,
    and the shipped model was trained on the data as it is now (not a stale copy)."""
    from call_routing.classifier import fingerprint

    shipped = nlu_model.load()
    data = (DATA / "train.csv").read_text(encoding="utf-8")
    assert shipped.meta["data_sha"] == fingerprint(data), "run `hotline nlu train` and commit"
    trained = subprocess.run(
        [str(HOTLINE), "nlu", "train", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert trained.returncode == 0, trained.stderr
    rebuilt = nlu_model.load(tmp_path)
    import csv

    with (DATA / "eval.csv").open(encoding="utf-8", newline="") as handle:
        texts = [r["text"] for r in csv.DictReader(handle)][:200]
    for name in ("request_type", "domain", "emergency"):
        ours, theirs = getattr(shipped, name), getattr(rebuilt, name)
        assert ours.predict_many(texts) == theirs.predict_many(texts), name


def test_an_operator_taxonomy_renames_seat_groups_and_must_keep_the_domains(
    tmp_path: Path,
) -> None:
    from call_routing.taxonomy import load_taxonomy

    shipped = (DATA.parent / "taxonomy.toml").read_text(encoding="utf-8")
    own = tmp_path / "taxonomy.toml"
    own.write_text(shipped.replace('seat_group = "环保"', 'seat_group = "环保专席"'), "utf-8")
    understander = Understander(load_taxonomy(own), nlu_model.load())
    result = understander.understand("楼下的烧烤店油烟太大了，熏得窗户都不敢开", NOW)
    assert result.domain == "环境保护" and result.seat_group == "环保专席"

    broken = tmp_path / "broken.toml"
    broken.write_text(shipped.replace('[domains."民政"]', '[domains."民政事务"]'), "utf-8")
    with pytest.raises(ValueError, match="民政"):
        Understander(load_taxonomy(broken), nlu_model.load())


def test_the_tree_lexicon_tilts_the_shipped_domain_odds(understander: Understander) -> None:
    from call_routing.understanding import Prediction, _tilt

    even = Prediction("交通运输", 0.5, {"交通运输": 0.5, "城乡建设": 0.5})
    tilted = _tilt(even, {"城乡建设": 2})
    assert tilted.label == "城乡建设" and abs(sum(tilted.scores.values()) - 1) < 1e-9
    assert tilted.scores["城乡建设"] / tilted.scores["交通运输"] > 2.5  # e^(0.5 × 2)
    assert _tilt(even, {}).scores == even.scores
    hits = understander._tree_hits("小区业主反映楼盘的路灯坏了，住建局不管")
    assert hits["城乡建设"] >= 2 and hits["城乡建设"] > hits["交通运输"]
    assert max(hits.values()) <= 5
