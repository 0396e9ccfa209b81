"""`hotline departments list|show|check|suggest` (ivr/cli/departments.py) on the shipped
directory and on broken files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ivr.cli.app import app

SHIPPED = Path(__file__).resolve().parent.parent / "tickets" / "directory" / "guangzhou.toml"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("HOTLINE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "200")


def hotline(*args: str) -> Result:
    return CliRunner().invoke(app, ["departments", *args])


def test_list_json_has_every_department_with_depth() -> None:
    result = hotline("list", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    ids = [d["id"] for d in found]
    assert "city.housing" in ids and "community.tianhe.shipai.huashi" in ids
    assert len(ids) == len(set(ids))
    street = next(d for d in found if d["id"] == "street.tianhe.shipai")
    assert street["depth"] == 1 and street["parent"] == "district.tianhe"
    assert street["contacts"][0]["role"] == "值班电话"
    # depth first: a district's streets follow it
    assert ids.index("district.tianhe") < ids.index("street.tianhe.shipai")


def test_list_filters_by_level_and_under() -> None:
    districts = json.loads(hotline("list", "--level", "区", "--json").stdout)
    assert {d["id"] for d in districts} == {
        "district.tianhe",
        "district.yuexiu",
        "district.haizhu",
        "district.baiyun",
    }
    below = json.loads(hotline("list", "--under", "天河区", "--json").stdout)
    assert below and all(d["id"].split(".")[1] == "tianhe" for d in below)
    table = hotline("list", "--under", "district.tianhe")
    assert table.exit_code == 0, table.output
    assert "  community.tianhe.shipai.huashi" in table.stdout  # indented under its street
    assert "020-8000-2110" in table.stdout
    bad = hotline("list", "--level", "province")
    assert bad.exit_code == 2 and "--level province: choose one of" in bad.output


def test_show_a_department_by_alias() -> None:
    result = hotline("show", "住建局")
    assert result.exit_code == 0, result.output
    for fragment in ("city.housing", "广州市住房和城乡建设局", "08:30-12:00", "物业服务"):
        assert fragment in result.stdout, result.stdout
    street = json.loads(hotline("show", "石牌街道", "--json").stdout)
    assert [a["id"] for a in street["ancestors"]] == ["district.tianhe"]
    assert {c["id"] for c in street["children"]} >= {"community.tianhe.shipai.huashi"}
    fund = json.loads(hotline("show", "city.housing_fund", "--json").stdout)
    assert any(r["category"].endswith("住房公积金") for r in fund["rules"])


def test_show_an_unknown_department_names_near_ones() -> None:
    result = hotline("show", "住见局")
    assert result.exit_code == 2
    assert "住见局" in result.output and "住建局" in result.output


def test_check_the_configured_and_a_given_file(tmp_path: Path) -> None:
    result = hotline("check")
    assert result.exit_code == 0, result.output
    assert "departments," in result.stdout and "dispatch rules" in result.stdout
    config = tmp_path / "node.toml"
    copy = tmp_path / "departments.toml"
    copy.write_text(SHIPPED.read_text(encoding="utf-8"), encoding="utf-8")
    config.write_text(f'[tickets]\ndepartments = "{copy}"\n', encoding="utf-8")
    configured = hotline("check", "--config", str(config))
    assert configured.exit_code == 0 and str(copy) in configured.stdout


def test_check_a_broken_file_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "departments.toml"
    text = SHIPPED.read_text(encoding="utf-8")
    text = text.replace('lead = "city.general_office"', 'lead = "city.general_offic"', 1)
    text = text.replace('level = "street"', 'level = "town"', 1)
    broken.write_text(text, encoding="utf-8")
    result = hotline("check", str(broken))
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert "Traceback" not in output
    assert "].lead: city.general_offic is no department of this file" in output
    assert "did you mean city.general_office" in output
    assert "].level: 'town': use one of" in output


def test_check_warns_of_a_level1_without_a_rule(tmp_path: Path) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    start = text.index('[[dispatch]]\ncategory = "纪检监察"')
    end = text.index("[[dispatch]]", start + 1)
    partial = tmp_path / "departments.toml"
    partial.write_text(text[:start] + text[end:], encoding="utf-8")
    result = hotline("check", str(partial))
    assert result.exit_code == 0, result.output
    assert "warning: no dispatch rule for 纪检监察" in result.stderr


def test_suggest_for_an_estate_in_a_street() -> None:
    result = hotline(
        "suggest",
        "--category",
        "城乡建设/住房保障与房地产/物业服务",
        "--address",
        "天河区石牌街道华师小区",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["lead"]["id"] == "street.tianhe.shipai"
    assert [c["id"] for c in data["co"]] == ["city.housing"]
    assert data["location"]["community"] == "community.tianhe.shipai.huashi"
    assert "第" in data["rule"]
    table = hotline("suggest", "--category", "城乡建设/物业管理", "--address", "天河区")
    assert table.exit_code == 0, table.output
    assert "广州市住房和城乡建设局" in table.stdout
    assert "not a category of the tree; matched on 城乡建设" in " ".join(table.stderr.split())
    nothing = json.loads(hotline("suggest", "--category", "外星", "--json").stdout)
    assert nothing["lead"] is None and "请派单员选择" in nothing["rule"]
