"""Where a browser is sent: the sign-in page with ``next`` (the page it asked for),
and back there afterwards.

``next`` comes from the address bar or a form, so it is untrusted: only a path
on this site is followed (:func:`safe_next`).  Anything else — another host
(``//evil.example``, ``/\\evil.example``), a scheme (``https:``, ``javascript:``),
control characters, an over-long value — is dropped, and the user lands on their
console instead.  Pure functions, no I/O.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from starlette.requests import HTTPConnection

SIGN_IN_PAGE = "/login"
MAX_NEXT = 2000  # a longer ``next`` is refused, not cut (a cut query means something else)


def safe_next(value: str | None) -> str:
    """``value`` when it is a path on this site (one leading ``/``, no host, no
    scheme, no control characters or backslashes); otherwise ""."""
    if not value or len(value) > MAX_NEXT or not value.startswith("/"):
        return ""
    if value.startswith("//") or "\\" in value:
        return ""  # "//host" is another site; browsers read "\" as "/"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return ""  # browsers strip tabs and newlines: "/\t/host" becomes "//host"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return ""
    return value


def with_next(page: str, next_path: str | None) -> str:
    """``page`` with ``?next=<next_path>`` when that is a safe path, else ``page``."""
    target = safe_next(next_path)
    return f"{page}?{urlencode({'next': target})}" if target else page


def requested(connection: HTTPConnection) -> str:
    """The path and query the browser asked for, as ``next`` carries it."""
    query = connection.url.query
    return f"{connection.url.path}?{query}" if query else connection.url.path
