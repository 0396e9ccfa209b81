"""ivr.node.logs: the node's output is its own JSON lines; Alembic stays quiet at info.

Each case runs in a subprocess: ``configure`` replaces the root logger's handlers,
which pytest's own capture must keep."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.nodes import HOTLINE

ROOT = Path(__file__).resolve().parent.parent
# What Alembic logs at info on every start, and what a fileConfig would bring back.
ALEMBIC_LINES = ("setup plugin", "Context impl", "Will assume transactional DDL", "Running upgrade")

MIGRATE_EVERY_STORE = """
import sys
from ivr.node.logs import configure
from events.outbox import upgrade_database as events
from recordings.catalog import upgrade_database as recordings
from tickets.store import upgrade_database as tickets
from web.accounts.store import upgrade_database as accounts

configure("hub", sys.argv[2])
for upgrade in (tickets, events, recordings, accounts):
    upgrade(sys.argv[1])
"""


def migrate(url: str, level: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", MIGRATE_EVERY_STORE, url, level],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    return result.stderr.splitlines()


def test_migrations_log_only_the_nodes_lines_at_info(tmp_path: Path) -> None:
    lines = migrate(f"sqlite:///{tmp_path / 'node.db'}", "info")
    records = [json.loads(line) for line in lines]  # every line is one of ours
    assert not [r for r in records if r["msg"].startswith(ALEMBIC_LINES)], lines
    migrated = [r for r in records if r["msg"] == "database migrated"]
    assert {r["store"] for r in migrated} == {"tickets", "events", "recordings", "web"}
    assert all(r["level"] == "info" and r["part"] == "hub" for r in migrated)
    first = next(r for r in migrated if r["store"] == "tickets")
    assert first["from"] is None and first["to"] == "0001"


def test_an_up_to_date_database_logs_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'node.db'}"
    migrate(url, "info")
    assert migrate(url, "info") == []


def test_alembic_speaks_again_at_debug(tmp_path: Path) -> None:
    lines = migrate(f"sqlite:///{tmp_path / 'node.db'}", "debug")
    assert any("Will assume transactional DDL" in line for line in lines)


def test_no_migration_environment_configures_logging() -> None:
    for env in ROOT.glob("*/migrations/env.py"):
        assert "fileConfig" not in env.read_text() and "logging" not in env.read_text(), env


@pytest.mark.parametrize("args", [["tickets", "list"], ["tickets", "list", "--json"]])
def test_the_cli_on_a_new_database_prints_no_alembic_lines(tmp_path: Path, args: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_TICKETS__DATABASE_URL"] = f"sqlite:///{tmp_path / 'tickets.db'}"
    result = subprocess.run(
        [str(HOTLINE), *args], capture_output=True, text=True, timeout=60, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert not [marker for marker in ALEMBIC_LINES if marker in output], output
