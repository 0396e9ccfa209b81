"""Users, sessions and API tokens in SQL, beside the tickets (same database URL).

- Passwords are Argon2id hashes; ``login_attempts`` wrong passwords in a row
  lock an account for ``lockout_minutes`` (a right password is refused while
  locked); unknown usernames lock the same way, in memory, so a lockout does
  not tell whether a user exists.  A client IP with too many failures in a
  short window is refused outright for a while.
- A session is a random token in the ``hotline_session`` cookie; the database
  keeps its SHA-256, the user, a CSRF token and the expiry (``session_hours``
  after login).  Disabling a user or changing their password ends their
  sessions (a user changing their own ends only their other sessions).
- A user with ``must_change_password`` (the first admin's one-time password,
  ``hotline users add|passwd --must-change``) is held at the password page
  until they choose their own (``web.roles``); choosing it clears the flag.
- API tokens (``Authorization: Bearer hl_…``) are shown once and kept as their
  SHA-256; revoking one refuses it at once.
- Every change (and every login, failed or not) is written to the audit log in
  the same transaction.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from fastapi import Request
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from sip_config.settings import Settings, WebSection
from storage.sql import DatabaseError, make_engine
from storage.sql import upgrade_database as upgrade
from web import audit  # (web.audit imports our tables: use its names at call time)
from web.accounts.credentials import (
    WeakPassword,
    check_password_rules,
    default_hasher,
    generate_password,
    hash_password,
    new_api_token,
    new_csrf_token,
    new_session_token,
    token_digest,
    verify_password,
)
from web.accounts.tables import MIGRATIONS, SessionRow, TokenRow, UserRow
from web.accounts.throttle import FailureWindow, MemoryLockouts
from web.roles import DEPARTMENT_ROLES, SOFTPHONE_ROLES, Principal, Role

log = logging.getLogger("hub")

SESSION_COOKIE = "hotline_session"
IP_FAILURES = 20  # failed logins from one address within IP_WINDOW before it must wait
IP_WINDOW = timedelta(minutes=10)
_TOKEN_TOUCH = timedelta(minutes=1)  # how often a token's last use is written back


class AccountError(ValueError):
    """A user change that cannot be made (unknown user, name taken, bad value)."""

    retryable = False


class UnknownUser(AccountError, LookupError):
    """No user has this name (or no token this id)."""


class PasswordRefused(AccountError):
    """A password that cannot be set; ``reason`` says why in Chinese (for the consoles)."""

    def __init__(self, reason: str, english: str) -> None:
        super().__init__(f"{reason} ({english})")
        self.reason = reason

    @classmethod
    def weak(cls, exc: WeakPassword) -> PasswordRefused:
        return cls(exc.zh, exc.en)


class WrongPassword(PasswordRefused):
    """A user changing their own password gave the wrong current one; ``until`` is
    the end of the lockout it started (or was already under), else None."""

    def __init__(self, until: datetime | None = None) -> None:
        if until is None:
            super().__init__("当前密码不正确", "the current password is wrong")
        else:
            super().__init__("当前密码输错次数过多，账户已暂时锁定", "too many wrong passwords")
        self.until = until


@dataclass(frozen=True, slots=True)
class User:
    """Someone who signs in to the consoles (or whose API token an integration uses)."""

    id: int
    username: str
    display_name: str
    role: Role
    agent_id: str
    disabled: bool
    must_change_password: bool
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime
    updated_at: datetime
    department: str = ""  # for a department role: the department they work for

    def principal(self, via: str = "session") -> Principal:
        return Principal(
            self.id,
            self.username,
            self.role,
            self.agent_id,
            via,
            self.must_change_password,
            self.department,
        )


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    username: str
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class LoginOutcome(enum.StrEnum):
    OK = "ok"
    WRONG = "wrong"  # unknown user or wrong password (never told apart)
    LOCKED = "locked"  # too many wrong passwords: wait until ``until``
    DISABLED = "disabled"  # right password, account disabled
    THROTTLED = "throttled"  # too many failures from this address: wait until ``until``


@dataclass(frozen=True, slots=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None
    session_token: str = ""  # for the cookie; only on OK
    csrf_token: str = ""
    expires_at: datetime | None = None
    until: datetime | None = None  # end of a lockout or throttle


@dataclass(frozen=True, slots=True)
class SessionInfo:
    principal: Principal
    csrf_token: str
    expires_at: datetime


def _to_user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        agent_id=row.agent_id,
        disabled=row.disabled,
        must_change_password=row.must_change_password,
        failed_attempts=row.failed_attempts,
        locked_until=row.locked_until,
        created_at=row.created_at,
        updated_at=row.updated_at,
        department=row.department or "",
    )


def _to_token(row: TokenRow, username: str) -> ApiToken:
    return ApiToken(row.id, username, row.label, row.created_at, row.last_used_at, row.revoked_at)


def upgrade_database(target: str | Engine, revision: str = "head") -> None:
    """Bring the accounts and audit tables up to the newest migration (creates them
    when missing), or to ``revision``; the ticket tables are left alone."""
    upgrade(target, MIGRATIONS, revision, DatabaseError, "accounts database")


def _check_user_fields(username: str, role: Role, agent_id: str, department: str = "") -> None:
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise AccountError(
            f"{username!r} is no username: 1 to 64 characters without spaces, e.g. zhangsan"
        )
    if role is Role.AGENT and not agent_id:
        raise AccountError(
            f"{username}: an agent needs --agent-id, the SIP user id of their [[agents]] entry"
        )
    if role not in SOFTPHONE_ROLES and agent_id:
        raise AccountError(
            f"{username}: only agents have an agent id, and verifiers their softphone's "
            f"(role is {role})"
        )
    if role in DEPARTMENT_ROLES and not department:
        raise AccountError(
            f"{username}: a {role} works for a department: give --department, "
            "its id in tickets.departments (hotline departments list)"
        )
    if role not in DEPARTMENT_ROLES and department:
        raise AccountError(f"{username}: only department roles have a department (role is {role})")


class Accounts:
    """The consoles' users, sessions and API tokens, and the audit log (``audit``).

    Thread-safe (a database session per operation); the async
    :meth:`principal_for` runs its lookup in a worker thread.  ``clock`` gives
    aware datetimes (injected in tests).
    """

    def __init__(
        self,
        url: str,
        web: WebSection | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        hasher: PasswordHasher | None = None,
        migrate: bool = True,
        ip_failures: int = IP_FAILURES,
        ip_window: timedelta = IP_WINDOW,
    ) -> None:
        self.url = url
        self.web = web or WebSection()
        self.clock = clock
        self.hasher = hasher or default_hasher()
        self.engine = make_engine(url)
        if migrate:
            upgrade_database(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.audit = audit.AuditLog(self._sessions, clock)
        self._ip_failures = FailureWindow(ip_failures, ip_window)
        self._ghosts = MemoryLockouts()
        # Verified against when the user does not exist, so both take as long.
        self._dummy_hash = hash_password(self.hasher, generate_password())

    @classmethod
    def from_settings(cls, settings: Settings, **options: object) -> Accounts:
        """The node's accounts, in ``tickets.database_url``'s database, migrated."""
        return cls(settings.tickets_database_url, settings.web, **options)  # type: ignore[arg-type]

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Accounts:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(hours=self.web.session_hours)

    @property
    def lockout(self) -> timedelta:
        return timedelta(minutes=self.web.lockout_minutes)

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def _user_row(self, session: Session, username: str, lock: bool = False) -> UserRow:
        statement = select(UserRow).where(UserRow.username == username)
        if lock:
            statement = statement.with_for_update()
        row = session.scalars(statement).one_or_none()
        if row is None:
            raise UnknownUser(f"no user {username!r}")
        return row

    # -- users -------------------------------------------------------------------

    def add_user(
        self,
        username: str,
        role: Role | str,
        password: str,
        *,
        display_name: str = "",
        agent_id: str = "",
        department: str = "",
        must_change: bool = False,
        actor: audit.Actor | None = None,
    ) -> User:
        """A new user; ``AccountError`` if the name is taken or a value is refused.
        ``must_change``: the password is a one-time one, to be changed at sign-in.
        ``department``: the department a department role works for (its directory id;
        the caller checks it is in the directory)."""
        role = Role(role)
        department = department.strip()
        _check_user_fields(username, role, agent_id, department)
        try:
            check_password_rules(password, username)
        except WeakPassword as exc:
            raise PasswordRefused.weak(exc) from None
        now = self.clock()
        row = UserRow(
            username=username,
            display_name=display_name or username,
            role=role.value,
            agent_id=agent_id,
            department=department,
            password_hash=hash_password(self.hasher, password),
            disabled=False,
            must_change_password=must_change,
            failed_attempts=0,
            locked_until=None,
            created_at=now,
            updated_at=now,
        )
        detail = {
            "role": role.value,
            "agent_id": agent_id,
            "department": department,
            "display_name": row.display_name,
            "must_change_password": must_change,
        }
        try:
            with self._transaction() as session:
                session.add(row)
                session.add(
                    audit.audit_row(now, actor or audit.Actor.cli(), "user.add", username, detail)
                )
        except IntegrityError:
            raise AccountError(f"user {username!r} exists already") from None
        return _to_user(row)

    def get_user(self, username: str) -> User:
        with self._transaction() as session:
            return _to_user(self._user_row(session, username))

    def users(self) -> list[User]:
        with self._transaction() as session:
            return [_to_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.id))]

    def has_admin(self) -> bool:
        """Whether an enabled admin exists."""
        statement = select(func.count(UserRow.id)).where(
            UserRow.role == Role.ADMIN.value, UserRow.disabled.is_(False)
        )
        with self._transaction() as session:
            return session.scalar(statement) > 0

    def set_password(
        self,
        username: str,
        password: str,
        *,
        must_change: bool = False,
        actor: audit.Actor | None = None,
    ) -> User:
        """A new password set for the user (by an operator); lifts a lockout and ends
        the user's sessions.  ``must_change``: a one-time password, to be changed at
        the next sign-in (otherwise the flag is cleared)."""
        try:
            check_password_rules(password, username)
        except WeakPassword as exc:
            raise PasswordRefused.weak(exc) from None
        hashed = hash_password(self.hasher, password)
        now = self.clock()
        with self._transaction() as session:
            row = self._user_row(session, username, lock=True)
            row.password_hash = hashed
            row.must_change_password = must_change
            row.failed_attempts = 0
            row.locked_until = None
            row.updated_at = now
            session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
            detail = {"must_change_password": must_change}
            session.add(
                audit.audit_row(now, actor or audit.Actor.cli(), "user.passwd", username, detail)
            )
            return _to_user(row)

    def change_own_password(
        self,
        username: str,
        current: str,
        new: str,
        *,
        keep_session: str = "",
        ip: str = "",
    ) -> User:
        """A user's change of their own password, checked against ``current``: clears
        ``must_change_password`` and ends their sessions but ``keep_session`` (the
        cookie token of the browser making the change).  Audited as ``user.passwd``
        by the user themselves.

        A wrong ``current`` raises :class:`WrongPassword` and counts like a wrong
        password at login (enough of them lock the account); a new password that
        breaks the rules, or is the current one, raises :class:`PasswordRefused`."""
        now = self.clock()
        with self._transaction() as session:
            row = self._user_row(session, username)
            stored, until = row.password_hash, row.locked_until
        if until is not None and until > now:
            self._audit_change_failure(now, username, ip, "locked")
            raise WrongPassword(until)
        if not verify_password(self.hasher, stored, current):  # outside a transaction: slow
            self._count_wrong_password(now, username, ip)
        try:
            check_password_rules(new, username)
        except WeakPassword as exc:
            raise PasswordRefused.weak(exc) from None
        if new == current:
            raise PasswordRefused("新密码不能与当前密码相同", "the new password is the current one")
        hashed = hash_password(self.hasher, new)
        kept = token_digest(keep_session) if keep_session else ""
        with self._transaction() as session:
            row = self._user_row(session, username, lock=True)
            row.password_hash = hashed
            row.must_change_password = False
            row.failed_attempts = 0
            row.locked_until = None
            row.updated_at = now
            ended = session.execute(
                delete(SessionRow).where(
                    SessionRow.user_id == row.id, SessionRow.token_hash != kept
                )
            ).rowcount
            detail = {"own": True, "other_sessions_ended": ended}
            actor = audit.Actor(username, row.role, ip)
            session.add(audit.audit_row(now, actor, "user.passwd", username, detail))
            return _to_user(row)

    def _count_wrong_password(self, now: datetime, username: str, ip: str) -> None:
        """A wrong current password: counted (and locking) like one at login; raises."""
        with self._transaction() as session:
            row = self._user_row(session, username, lock=True)
            row.failed_attempts += 1
            row.locked_until = None
            if row.failed_attempts >= self.web.login_attempts:
                row.failed_attempts = 0
                row.locked_until = now + self.lockout
            until = row.locked_until
            reason = "wrong" if until is None else "locked"
            detail = {"reason": reason}
            actor = audit.Actor(username, row.role, ip)
            session.add(audit.audit_row(now, actor, "user.passwd.failed", username, detail))
        raise WrongPassword(until)

    def _audit_change_failure(self, now: datetime, username: str, ip: str, reason: str) -> None:
        with self._transaction() as session:
            role = self._user_row(session, username).role
            detail = {"reason": reason}
            actor = audit.Actor(username, role, ip)
            session.add(audit.audit_row(now, actor, "user.passwd.failed", username, detail))

    def set_disabled(
        self, username: str, disabled: bool = True, *, actor: audit.Actor | None = None
    ) -> User:
        """Disable (or enable again) a user; disabling ends their sessions.  Their API
        tokens stay stored but are refused while the user is disabled."""
        now = self.clock()
        with self._transaction() as session:
            row = self._user_row(session, username, lock=True)
            row.disabled = disabled
            row.updated_at = now
            if disabled:
                session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
            action = "user.disable" if disabled else "user.enable"
            session.add(audit.audit_row(now, actor or audit.Actor.cli(), action, username))
            return _to_user(row)

    # -- signing in ----------------------------------------------------------------

    def login(self, username: str, password: str, ip: str = "") -> LoginResult:
        """Check a password and, when right, start a session (see the module's rules).
        Every attempt is audited (``login`` or ``login.failed`` with the reason)."""
        now = self.clock()
        username = username.strip()[:64]
        blocked = self._ip_failures.blocked_until(ip, now)
        if blocked is not None:
            self._audit_failure(now, username, ip, LoginOutcome.THROTTLED)
            return LoginResult(LoginOutcome.THROTTLED, until=blocked)
        with self._transaction() as session:
            row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
            stored = row.password_hash if row is not None else self._dummy_hash
            user_id = row.id if row is not None else None
        right = verify_password(self.hasher, stored, password)  # outside the transaction: slow
        if user_id is None:
            return self._ghost_failure(now, username, ip)
        with self._transaction() as session:
            row = session.scalars(
                select(UserRow).where(UserRow.id == user_id).with_for_update()
            ).one()
            if row.locked_until is not None and row.locked_until > now:
                result = LoginResult(LoginOutcome.LOCKED, until=row.locked_until)
            elif not right:
                row.failed_attempts += 1  # (reset to 0 when a lockout began)
                row.locked_until = None
                if row.failed_attempts >= self.web.login_attempts:
                    row.failed_attempts = 0
                    row.locked_until = now + self.lockout
                    result = LoginResult(LoginOutcome.LOCKED, until=row.locked_until)
                else:
                    result = LoginResult(LoginOutcome.WRONG)
            elif row.disabled:
                result = LoginResult(LoginOutcome.DISABLED)
            else:
                row.failed_attempts = 0
                row.locked_until = None
                if self.hasher.check_needs_rehash(row.password_hash):
                    row.password_hash = hash_password(self.hasher, password)
                token, csrf = new_session_token(), new_csrf_token()
                expires = now + self.session_lifetime
                session.add(
                    SessionRow(
                        token_hash=token_digest(token),
                        user_id=row.id,
                        csrf_token=csrf,
                        created_at=now,
                        expires_at=expires,
                        ip=ip[:64],
                    )
                )
                session.execute(delete(SessionRow).where(SessionRow.expires_at <= now))
                user = _to_user(row)
                session.add(
                    audit.audit_row(now, audit.Actor(username, user.role.value, ip), "login")
                )
                return LoginResult(LoginOutcome.OK, user, token, csrf, expires)
            detail = {"reason": result.outcome.value}
            session.add(
                audit.audit_row(
                    now, audit.Actor(username, row.role, ip), "login.failed", "", detail
                )
            )
        if result.outcome is not LoginOutcome.DISABLED:
            self._ip_failures.fail(ip, now)
        return result

    def _ghost_failure(self, now: datetime, username: str, ip: str) -> LoginResult:
        """A login as nobody: refused exactly like a wrong password for a real user."""
        self._ip_failures.fail(ip, now)
        until = self._ghosts.locked_until(username, now)
        if until is None:
            until = self._ghosts.fail(username, now, self.web.login_attempts, self.lockout)
        outcome = LoginOutcome.WRONG if until is None else LoginOutcome.LOCKED
        self._audit_failure(now, username, ip, outcome)
        return LoginResult(outcome, until=until)

    def _audit_failure(self, now: datetime, username: str, ip: str, outcome: LoginOutcome) -> None:
        with self._transaction() as session:
            detail = {"reason": outcome.value}
            session.add(
                audit.audit_row(now, audit.Actor(username, "", ip), "login.failed", "", detail)
            )

    def logout(self, session_token: str, ip: str = "") -> bool:
        """End the session of ``session_token``; False if there was none."""
        now = self.clock()
        digest = token_digest(session_token)
        with self._transaction() as session:
            found = session.execute(
                select(SessionRow, UserRow)
                .join(UserRow, SessionRow.user_id == UserRow.id)
                .where(SessionRow.token_hash == digest)
            ).first()
            if found is None:
                return False
            session_row, user_row = found
            session.delete(session_row)
            session.add(
                audit.audit_row(now, audit.Actor(user_row.username, user_row.role, ip), "logout")
            )
            return True

    def session(self, session_token: str) -> SessionInfo | None:
        """The live session of a cookie's token (not expired, user enabled), or None."""
        now = self.clock()
        statement = (
            select(SessionRow, UserRow)
            .join(UserRow, SessionRow.user_id == UserRow.id)
            .where(SessionRow.token_hash == token_digest(session_token))
        )
        with self._transaction() as session:
            found = session.execute(statement).first()
            if found is None:
                return None
            session_row, user_row = found
            if session_row.expires_at <= now or user_row.disabled:
                return None
            principal = _to_user(user_row).principal("session")
            return SessionInfo(principal, session_row.csrf_token, session_row.expires_at)

    # -- API tokens ------------------------------------------------------------------

    def create_token(
        self, username: str, label: str = "", *, actor: audit.Actor | None = None
    ) -> tuple[ApiToken, str]:
        """A new API token for ``username``: its record and the token itself, which is
        not stored and cannot be shown again."""
        now = self.clock()
        token = new_api_token()
        with self._transaction() as session:
            user = self._user_row(session, username)
            row = TokenRow(
                token_hash=token_digest(token),
                user_id=user.id,
                label=label[:100],
                created_at=now,
                last_used_at=None,
                revoked_at=None,
            )
            session.add(row)
            session.flush()
            detail = {"token_id": row.id, "label": row.label}
            session.add(
                audit.audit_row(now, actor or audit.Actor.cli(), "token.create", username, detail)
            )
            return _to_token(row, username), token

    def revoke_token(self, token_id: int, *, actor: audit.Actor | None = None) -> ApiToken:
        now = self.clock()
        with self._transaction() as session:
            found = session.execute(
                select(TokenRow, UserRow.username)
                .join(UserRow, TokenRow.user_id == UserRow.id)
                .where(TokenRow.id == token_id)
            ).first()
            if found is None:
                raise UnknownUser(f"no API token {token_id}")
            row, username = found
            if row.revoked_at is None:
                row.revoked_at = now
                detail = {"token_id": token_id, "label": row.label}
                session.add(
                    audit.audit_row(
                        now, actor or audit.Actor.cli(), "token.revoke", username, detail
                    )
                )
            return _to_token(row, username)

    def tokens(self, username: str = "") -> list[ApiToken]:
        statement = (
            select(TokenRow, UserRow.username)
            .join(UserRow, TokenRow.user_id == UserRow.id)
            .order_by(TokenRow.id)
        )
        if username:
            statement = statement.where(UserRow.username == username)
        with self._transaction() as session:
            return [_to_token(row, name) for row, name in session.execute(statement)]

    def token_principal(self, token: str) -> Principal | None:
        """The user behind a live API token (``via`` "token"), or None."""
        now = self.clock()
        statement = (
            select(TokenRow, UserRow)
            .join(UserRow, TokenRow.user_id == UserRow.id)
            .where(TokenRow.token_hash == token_digest(token))
        )
        with self._transaction() as session:
            found = session.execute(statement).first()
            if found is None:
                return None
            row, user_row = found
            if row.revoked_at is not None or user_row.disabled:
                return None
            if row.last_used_at is None or now - row.last_used_at > _TOKEN_TOUCH:
                session.execute(
                    update(TokenRow).where(TokenRow.id == row.id).values(last_used_at=now)
                )
            return _to_user(user_row).principal("token")

    # -- requests ----------------------------------------------------------------------

    async def principal_for(self, request: Request) -> Principal | None:
        """Who ``request`` is: an ``Authorization: Bearer`` API token, else the
        ``hotline_session`` cookie.  For a session it also puts the session's CSRF
        token on ``request.state.csrf_token`` (checked by ``web.csrf``)."""
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer":
            credentials = credentials.strip()
            return (
                await asyncio.to_thread(self.token_principal, credentials) if credentials else None
            )
        cookie = request.cookies.get(SESSION_COOKIE, "")
        if not cookie:
            return None
        info = await asyncio.to_thread(self.session, cookie)
        if info is None:
            return None
        request.state.csrf_token = info.csrf_token
        request.state.session_token = cookie
        return info.principal


def ensure_admin(accounts: Accounts) -> tuple[str, str] | None:
    """With no enabled admin, make one (``admin``, or ``admin-2``… if that name is
    taken) with a random one-time password, to be changed at the first sign-in;
    its name and the password, or None."""
    if accounts.has_admin():
        return None
    taken = {user.username for user in accounts.users()}
    name = "admin"
    suffix = 2
    while name in taken:
        name = f"admin-{suffix}"
        suffix += 1
    password = generate_password()
    accounts.add_user(
        name,
        Role.ADMIN,
        password,
        display_name="管理员",
        must_change=True,
        actor=audit.Actor("hotline", "", ""),
    )
    return name, password


def open_accounts(settings: Settings, **options: object) -> Accounts:
    """The node's accounts, migrated; on a first start (no enabled admin) it creates
    one and prints its one-time password (a warning in the log and on stderr)."""
    accounts = Accounts.from_settings(settings, **options)
    made = ensure_admin(accounts)
    if made is not None:
        name, password = made
        message = (
            f"no admin account: created {name!r} with the one-time password {password} "
            f"(sign in to the consoles and choose a new one; it must be changed first)"
        )
        log.warning(message)
        print(f"hotline: {message}", file=sys.stderr, flush=True)
    return accounts
