"""Alembic environment for the ticket store.

Run by storage.migrations; the store's own version table keeps it apart
from the others in the same database."""

from storage.migrations import run_environment
from tickets.store import VERSION_TABLE

run_environment(VERSION_TABLE, 0x12345_0001)
