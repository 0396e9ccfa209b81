"""系统繁忙 where people look: the wallboard says the node is refusing new calls and
how many, ``/metrics`` counts them by why, ``hotline status`` prints them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ivr.cli.serve import print_admission
from tests.support.desk import Desk
from tests.support.seating import settings
from tests.support.web_roles import as_role
from web.roles import Role

SUPERVISOR = as_role(Role.SUPERVISOR)
SHEDDING = {
    "state": "shedding",
    "admit_pct": 25,
    "reason": "workers refused calls the hub answered too late",
    "hub_p90_s": 2.4,
    "cpu": 0.99,
    "refused": {"rate": 0, "load": 31, "hub_slow": 9, "full": 2},
    "refused_total": 42,
}


@pytest.fixture
def board(tmp_path: Path) -> Iterator[Desk]:
    base = settings()
    config = base.model_copy(
        update={"node": base.node.model_copy(update={"data_dir": tmp_path / "data"})}
    )
    made = Desk(tmp_path, config)
    with made.client:
        yield made
    made.store.close()


def write_node_status(board: Desk, admission: dict[str, Any] | None) -> None:
    run = board.context.settings.run_dir
    run.mkdir(parents=True, exist_ok=True)
    status: dict[str, Any] = {"parts": []}
    if admission is not None:
        status["admission"] = admission
    (run / "node.json").write_text(json.dumps(status), encoding="utf-8")


def system(board: Desk) -> dict[str, Any]:
    response = board.client.get("/api/wallboard", headers=SUPERVISOR)
    assert response.status_code == 200, response.text
    return response.json()["system"]


def test_the_wallboard_says_when_the_node_is_shedding_and_how_many_it_refused(
    board: Desk,
) -> None:
    write_node_status(board, None)  # before the supervisor measured anything
    assert system(board) == {
        "busy": False,
        "admit_pct": 100,
        "reason": "",
        "hub_p90_s": None,
        "refused": {},
        "refused_total": 0,
    }
    write_node_status(board, SHEDDING)
    shown = system(board)
    assert shown["busy"] is True and shown["admit_pct"] == 25
    assert shown["refused_total"] == 42 and shown["refused"]["load"] == 31
    write_node_status(board, {**SHEDDING, "state": "open", "admit_pct": 100})
    assert system(board)["busy"] is False
    assert system(board)["refused_total"] == 42, "the count stays once the peak is over"
    page = board.client.get("/wallboard", headers=SUPERVISOR).text
    assert 'id="system-busy"' in page and 'id="refused-total"' in page


def test_metrics_count_refused_calls_by_why_and_the_share_admitted(board: Desk) -> None:
    write_node_status(board, SHEDDING)
    text = board.client.get("/metrics", headers=SUPERVISOR).text
    assert 'hotline_calls_refused{reason="load"} 31.0' in text
    assert 'hotline_calls_refused{reason="hub_slow"} 9.0' in text
    assert 'hotline_calls_refused{reason="full"} 2.0' in text
    assert "hotline_admission_share 0.25" in text
    assert "hotline_hub_answer_latency_seconds 2.4" in text


def test_hotline_status_prints_shedding_with_its_reason_and_counts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_admission(SHEDDING)
    out = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert "shedding (系统繁忙)" in out and "admitting 25%" in out
    assert "hub answered too late" in out
    assert "refused since start: 42" in out and "saturated 31" in out
    print_admission({**SHEDDING, "state": "open", "admit_pct": 100})
    assert capsys.readouterr().out.startswith("admitting every new call")
    print_admission(None)  # an older supervisor wrote no admission: nothing said
    assert capsys.readouterr().out == ""
