"""Departments work a ticket through ``hotline tickets transition … --as USER`` with the
shipped example directory: dispatched, signed, answered and approved by the
department's users, closed by the centre; another department is refused; the sweep
past the deadline marks it overdue and records a 督办; the figures count it."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.cli import hotline_in_process, refused
from tickets.model import RequestType, TicketDraft
from tickets.store import TicketStore

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # a Monday, 17:00 in Guangzhou


def run(url: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "HOTLINE_TICKETS__DATABASE_URL": url,
        "HOTLINE_NODE__DATA_DIR": str(tmp / "data"),
        "COLUMNS": "200",
    }
    return hotline_in_process(*args, env=env)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def centre(tmp_path: Path) -> tuple[str, Path, str]:
    """A store with one accepted complaint and the users of two departments."""
    url = f"sqlite:///{tmp_path / 'tickets.db'}"
    with TicketStore(url) as store:
        ticket = store.intake(
            TicketDraft(
                caller_number="13800138000",
                request_type=RequestType.COMPLAINT,
                domain="环境保护",
                address="天河区石牌街道华师小区",
                content="小区旁工地每天夜里十一点后还在打桩，噪音很大",
                summary="工地夜间施工噪音扰民",
            ),
            T0,
        ).ticket
        store.transition(ticket.number, "accept", "agent-1", T0)
    for name, role, department in (
        ("boss", "supervisor", ""),
        ("eco-wang", "department_handler", "city.ecology"),
        ("eco-li", "department_reviewer", "生态环境局"),  # by its alias
        ("water-zhao", "department_handler", "city.water"),
    ):
        extra = ("--department", department) if department else ()
        ok(
            run(
                url,
                tmp_path,
                "users",
                "add",
                name,
                "--role",
                role,
                "--password",
                "Secret-123!",
                *extra,
            )
        )
    return url, tmp_path, ticket.number


def step(
    url: str, tmp: Path, number: str, action: str, user: str, *args: str, at: datetime
) -> dict:
    result = run(
        url,
        tmp,
        "tickets",
        "transition",
        number,
        action,
        "--as",
        user,
        "--now",
        at.isoformat(),
        "--json",
        *args,
    )
    return json.loads(ok(result))


def test_a_department_works_a_ticket_as_its_users_and_the_centre_closes_it(
    centre: tuple[str, Path, str],
) -> None:
    url, tmp, number = centre
    later = T0 + timedelta(minutes=10)
    sent = step(url, tmp, number, "dispatch", "boss", "--department", "city.ecology", at=later)
    assert sent["status"] == "dispatched"
    (lead,) = sent["assignments"]
    assert lead["department"] == "city.ecology" and lead["role"] == "lead"
    # dispatched at 17:10 Guangzhou time with 2 working hours to sign: 10:10 the next day
    assert datetime.fromisoformat(lead["due_at"]) == datetime(2026, 12, 8, 2, 10, tzinfo=UTC)

    # another department's user: the ticket does not exist for them
    refused(
        run(url, tmp, "tickets", "transition", number, "sign", "--as", "water-zhao"),
        f"there is no ticket {number}",
    )
    # the reviewer does not sign, the handler does not approve
    refused(
        run(url, tmp, "tickets", "transition", number, "sign", "--as", "eco-li"),
        "reviewer approves or returns the reply",
    )
    signed = step(url, tmp, number, "签收", "eco-wang", at=later + timedelta(hours=1))
    assert signed["status"] == "signed" and signed["assignments"][0]["signed_at"]
    drafted = step(
        url,
        tmp,
        number,
        "reply",
        "eco-wang",
        "--note",
        "12月8日现场检查，责令施工单位停止夜间打桩，已处罚款2万元。",
        at=later + timedelta(hours=2),
    )
    assert drafted["status"] == "reviewing"
    assert drafted["assessment"]["flag"] is False and drafted["assessment"]["score"] > 0.5
    assert drafted["review"]["reply_draft"]["text"].startswith("12月8日现场检查")
    refused(
        run(url, tmp, "tickets", "transition", number, "approve_reply", "--as", "eco-wang"),
        "may not approve_reply",
    )
    approved = step(url, tmp, number, "approve_reply", "eco-li", at=later + timedelta(hours=3))
    assert approved["status"] == "replied" and approved["reply"].startswith("12月8日")
    closed = step(url, tmp, number, "close", "boss", at=later + timedelta(hours=4))
    assert closed["status"] == "closed"
    trail = [e["action"] for e in closed["review"]["trail"]]
    assert trail == ["reply", "approve_reply", "close"]
    shown = json.loads(ok(run(url, tmp, "tickets", "show", number, "--json")))
    by = {e["action"]: e["actor"] for e in shown["history"]}
    assert by["sign"] == "eco-wang" and by["approve_reply"] == "eco-li"

    report = json.loads(
        ok(
            run(
                url,
                tmp,
                "report",
                "departments",
                "--from",
                "2026-12-01",
                "--to",
                "2026-12-31",
                "--json",
            )
        )
    )
    (eco,) = report["departments"]
    assert eco["department"] == "city.ecology" and eco["name"].endswith("生态环境局")
    assert eco["dispatched"] == 1 and eco["signed_on_time_rate"] == 1.0
    assert eco["closed_on_time_rate"] == 1.0 and eco["redo_rate"] == 0.0


def test_the_sweep_marks_an_overdue_ticket_and_records_a_supervision(
    centre: tuple[str, Path, str],
) -> None:
    url, tmp, number = centre
    step(url, tmp, number, "dispatch", "boss", "--department", "city.ecology", at=T0)
    step(url, tmp, number, "sign", "eco-wang", at=T0 + timedelta(minutes=5))
    due = json.loads(ok(run(url, tmp, "tickets", "show", number, "--json")))["due_date"]
    past = datetime.fromisoformat(due) + timedelta(days=3, hours=3)
    swept = json.loads(ok(run(url, tmp, "tickets", "sweep", "--now", past.isoformat(), "--json")))
    assert swept["overdue"] == [number]
    again = json.loads(ok(run(url, tmp, "tickets", "sweep", "--now", past.isoformat(), "--json")))
    assert again["overdue"] == [] and again["due_soon"] == []  # nothing twice
    shown = json.loads(
        ok(run(url, tmp, "tickets", "show", number, "--json", "--now", past.isoformat()))
    )
    actions = [e["action"] for e in shown["history"]]
    assert actions[-3:] == ["overdue", "urge", "supervise"]
    assert shown["flags"]["overdue_at"] and shown["flags"]["supervised"] is True
    assert not shown.get("assessment")  # nothing answered yet
    assert shown["deadlines"]["overdue"] is True and shown["deadlines"]["working_days_left"] < 0
    report = json.loads(
        ok(run(url, tmp, "report", "departments", "--now", past.isoformat(), "--json"))
    )
    assert report["departments"][0]["overdue_now"] == 1


def test_refusals_name_the_fix(centre: tuple[str, Path, str]) -> None:
    url, tmp, number = centre
    refused(
        run(url, tmp, "tickets", "transition", number, "sign"),
        "give --as USER",
    )
    refused(
        run(url, tmp, "tickets", "transition", number, "sign", "--as", "nobody"),
        "--as nobody: there is no such user",
    )
    refused(
        run(
            url,
            tmp,
            "users",
            "add",
            "x",
            "--role",
            "department_handler",
            "--password",
            "Secret-123!",
        ),
        "works for a department: give --department",
    )
    refused(
        run(
            url,
            tmp,
            "users",
            "add",
            "x",
            "--role",
            "department_handler",
            "--password",
            "Secret-123!",
            "--department",
            "生态局局",
        ),
        "--department 生态局局",
    )
    refused(
        run(url, tmp, "tickets", "sweep", "--now", "yesterday"),
        "give an ISO time",
    )
