"""`hotline verification list|call|pause|resume` and `hotline report verification`
against a temporary SQLite store (the hub places the calls; these commands work on
the database and the node's run directory)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.support.cli import hotline_in_process, refused
from tickets.lifecycle import Action
from tickets.model import Rating, Resolution, TicketDraft
from tickets.store import TicketStore
from tickets.verification_store import VerificationStore
from tickets.verification_tasks import AnswerSource, Attempt, AttemptOutcome, TaskState

LOCAL = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=LOCAL)

NODE_TOML = """
[verification]
enabled = true
trunk_uri = "sip:{number}@gw.example"
"""


@pytest.fixture
def node(tmp_path: Path) -> Path:
    (tmp_path / "node.toml").write_text(NODE_TOML, encoding="utf-8")
    return tmp_path


def hotline(node: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return hotline_in_process(
        *args, "-c", str(node / "node.toml"), "--data-dir", str(node / "data"),
        env={"COLUMNS": "200"},
    )  # fmt: skip


def store_of(node: Path) -> TicketStore:
    (node / "data").mkdir(exist_ok=True)
    return TicketStore(f"sqlite:///{node / 'data' / 'tickets.db'}")


def closed(node: Path, caller: str = "13800138000", close: bool = True) -> str:
    at = MONDAY_10 - timedelta(hours=8)
    with store_of(node) as store:
        ticket = store.create(
            TicketDraft(caller_number=caller, content="路灯坏了", summary="小区门口路灯损坏"), at
        )
        steps = [
            (Action.ACCEPT, {}),
            (Action.DISPATCH, {"department": "city.urban_management"}),
            (Action.SIGN, {}),
            (Action.START, {}),
            (Action.REPLY, {"note": "已修复"}),
            (Action.APPROVE_REPLY, {}),
        ]
        if close:
            steps.append((Action.CLOSE, {}))
        for action, options in steps:
            at += timedelta(minutes=30)
            store.transition(ticket.number, action, "someone", at, **options)
    return ticket.number


def listed(node: Path, *args: str) -> list[dict]:
    result = hotline(node, "verification", "list", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["tasks"]


def test_call_plans_the_round_and_schedules_it_now(node: Path) -> None:
    number = closed(node)
    result = hotline(node, "verification", "call", number, "--now", MONDAY_10.isoformat())
    assert result.returncode == 0, result.stderr
    assert "13800138000 will be called now" in result.stdout
    [task] = listed(node, "--ticket", number)
    assert task["state"] == "scheduled" and task["kind"] == "call"
    assert datetime.fromisoformat(task["next_at"]) == MONDAY_10
    due = listed(node, "--due", "--now", (MONDAY_10 + timedelta(seconds=1)).isoformat())
    assert [t["ticket"] for t in due] == [number]


def test_call_outside_the_calling_hours_needs_force(node: Path) -> None:
    number = closed(node)
    night = MONDAY_10.replace(hour=22).isoformat()
    refused(
        hotline(node, "verification", "call", number, "--now", night),
        "outside the calling hours",
        "2026-12-08 09:00",
        "--force",
    )
    assert listed(node, "--ticket", number) == []  # nothing planned by a refusal
    forced = hotline(node, "verification", "call", number, "--now", night, "--force")
    assert forced.returncode == 0, forced.stderr
    with store_of(node) as store:
        [task] = VerificationStore(store).for_ticket(number)
    assert task.forced and task.state is TaskState.SCHEDULED


def test_call_refuses_an_open_or_unknown_ticket(node: Path) -> None:
    open_ticket = closed(node, close=False)
    at = MONDAY_10.isoformat()
    refused(hotline(node, "verification", "call", open_ticket, "--now", at), "答复", "办结")
    refused(
        hotline(node, "verification", "call", "GD12345-20261207-999999", "--now", at),
        "there is no ticket",
    )


def test_a_task_left_with_a_person_can_be_called_again(node: Path) -> None:
    number = closed(node)
    hotline(node, "verification", "call", number, "--now", MONDAY_10.isoformat())
    with store_of(node) as store:
        tasks = VerificationStore(store)
        [task] = tasks.for_ticket(number)
        tasks.save(dataclasses.replace(task, state=TaskState.NEEDS_PERSON, next_at=None))
    assert [t["state"] for t in listed(node, "--person")] == ["needs_person"]
    later = (MONDAY_10 + timedelta(hours=1)).isoformat()
    assert hotline(node, "verification", "call", number, "--now", later).returncode == 0
    assert [t["state"] for t in listed(node, "--ticket", number)] == ["scheduled"]


def test_pause_and_resume_leave_and_remove_the_pause_file(node: Path) -> None:
    paused = node / "data" / "run" / "verification.paused"
    assert hotline(node, "verification", "pause").returncode == 0
    assert paused.is_file()
    assert hotline(node, "verification", "resume").returncode == 0
    assert not paused.exists()


def test_the_report_counts_answers_by_department(node: Path) -> None:
    satisfied, unhappy = closed(node), closed(node, caller="13900139000")
    for number in (satisfied, unhappy):
        hotline(node, "verification", "call", number, "--now", MONDAY_10.isoformat())
    with store_of(node) as store:
        tasks = VerificationStore(store)
        for number, rating, source in (
            (satisfied, Rating.SATISFIED, AnswerSource.KEY),
            (unhappy, Rating.VERY_DISSATISFIED, AnswerSource.VOICE),
        ):
            [task] = tasks.for_ticket(number)
            attempt = Attempt(MONDAY_10, AttemptOutcome.COMPLETED, "c", "system", "", MONDAY_10)
            answered = dataclasses.replace(
                task,
                state=TaskState.DONE,
                attempts=(attempt,),
                resolution=Resolution.SOLVED if rating.is_satisfied else Resolution.UNSOLVED,
                rating=rating,
                rating_source=source,
                resolution_source=source,
            )
            tasks.save(answered)
    result = hotline(
        node, "report", "verification", "--from", "2026-12-01", "--to", "2026-12-31", "--json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    total = report["total"]
    assert (total["due"], total["answered"], total["rated"], total["bad_ratings"]) == (2, 2, 2, 1)
    assert total["satisfaction_rate"] == 0.5 and total["solved_rate"] == 0.5
    assert (total["ratings_by_key"], total["ratings_by_voice"]) == (1, 1)
    assert list(report["departments"]) == ["广州市城市管理和综合执法局"]
    table = hotline(node, "report", "verification", "--from", "2026-12-01", "--to", "2026-12-31")
    assert "回访率" in table.stdout and "广州市城市管理和综合执法局" in table.stdout


def test_the_report_refuses_a_bad_period(node: Path) -> None:
    refused(hotline(node, "report", "verification", "--from", "12/01"), "--from", "YYYY-MM-DD")
    refused(
        hotline(node, "report", "verification", "--from", "2026-12-09", "--to", "2026-12-01"),
        "is before",
    )
