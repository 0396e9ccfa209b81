"""Passwords (Argon2id) and random tokens (kept as SHA-256): pure helpers, no I/O."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8
# No 0/O, 1/l/I: generated passwords are read off a terminal and typed by hand.
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
API_TOKEN_PREFIX = "hl_"


def default_hasher() -> PasswordHasher:
    """Argon2id with argon2-cffi's defaults (RFC 9106's low-memory profile)."""
    return PasswordHasher()


class WeakPassword(ValueError):
    """A password refused by :func:`check_password_rules`; ``zh`` is the reason in
    Chinese (for the consoles), ``en`` in English; ``str()`` gives both."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} ({en})")
        self.zh = zh
        self.en = en


def check_password_rules(password: str, username: str = "") -> None:
    """:class:`WeakPassword` when ``password`` is too weak to set (for ``username``)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(
            f"密码至少 {MIN_PASSWORD_LENGTH} 位",
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters",
        )
    if password.strip() != password:
        raise WeakPassword("密码首尾不能是空格", "no spaces at either end of a password")
    if username and password.casefold() == username.casefold():
        raise WeakPassword("密码不能与用户名相同", "a password must not be the username")


def generate_password(length: int = 16) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def hash_password(hasher: PasswordHasher, password: str) -> str:
    return hasher.hash(password)


def verify_password(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the database keeps of a session or API token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()
