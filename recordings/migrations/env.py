"""Alembic environment for the QA call catalog.

Run by storage.migrations; the store's own version table keeps it apart
from the others in the same database."""

from recordings.catalog import VERSION_TABLE
from storage.migrations import run_environment

run_environment(VERSION_TABLE, 0x12345_0201)
