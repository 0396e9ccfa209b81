"""A city trains on its own history: ``hotline nlu train --history`` (progress, counts,
a held-back check against the current model, clear errors), the model it writes used
by ``hotline nlu eval --model`` and ``hotline route --model``, and routing.model
checked at the node's start.  The history is a sample of the real city's messages in
../shared/data/hotline (its README: the "train on your own history" path)."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest

from call_routing import nlu_model
from call_routing.history import HistoryError, check_counts, held_back_split, read_history
from call_routing.taxonomy import default_taxonomy
from sip_config import load_settings
from tests.support.nodes import HOTLINE, REPO

HOTLINE_DATA = REPO.parent / "shared" / "data" / "hotline"
HISTORY = HOTLINE_DATA / "tipdm2020_segmented_train.csv"
DEV = HOTLINE_DATA / "tipdm2020_messages_dev.csv"
PER_LABEL = 70  # a sample that trains in seconds and still learns the categories


def hotline(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HOTLINE), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first rows of each label of the city's history (tokens,label)."""
    taken: dict[str, int] = {}
    rows = []
    with HISTORY.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if taken.get(row["label"], 0) < PER_LABEL:
                taken[row["label"]] = taken.get(row["label"], 0) + 1
                rows.append((row["tokens"], row["label"]))
    path = tmp_path_factory.mktemp("history") / "history.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tokens", "label"])
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def city_model(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("city-model")
    trained = hotline("nlu", "train", "--history", str(sample), "--out", str(out))
    assert trained.returncode == 0, trained.stderr
    return out, trained.stdout


def test_a_history_model_is_trained_reported_and_written(city_model: tuple[Path, str]) -> None:
    out, report = city_model
    meta = json.loads((out / nlu_model.META_FILE).read_text(encoding="utf-8"))
    assert meta["kind"] == "history" and meta["format"] == nlu_model.FORMAT
    assert sorted(meta["domains"]) == sorted(meta["counts"]) and len(meta["domains"]) == 7
    assert all(n == PER_LABEL for n in meta["counts"].values())
    held = meta["held_back"]
    assert held["rows"] == 7 * round(PER_LABEL * 0.1)
    # the city's own labels are learned better than the shipped model knows them
    assert held["accuracy"] >= held["replaced"] and held["accuracy"] >= 0.6, held
    for label in meta["counts"]:
        assert label in report  # the per-label table
    assert "held back" in report and (out / nlu_model.HELD_BACK_FILE).is_file()


def test_eval_and_route_use_the_model_given(city_model: tuple[Path, str]) -> None:
    out, _ = city_model
    with DEV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))[:60]
    dev = out.parent / "dev-sample.csv"
    with dev.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "text", "label"])
        writer.writerows((r["title"], r["text"], r["label"]) for r in rows)
    evaluated = hotline("nlu", "eval", str(dev), "--label", "domain", "--model", str(out), "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    assert report["n"] == len(rows) and report["mapping"] == {}  # its labels are the city's
    assert [p["label"] for p in report["predictions"]] == [r["label"] for r in rows]
    assert all(0 <= p["confidence"] <= 1 for p in report["predictions"])
    assert sum(map(sum, report["confusion_matrix"])) == len(rows)
    assert report["accuracy"] >= 0.5, report["accuracy"]

    shipped = hotline("nlu", "eval", str(dev), "--label", "domain", "--json")
    assert shipped.returncode == 0, shipped.stderr
    mapped = json.loads(shipped.stdout)
    assert mapped["mapping"]["市场监管"] == "商贸旅游"  # 13 domains onto the city's 7
    assert {p["predicted"] for p in mapped["predictions"]} <= {r["label"] for r in rows}

    routed = hotline("route", "--model", str(out), "--json", "小区物业乱收停车费还不开发票")
    assert routed.returncode == 0, routed.stderr
    data = json.loads(routed.stdout)
    meta = json.loads((out / nlu_model.META_FILE).read_text(encoding="utf-8"))
    assert data["domain"] in meta["domains"]
    assert data["categories"]["level1"] and data["categories"]["code"].startswith(
        data["categories"]["level1"]
    )


def test_a_worse_model_is_refused_unless_forced(tmp_path: Path) -> None:
    """One example a label cannot teach the other one held back; the shipped model
    gets these plain requests right, so the new model is the worse and is refused."""
    tiny = tmp_path / "tiny.csv"
    tiny.write_text(
        "text,label\n"
        "小区电梯坏了一个星期物业不修,城乡建设\n我家楼上卫生间漏水到我家天花板,城乡建设\n"
        "学校强制收取补课费,教育文体\n孩子读小学的学位申请不到,教育文体\n"
        "公交车司机不到站就不停车,交通运输\n出租车司机绕路多收钱还拒载,交通运输\n",
        encoding="utf-8",
    )
    out = tmp_path / "model"
    args = ["nlu", "train", "--history", str(tiny), "--out", str(out), "--held-back", "0.5"]
    refused = hotline(*args)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "--force" in refused.stderr and "worse" in refused.stderr
    assert not (out / nlu_model.MODEL_FILE).exists()
    forced = hotline(*args, "--force")
    assert forced.returncode == 0, forced.stderr
    assert (out / nlu_model.MODEL_FILE).is_file()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("words,label\n小区漏水,城乡建设\n", "no column text"),
        ("text,category\n小区漏水,城乡建设\n", "no column label"),
        ("text,label\n小区漏水,城乡建设\n电梯坏了,城乡建设\n学校收费,火星事务\n", "火星事务"),
        ("text,label\n小区漏水,城乡建设\n电梯坏了,城乡建设\n学校收费,教育文体\n", "教育文体 (1)"),
        ("text,label\n小区漏水,\n", "empty label"),
    ],
)
def test_a_bad_history_is_refused_with_the_reason(
    tmp_path: Path, content: str, message: str
) -> None:
    history = tmp_path / "history.csv"
    history.write_text(content, encoding="utf-8")
    refused = hotline("nlu", "train", "--history", str(history), "--out", str(tmp_path / "m"))
    assert refused.returncode == 2 and message in refused.stderr, refused.stderr
    assert not (tmp_path / "m" / nlu_model.MODEL_FILE).exists()


