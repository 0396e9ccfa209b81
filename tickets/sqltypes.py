"""Column types of the ticket store (its migrations import them from here)."""

from storage.sqltypes import UtcDateTime

__all__ = ["UtcDateTime"]
