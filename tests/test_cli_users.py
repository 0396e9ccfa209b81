"""`hotline users …` (ivr.cli.users.users_app) against a temporary SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ivr.cli.users import users_app
from web.accounts import Accounts, LoginOutcome
from web.roles import Role


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    import os

    for name in [n for n in os.environ if n.startswith("HOTLINE_")]:
        monkeypatch.delenv(name)
    database = f"sqlite:///{tmp_path / 'hotline.db'}"
    monkeypatch.setenv("HOTLINE_TICKETS__DATABASE_URL", database)
    monkeypatch.setenv("COLUMNS", "200")
    return database


def users(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(users_app, list(args), input=input)


def login(url: str, username: str, password: str) -> LoginOutcome:
    with Accounts(url) as accounts:
        return accounts.login(username, password).outcome


def test_add_with_a_password_then_log_in(url: str) -> None:
    result = users(
        "add", "zhang", "--role", "agent", "--agent-id", "1001", "--display-name", "张三",
        "--password", "secret-123",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "added zhang (agent, agent 1001)" in result.output
    assert "password:" not in result.output
    assert login(url, "zhang", "secret-123") is LoginOutcome.OK
    with Accounts(url) as accounts:
        user = accounts.get_user("zhang")
        assert (user.display_name, user.role, user.agent_id) == ("张三", Role.AGENT, "1001")
        entry = accounts.audit.entries(action="user.add")[0]
    assert entry.username.startswith("cli:") and entry.target == "zhang"


def test_add_without_a_password_prints_a_generated_one_once(url: str) -> None:
    result = users("add", "li", "--role", "qa")
    assert result.exit_code == 0, result.output
    password = result.output.split("password: ")[1].split()[0]
    assert len(password) == 16
    assert login(url, "li", password) is LoginOutcome.OK


def test_add_refuses_bad_input(url: str, tmp_path: Path) -> None:
    assert users("add", "li", "--role", "boss", "--password", "secret-123").exit_code == 2
    no_agent_id = users("add", "zhang", "--role", "agent", "--password", "secret-123")
    assert no_agent_id.exit_code == 2 and "needs --agent-id" in no_agent_id.output
    weak = users("add", "li", "--role", "qa", "--password", "short")
    assert weak.exit_code == 2 and "at least 8" in weak.output
    assert users("add", "li", "--role", "qa", "--password", "secret-123").exit_code == 0
    taken = users("add", "li", "--role", "qa", "--password", "secret-123")
    assert taken.exit_code == 2 and "exists already" in taken.output
    config = tmp_path / "node.toml"
    config.write_text(
        '[[agents]]\nid = "1001"\npassword = "pw"\nseat_groups = ["综合"]\n', encoding="utf-8"
    )
    unknown = users(
        "add", "wang", "--role", "agent", "--agent-id", "1009", "--password", "secret-123",
        "--config", str(config),
    )  # fmt: skip
    assert unknown.exit_code == 2 and "not in [[agents]] (known: 1001)" in unknown.output
    known = users(
        "add", "wang", "--role", "agent", "--agent-id", "1001", "--password", "secret-123",
        "--config", str(config),
    )  # fmt: skip
    assert known.exit_code == 0, known.output
    assert "Traceback" not in unknown.output + taken.output + weak.output


def test_passwd_disable_enable(url: str) -> None:
    users("add", "li", "--role", "qa", "--password", "secret-123")
    with Accounts(url) as accounts:
        session = accounts.login("li", "secret-123")
    changed = users("passwd", "li", "--password", "secret-456")
    assert changed.exit_code == 0 and "sessions ended" in changed.output
    assert login(url, "li", "secret-123") is LoginOutcome.WRONG
    assert login(url, "li", "secret-456") is LoginOutcome.OK
    with Accounts(url) as accounts:
        assert accounts.session(session.session_token) is None
    generated = users("passwd", "li", "--generate")
    assert login(url, "li", generated.output.split("password: ")[1].split()[0]) is LoginOutcome.OK
    assert users("disable", "li").exit_code == 0
    assert login(url, "li", "secret-456") is not LoginOutcome.OK
    assert users("enable", "li").exit_code == 0
    missing = users("passwd", "nobody", "--password", "secret-456")
    assert missing.exit_code == 2 and "no user 'nobody'" in missing.output
    assert users("disable", "nobody").exit_code == 2
    with Accounts(url) as accounts:
        actions = [e.action for e in reversed(accounts.audit.entries()) if e.target == "li"]
    assert actions == ["user.add", "user.passwd", "user.passwd", "user.disable", "user.enable"]


def test_list_shows_roles_and_states(url: str) -> None:
    users("add", "zhang", "--role", "agent", "--agent-id", "1001", "--password", "secret-123")
    users("add", "root", "--role", "admin", "--password", "secret-123")
    users("disable", "root")
    table = users("list")
    assert table.exit_code == 0
    assert "zhang" in table.output and "1001" in table.output and "disabled" in table.output
    rows = json.loads(users("list", "--json").output)
    assert [(r["username"], r["role"], r["agent_id"], r["disabled"]) for r in rows] == [
        ("zhang", "agent", "1001", False),
        ("root", "admin", "", True),
    ]


def test_the_must_change_flag_is_set_cleared_and_listed(url: str) -> None:
    def flags() -> dict[str, bool]:
        rows = json.loads(users("list", "--json").output)
        return {row["username"]: row["must_change_password"] for row in rows}

    assert users("add", "li", "--role", "qa", "--password", "secret-123").exit_code == 0
    added = users("add", "wu", "--role", "qa", "--password", "secret-123", "--must-change")
    assert added.exit_code == 0 and "must change the password at sign-in" in added.output
    assert flags() == {"li": False, "wu": True}  # --no-must-change is the default
    assert "must change password" in users("list").output
    reset = users("passwd", "li", "--password", "secret-456", "--must-change")
    assert reset.exit_code == 0 and "to be changed at the next sign-in" in reset.output
    assert users("passwd", "wu", "--password", "secret-456", "--no-must-change").exit_code == 0
    assert flags() == {"li": True, "wu": False}
    with Accounts(url) as accounts:
        entry = accounts.audit.entries(action="user.passwd", target="li")[0]
        assert entry.detail == {"must_change_password": True}
        assert accounts.get_user("li").must_change_password
    assert login(url, "li", "secret-456") is LoginOutcome.OK  # signs in, then is held


def test_api_tokens_are_printed_once_and_revocable(url: str) -> None:
    users("add", "crm", "--role", "supervisor", "--password", "secret-123")
    made = users("token", "crm", "--label", "工单系统")
    assert made.exit_code == 0, made.output
    token = [line for line in made.output.splitlines() if line.startswith("hl_")][0]
    with Accounts(url) as accounts:
        principal = accounts.token_principal(token)
        assert principal is not None and principal.username == "crm"
    listed = users("tokens", "crm")
    assert "工单系统" in listed.output and token not in listed.output
    assert users("revoke-token", "1").exit_code == 0
    with Accounts(url) as accounts:
        assert accounts.token_principal(token) is None
        assert [e.action for e in accounts.audit.entries(target="crm")][:2] == [
            "token.revoke",
            "token.create",
        ]
    assert users("revoke-token", "99").exit_code == 2
    assert users("token", "nobody").exit_code == 2


def test_a_bad_database_url_is_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_TICKETS__DATABASE_URL", "mysql://nowhere/db")
    result = users("list")
    assert result.exit_code == 2 and "Traceback" not in result.output