def test_history_reading_splitting_and_counts() -> None:
    taxonomy = default_taxonomy()
    rows = read_history(
        "tokens,label\n小区 物业,城乡建设\n 公交 ,交通运输\n,城乡建设\n治安 问题,社会治安\n",
        "h.csv",
        taxonomy,
    )
    assert [r.label for r in rows] == ["城乡建设", "交通运输", "公安政法/社会治安"]
    assert rows[0].source == "h.csv:2"
    with pytest.raises(HistoryError, match="at least 2"):
        check_counts(rows)
    many = [r for r in rows for _ in range(10)]
    train, held = held_back_split(many, 0.2)
    assert len(held) == 6 and len(train) == 24
    assert held_back_split(many, 0.2) == (train, held)  # the same split every time


def test_routing_model_is_checked_at_start(city_model: tuple[Path, str], tmp_path: Path) -> None:
    from ivr.node.preflight import PreflightError, check_understanding

    out, _ = city_model
    good = load_settings(None, {"routing": {"model": str(out)}})
    check_understanding(good)  # no error
    shipped = (REPO / "call_routing" / "taxonomy.toml").read_text(encoding="utf-8")
    other = tmp_path / "taxonomy.toml"
    other.write_text(shipped.replace('[domains."交通运输"]', '[domains."交通"]'), "utf-8")
    mismatched = load_settings(None, {"routing": {"model": str(out), "taxonomy": str(other)}})
    with pytest.raises(PreflightError, match=r"routing\.model .*another taxonomy.*交通运输"):
        check_understanding(mismatched)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / nlu_model.MODEL_FILE).write_bytes(b"not a model")
    (broken / nlu_model.META_FILE).write_text(json.dumps({"format": nlu_model.FORMAT}), "utf-8")
    with pytest.raises(PreflightError, match="routing.model.*train it again"):
        check_understanding(load_settings(None, {"routing": {"model": str(broken)}}))
