"""web.accounts against SQLite and a real PostgreSQL: schema, users, lockouts,
sessions, API tokens, the first admin, and the audit of every change."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from argon2 import PasswordHasher
from sqlalchemy import inspect, select, text

from sip_config import Settings
from sip_config.settings import WebSection
from tickets.store import VERSION_TABLE as TICKETS_VERSION_TABLE
from tickets.store import TicketStore, make_engine
from web.accounts import (
    AccountError,
    Accounts,
    LoginOutcome,
    PasswordRefused,
    UnknownUser,
    WrongPassword,
    ensure_admin,
    open_accounts,
    upgrade_database,
)
from web.accounts.tables import MIGRATIONS, VERSION_TABLE, SessionRow, TokenRow, UserRow, WebBase
from web.audit import Actor
from web.roles import Role

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
WEB = WebSection(session_hours=8, login_attempts=3, lockout_minutes=15)
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # Argon2id, cheap for tests
WEB_TABLES = {"web_users", "web_sessions", "web_api_tokens", "web_audit", VERSION_TABLE}


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(url: str, clock: Clock) -> Iterator[Accounts]:
    with Accounts(url, WEB, clock=clock, hasher=FAST, ip_failures=50) as opened:
        yield opened


def test_migration_makes_its_own_tables_beside_the_tickets(url: str) -> None:
    engine = make_engine(url)
    try:
        assert inspect(engine).get_table_names() == []
        upgrade_database(url)
        assert set(inspect(engine).get_table_names()) == WEB_TABLES
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            assert context.get_current_revision() == "web0003"
            assert compare_metadata(context, WebBase.metadata) == []  # migrations match models
        with TicketStore(url):  # the tickets migrate the same database, untouched by ours
            pass
        upgrade_database(url)  # a second run changes nothing
        tables = set(inspect(engine).get_table_names())
        assert WEB_TABLES | {TICKETS_VERSION_TABLE, "tickets"} <= tables
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"version_table": TICKETS_VERSION_TABLE}
            )
            assert context.get_current_revision() is not None
    finally:
        engine.dispose()


def test_users_are_added_checked_and_listed(accounts: Accounts) -> None:
    agent = accounts.add_user(
        "zhang", Role.AGENT, "secret-123", display_name="张三", agent_id="1001"
    )
    assert (agent.username, agent.display_name, agent.role, agent.agent_id) == (
        "zhang",
        "张三",
        Role.AGENT,
        "1001",
    )
    assert agent.created_at == agent.updated_at == T0 and not agent.disabled
    qa = accounts.add_user("li", "qa", "secret-456")
    assert qa.display_name == "li"
    assert [u.username for u in accounts.users()] == ["zhang", "li"]
    assert accounts.get_user("li") == qa
    with pytest.raises(AccountError, match="exists already"):
        accounts.add_user("zhang", Role.QA, "secret-789")
    with pytest.raises(AccountError, match="needs --agent-id"):
        accounts.add_user("wang", Role.AGENT, "secret-789")
    with pytest.raises(AccountError, match="only agents have an agent id"):
        accounts.add_user("wang", Role.QA, "secret-789", agent_id="1002")
    with pytest.raises(AccountError, match="at least 8"):
        accounts.add_user("wang", Role.QA, "short")
    with pytest.raises(AccountError, match="no username"):
        accounts.add_user("wang wu", Role.QA, "secret-789")
    with pytest.raises(ValueError):
        accounts.add_user("wang", "boss", "secret-789")
    with pytest.raises(UnknownUser):
        accounts.get_user("nobody")
    assert not accounts.has_admin()


def test_passwords_are_argon2id_hashes(accounts: Accounts) -> None:
    accounts.add_user("li", Role.QA, "secret-456")
    with accounts._sessions() as session:
        stored = session.scalars(select(UserRow.password_hash)).one()
    assert stored.startswith("$argon2id$") and "secret-456" not in stored


def test_login_right_and_wrong(accounts: Accounts) -> None:
    accounts.add_user("zhang", Role.AGENT, "secret-123", agent_id="1001")
    wrong = accounts.login("zhang", "secret-999", "10.0.0.1")
    assert wrong.outcome is LoginOutcome.WRONG and not wrong.session_token
    right = accounts.login("zhang", "secret-123", "10.0.0.1")
    assert right.outcome is LoginOutcome.OK
    assert right.user is not None and right.user.role is Role.AGENT
    assert right.expires_at == T0 + timedelta(hours=8)
    info = accounts.session(right.session_token)
    assert info is not None and info.csrf_token == right.csrf_token
    assert (info.principal.username, info.principal.agent_id, info.principal.via) == (
        "zhang",
        "1001",
        "session",
    )
    assert accounts.get_user("zhang").failed_attempts == 0  # a success clears the count
    with accounts._sessions() as session:
        row = session.scalars(select(SessionRow)).one()
    assert row.token_hash != right.session_token  # only the hash is stored
    assert accounts.login("nobody", "secret-123").outcome is LoginOutcome.WRONG
    assert accounts.session("made-up") is None


def test_wrong_passwords_lock_the_account_even_for_the_right_one(
    accounts: Accounts, clock: Clock
) -> None:
    accounts.add_user("zhang", Role.AGENT, "secret-123", agent_id="1001")
    outcomes = [accounts.login("zhang", "guess", "10.0.0.1").outcome for _ in range(3)]
    assert outcomes == [LoginOutcome.WRONG, LoginOutcome.WRONG, LoginOutcome.LOCKED]
    assert accounts.get_user("zhang").locked_until == T0 + timedelta(minutes=15)
    clock.advance(minutes=14)
    locked = accounts.login("zhang", "secret-123", "10.0.0.1")
    assert locked.outcome is LoginOutcome.LOCKED and not locked.session_token
    assert locked.until == T0 + timedelta(minutes=15)
    clock.advance(minutes=1, seconds=1)
    assert accounts.login("zhang", "secret-123", "10.0.0.1").outcome is LoginOutcome.OK
    # after the lockout the count starts again from zero
    assert accounts.login("zhang", "guess").outcome is LoginOutcome.WRONG
    assert accounts.login("zhang", "guess").outcome is LoginOutcome.WRONG
    assert accounts.login("zhang", "secret-123").outcome is LoginOutcome.OK


def test_unknown_usernames_lock_like_real_ones(accounts: Accounts, clock: Clock) -> None:
    outcomes = [accounts.login("ghost", "guess").outcome for _ in range(4)]
    assert outcomes == [LoginOutcome.WRONG, LoginOutcome.WRONG] + [LoginOutcome.LOCKED] * 2
    clock.advance(minutes=16)
    assert accounts.login("ghost", "guess").outcome is LoginOutcome.WRONG


def test_a_new_password_lifts_the_lock_and_ends_sessions(accounts: Accounts) -> None:
    accounts.add_user("zhang", Role.AGENT, "secret-123", agent_id="1001")
    session = accounts.login("zhang", "secret-123")
    for _ in range(3):
        accounts.login("zhang", "guess")
    assert accounts.login("zhang", "secret-123").outcome is LoginOutcome.LOCKED
    accounts.set_password("zhang", "secret-456")
    assert accounts.session(session.session_token) is None
    assert accounts.login("zhang", "secret-123").outcome is LoginOutcome.WRONG
    assert accounts.login("zhang", "secret-456").outcome is LoginOutcome.OK
    with pytest.raises(AccountError, match="at least 8"):
        accounts.set_password("zhang", "short")
    with pytest.raises(UnknownUser):
        accounts.set_password("nobody", "secret-456")


def test_a_disabled_user_is_signed_out_and_refused(accounts: Accounts) -> None:
    accounts.add_user("zhang", Role.AGENT, "secret-123", agent_id="1001")
    session = accounts.login("zhang", "secret-123")
    _, token = accounts.create_token("zhang")
    accounts.set_disabled("zhang")
    assert accounts.session(session.session_token) is None
    assert accounts.token_principal(token) is None
    assert accounts.login("zhang", "secret-123").outcome is LoginOutcome.DISABLED
    assert accounts.login("zhang", "guess").outcome is LoginOutcome.WRONG  # says nothing more
    accounts.set_disabled("zhang", False)
    assert accounts.login("zhang", "secret-123").outcome is LoginOutcome.OK
    assert accounts.token_principal(token) is not None


def test_sessions_expire_and_end_at_logout(accounts: Accounts, clock: Clock) -> None:
    accounts.add_user("li", Role.QA, "secret-456")
    first = accounts.login("li", "secret-456")
    second = accounts.login("li", "secret-456")
    assert accounts.logout(first.session_token, "10.0.0.2")
    assert not accounts.logout(first.session_token)
    assert accounts.session(first.session_token) is None
    assert accounts.session(second.session_token) is not None  # other sessions stay
    clock.advance(hours=8)
    assert accounts.session(second.session_token) is None
    accounts.login("li", "secret-456")  # a login clears expired rows
    with accounts._sessions() as session:
        assert len(session.scalars(select(SessionRow)).all()) == 1


def test_api_tokens_are_shown_once_stored_hashed_and_revocable(
    accounts: Accounts, clock: Clock
) -> None:
    accounts.add_user("crm", Role.SUPERVISOR, "secret-crm-1")
    record, token = accounts.create_token("crm", "工单系统")
    assert token.startswith("hl_") and record.username == "crm" and record.label == "工单系统"
    with accounts._sessions() as session:
        stored = session.scalars(select(TokenRow.token_hash)).one()
    assert token not in stored
    principal = accounts.token_principal(token)
    assert principal is not None
    assert (principal.username, principal.role, principal.via) == ("crm", Role.SUPERVISOR, "token")
    assert accounts.tokens("crm")[0].last_used_at == T0
    assert accounts.token_principal(token + "x") is None
    clock.advance(minutes=5)
    revoked = accounts.revoke_token(record.id)
    assert revoked.revoked_at == T0 + timedelta(minutes=5)
    assert accounts.token_principal(token) is None
    with pytest.raises(UnknownUser):
        accounts.revoke_token(999)
    with pytest.raises(UnknownUser):
        accounts.create_token("nobody")


def test_too_many_failures_from_one_address_are_throttled(url: str, clock: Clock) -> None:
    with Accounts(url, WEB, clock=clock, hasher=FAST, ip_failures=4) as accounts:
        accounts.add_user("li", Role.QA, "secret-456")
        for name in ("a", "b", "c", "d"):
            assert accounts.login(name, "guess", "10.9.9.9").outcome is LoginOutcome.WRONG
        throttled = accounts.login("li", "secret-456", "10.9.9.9")
        assert throttled.outcome is LoginOutcome.THROTTLED
        assert throttled.until == T0 + timedelta(minutes=10)
        assert accounts.login("li", "secret-456", "10.1.1.1").outcome is LoginOutcome.OK
        clock.advance(minutes=10)
        assert accounts.login("li", "secret-456", "10.9.9.9").outcome is LoginOutcome.OK


def test_concurrent_wrong_passwords_are_all_counted(url: str, clock: Clock) -> None:
    web = WebSection(login_attempts=100)
    with Accounts(url, web, clock=clock, hasher=FAST, ip_failures=100) as accounts:
        accounts.add_user("zhang", Role.AGENT, "secret-123", agent_id="1001")
        threads = [
            threading.Thread(target=accounts.login, args=("zhang", "guess")) for _ in range(12)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert accounts.get_user("zhang").failed_attempts == 12


def test_every_change_and_login_is_audited(accounts: Accounts) -> None:
    admin = Actor("root", "admin", "10.0.0.9")
    accounts.add_user("zhang", Role.AGENT, "secret-123", agent_id="1001", actor=admin)
    accounts.login("zhang", "guess", "10.0.0.1")
    session = accounts.login("zhang", "secret-123", "10.0.0.1")
    accounts.logout(session.session_token, "10.0.0.1")
    accounts.set_password("zhang", "secret-456", actor=admin)
    accounts.set_disabled("zhang", actor=admin)
    accounts.set_disabled("zhang", False, actor=admin)
    record, token = accounts.create_token("zhang", "crm", actor=admin)
    accounts.revoke_token(record.id, actor=admin)
    accounts.login("nobody", "guess", "10.0.0.7")
    entries = list(reversed(accounts.audit.entries()))
    assert [(e.action, e.username, e.target) for e in entries] == [
        ("user.add", "root", "zhang"),
        ("login.failed", "zhang", ""),
        ("login", "zhang", ""),
        ("logout", "zhang", ""),
        ("user.passwd", "root", "zhang"),
        ("user.disable", "root", "zhang"),
        ("user.enable", "root", "zhang"),
        ("token.create", "root", "zhang"),
        ("token.revoke", "root", "zhang"),
        ("login.failed", "nobody", ""),
    ]
    assert entries[0].detail == {
        "role": "agent",
        "agent_id": "1001",
        "display_name": "zhang",
        "must_change_password": False,
        "department": "",
    }
    assert entries[4].detail == {"must_change_password": False}
    assert entries[1].detail == {"reason": "wrong"} and entries[1].ip == "10.0.0.1"
    assert entries[2].role == "agent" and entries[0].role == "admin"
    assert entries[7].detail == {"token_id": record.id, "label": "crm"}
    assert all(token not in str(e) and "secret" not in str(e.detail) for e in entries)
    assert all(e.at == T0 for e in entries)
    assert [e.action for e in accounts.audit.entries(username="root", limit=2)] == [
        "token.revoke",
        "token.create",
    ]


def test_the_first_admin_gets_a_one_time_password(url: str) -> None:
    with Accounts(url, WEB, hasher=FAST) as accounts:
        accounts.add_user("admin", Role.QA, "secret-456")  # the name taken by someone else
        made = ensure_admin(accounts)
        assert made is not None
        name, password = made
        assert name == "admin-2" and len(password) >= 12
        assert accounts.get_user(name).role is Role.ADMIN
        assert accounts.get_user(name).must_change_password  # held at the password page
        assert accounts.login(name, password).outcome is LoginOutcome.OK
        assert ensure_admin(accounts) is None
        accounts.set_disabled(name)
        assert ensure_admin(accounts) is not None  # no enabled admin left: a new one


def test_open_accounts_prints_the_password_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(node={"data_dir": tmp_path})
    with caplog.at_level(logging.WARNING, logger="hub"):
        with open_accounts(settings, hasher=FAST) as accounts:
            assert accounts.has_admin()
        with open_accounts(settings, hasher=FAST):
            pass
    printed = capsys.readouterr().err
    assert printed.count("one-time password") == 1
    password = printed.split("one-time password ")[1].split()[0]
    assert [r.levelno for r in caplog.records if "one-time" in r.message] == [logging.WARNING]
    assert (tmp_path / "tickets.db").exists()  # the tickets' database, beside the tickets
    with Accounts.from_settings(settings, hasher=FAST) as accounts:
        assert accounts.login("admin", password).outcome is LoginOutcome.OK


def test_upgrading_from_web0001_keeps_users_and_clears_the_new_flag(url: str) -> None:
    upgrade_database(url, "web0001")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:  # a user, session and token as web0001 kept them
            connection.execute(
                text(
                    "INSERT INTO web_users (username, display_name, role, agent_id, "
                    "password_hash, disabled, failed_attempts, locked_until, created_at, "
                    "updated_at) VALUES ('zhang', '张三', 'agent', '1001', :hash, :no, 0, "
                    "NULL, :at, :at)"
                ),
                {"hash": FAST.hash("secret-123"), "no": False, "at": T0},
            )
            connection.execute(
                text(
                    "INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, "
                    "expires_at, ip) SELECT 'h1', id, 'c1', :at, :at, '' FROM web_users"
                ),
                {"at": T0},
            )
        upgrade_database(url)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            assert context.get_current_revision() == "web0003"
            assert compare_metadata(context, WebBase.metadata) == []
            kept = connection.execute(text("SELECT count(*) FROM web_sessions")).scalar()
        assert kept == 1  # the column was added in place: no table copy, no cascade
    finally:
        engine.dispose()
    with Accounts(url, WEB, clock=Clock(), hasher=FAST) as accounts:
        user = accounts.get_user("zhang")
        assert (user.display_name, user.must_change_password) == ("张三", False)
        assert accounts.login("zhang", "secret-123").outcome is LoginOutcome.OK
        accounts.add_user("li", Role.QA, "secret-456", must_change=True)
        assert accounts.get_user("li").must_change_password
    # And back down to web0001: the column goes, the users stay.
    engine = make_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "web0001")
        columns = {c["name"] for c in inspect(engine).get_columns("web_users")}
        assert "must_change_password" not in columns
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM web_users")).scalar() == 2
    finally:
        engine.dispose()


def test_a_one_time_password_holds_sessions_but_not_tokens(accounts: Accounts) -> None:
    accounts.add_user("li", Role.QA, "secret-456", must_change=True)
    assert accounts.get_user("li").must_change_password
    session = accounts.login("li", "secret-456")
    assert session.outcome is LoginOutcome.OK and session.user is not None
    assert session.user.must_change_password
    info = accounts.session(session.session_token)
    assert info is not None and info.principal.held_for_password_change
    _, token = accounts.create_token("li")
    principal = accounts.token_principal(token)
    assert principal is not None and not principal.held_for_password_change
    accounts.set_password("li", "secret-789")  # --no-must-change: the operator chose it
    assert not accounts.get_user("li").must_change_password
    accounts.set_password("li", "secret-780", must_change=True)
    assert accounts.get_user("li").must_change_password


def test_changing_ones_own_password_keeps_this_session_only(accounts: Accounts) -> None:
    accounts.add_user("li", Role.QA, "secret-456", must_change=True)
    here = accounts.login("li", "secret-456", "10.0.0.1")
    there = accounts.login("li", "secret-456", "10.0.0.2")
    _, token = accounts.create_token("li")
    user = accounts.change_own_password(
        "li", "secret-456", "new-secret-1", keep_session=here.session_token, ip="10.0.0.1"
    )
    assert not user.must_change_password and not accounts.get_user("li").must_change_password
    info = accounts.session(here.session_token)
    assert info is not None and not info.principal.held_for_password_change
    assert accounts.session(there.session_token) is None
    assert accounts.token_principal(token) is not None  # API tokens live on
    assert accounts.login("li", "secret-456").outcome is LoginOutcome.WRONG
    assert accounts.login("li", "new-secret-1").outcome is LoginOutcome.OK
    with accounts._sessions() as session:
        stored = session.scalars(select(UserRow.password_hash)).one()
    assert stored.startswith("$argon2id$")
    entry = accounts.audit.entries(action="user.passwd")[0]
    assert (entry.username, entry.role, entry.target, entry.ip) == ("li", "qa", "li", "10.0.0.1")
    assert entry.detail == {"own": True, "other_sessions_ended": 1}
    assert "secret" not in str(entry.detail)


def test_ones_own_new_password_follows_the_rules(accounts: Accounts) -> None:
    accounts.add_user("li", Role.QA, "secret-456")
    refusals = {
        "short": "至少 8 位",
        " secret-789": "首尾不能是空格",
        "LI": "至少 8 位",
        "secret-456": "不能与当前密码相同",
    }
    for new, reason in refusals.items():
        with pytest.raises(PasswordRefused) as caught:
            accounts.change_own_password("li", "secret-456", new)
        assert reason in caught.value.reason and not isinstance(caught.value, WrongPassword)
    accounts.add_user("wangxiaoming", Role.QA, "secret-456")
    with pytest.raises(PasswordRefused, match="不能与用户名相同"):
        accounts.change_own_password("wangxiaoming", "secret-456", "WangXiaoMing")
    with pytest.raises(AccountError, match="must not be the username"):
        accounts.add_user("zhangsanfeng", Role.QA, "zhangsanfeng")
    assert accounts.login("li", "secret-456").outcome is LoginOutcome.OK  # unchanged


def test_wrong_current_passwords_count_and_lock_like_logins(
    accounts: Accounts, clock: Clock
) -> None:
    accounts.add_user("li", Role.QA, "secret-456")
    session = accounts.login("li", "secret-456")
    for _ in range(2):
        with pytest.raises(WrongPassword) as caught:
            accounts.change_own_password("li", "guess-1234", "new-secret-1")
        assert caught.value.until is None and caught.value.reason == "当前密码不正确"
    with pytest.raises(WrongPassword) as caught:
        accounts.change_own_password("li", "guess-1234", "new-secret-1")
    assert caught.value.until == T0 + timedelta(minutes=15)
    with pytest.raises(WrongPassword):  # locked: the right one is refused too
        accounts.change_own_password("li", "secret-456", "new-secret-1")
    assert accounts.session(session.session_token) is not None  # still signed in
    assert accounts.login("li", "secret-456").outcome is LoginOutcome.LOCKED
    failed = [e.detail["reason"] for e in accounts.audit.entries(action="user.passwd.failed")]
    assert failed == ["locked", "locked", "wrong", "wrong"]
    clock.advance(minutes=15)
    accounts.change_own_password("li", "secret-456", "new-secret-1")
    assert accounts.login("li", "new-secret-1").outcome is LoginOutcome.OK
