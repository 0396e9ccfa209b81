"""Accounts of the consoles: users with roles, sessions, API tokens, lockouts.

The hub opens them with :func:`open_accounts` (migrates, and on a first start
creates ``admin`` with a one-time password) and passes them to the web app as
``WebContext.accounts``; ``web.auth`` asks :meth:`Accounts.principal_for` who
each request is.
"""

from web.accounts.store import (
    SESSION_COOKIE,
    AccountError,
    Accounts,
    ApiToken,
    LoginOutcome,
    LoginResult,
    PasswordRefused,
    SessionInfo,
    UnknownUser,
    User,
    WrongPassword,
    ensure_admin,
    open_accounts,
    upgrade_database,
)

__all__ = [
    "SESSION_COOKIE",
    "AccountError",
    "Accounts",
    "ApiToken",
    "LoginOutcome",
    "LoginResult",
    "PasswordRefused",
    "SessionInfo",
    "UnknownUser",
    "User",
    "WrongPassword",
    "ensure_admin",
    "open_accounts",
    "upgrade_database",
]
