"""Login throttling kept in memory: failures per client IP in a sliding window,
and lockouts of usernames that have no account (so that a lockout looks the
same whether the user exists or not).  Pure: the time is passed in."""

from __future__ import annotations

from collections import OrderedDict, deque
from datetime import datetime, timedelta

MAX_KEYS = 10_000  # forget the oldest keys beyond this (memory stays bounded)


class FailureWindow:
    """At most ``limit`` failures per key within ``window``; more are refused
    until the oldest failure leaves the window."""

    def __init__(self, limit: int, window: timedelta) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        self.limit = limit
        self.window = window
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def blocked_until(self, key: str, now: datetime) -> datetime | None:
        """When ``key`` may try again, or None when it may now."""
        failures = self._recent(key, now)
        if len(failures) < self.limit:
            return None
        return failures[-self.limit] + self.window

    def fail(self, key: str, now: datetime) -> None:
        failures = self._recent(key, now)
        self._failures[key] = failures
        self._failures.move_to_end(key)
        failures.append(now)
        while len(self._failures) > MAX_KEYS:
            self._failures.popitem(last=False)


class MemoryLockouts:
    """Consecutive failures per key; ``attempts`` of them lock the key for ``lockout``
    (the same rule the accounts table applies to real users)."""

    def __init__(self) -> None:
        self._state: OrderedDict[str, tuple[int, datetime | None]] = OrderedDict()

    def locked_until(self, key: str, now: datetime) -> datetime | None:
        _, until = self._state.get(key, (0, None))
        return until if until is not None and until > now else None

    def fail(self, key: str, now: datetime, attempts: int, lockout: timedelta) -> datetime | None:
        """Count a failure; the end of the lockout it starts, or None."""
        count, until = self._state.get(key, (0, None))
        if until is not None and until <= now:
            count, until = 0, None
        count += 1
        if count >= attempts:
            count, until = 0, now + lockout
        self._state[key] = (count, until)
        self._state.move_to_end(key)
        while len(self._state) > MAX_KEYS:
            self._state.popitem(last=False)
        return until
