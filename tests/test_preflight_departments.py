"""``tickets.departments`` in the settings and its start-up check
(ivr/node/preflight.py ``check_departments``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ivr.node.preflight import PreflightError, check_departments
from sip_config import ConfigError, load_settings

SHIPPED = Path(__file__).resolve().parent.parent / "tickets" / "directory" / "guangzhou.toml"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("HOTLINE_")]:
        monkeypatch.delenv(name)


def test_the_setting_is_a_file_or_empty(tmp_path: Path) -> None:
    assert load_settings(None).tickets.departments is None
    assert load_settings(None, {"tickets.departments": ""}).tickets.departments is None
    chosen = load_settings(None, {"tickets.departments": str(SHIPPED)})
    assert chosen.tickets.departments == SHIPPED
    with pytest.raises(ConfigError, match=r"tickets\.departments.*no such file"):
        load_settings(None, {"tickets.departments": str(tmp_path / "missing.toml")})


def test_the_shipped_and_a_copied_directory_pass() -> None:
    check_departments(load_settings(None))
    check_departments(load_settings(None, {"tickets.departments": str(SHIPPED)}))


def test_a_broken_directory_stops_start_up_naming_key_problem_and_fix(tmp_path: Path) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    broken = tmp_path / "departments.toml"
    broken.write_text(
        text.replace('parent = "district.tianhe"', 'parent = "district.tianhee"', 1).replace(
            'category = "党务政务"', 'category = "党务"', 1
        ),
        encoding="utf-8",
    )
    settings = load_settings(None, {"tickets.departments": str(broken)})
    with pytest.raises(PreflightError) as caught:
        check_departments(settings)
    message = str(caught.value)
    assert message.startswith(f"tickets.departments ({broken}) cannot be used")
    assert ".parent: district.tianhee: no such department: did you mean district.tianhe?" in (
        message
    )
    assert ".category: 党务 is not a category of the tree" in message


def test_the_shipped_directory_against_another_tree_says_to_write_one(tmp_path: Path) -> None:
    tree = tmp_path / "city.csv"
    tree.write_text(
        "level1,level2,level3\n"
        + "".join(f"{d},其他,其他\n" for d in _domains())
        + "城乡建设,物业,其他\n",
        encoding="utf-8",
    )
    settings = load_settings(None, {"routing.categories": str(tree)})
    with pytest.raises(PreflightError, match="written for routing.categories"):
        check_departments(settings)


def _domains() -> list[str]:
    from call_routing.taxonomy import default_taxonomy

    return list(default_taxonomy().domains)
