"""Engines and migrations for the node's database (SQLite by default, PostgreSQL by URL).

Each store keeps its own tables, its own Alembic migrations folder and its own
version table in the one database, so they evolve independently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError


class DatabaseError(Exception):
    """The database cannot be used; the message says which and why."""

    retryable = True


def make_engine(url: str, error: type[Exception] = DatabaseError) -> Engine:
    """An engine for ``url``: SQLite (WAL, foreign keys on, writers take the lock at
    BEGIN so two read-then-write transactions cannot deadlock) or PostgreSQL.
    ``error`` is raised, with a reason, for a URL that is not usable."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise error(f"{url!r} is not a database URL") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    if backend != "sqlite":
        raise error(f"{backend} is not supported; use SQLite or PostgreSQL")
    if parsed.database and parsed.database != ":memory:":
        try:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise error(f"cannot make the folder of {parsed.database}: {exc}") from None
    engine = create_engine(parsed, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy says when to BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def upgrade_database(
    target: str | Engine,
    migrations: Path,
    revision: str = "head",
    error: type[Exception] = DatabaseError,
    what: str = "database",
) -> None:
    """Bring the tables of the ``migrations`` folder up to ``revision`` (creating
    them in an empty database)."""
    from alembic import command
    from alembic.config import Config

    engine = make_engine(target, error) if isinstance(target, str) else target
    config = Config()
    config.set_main_option("script_location", str(migrations))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except SQLAlchemyError as exc:
        raise error(f"cannot open the {what}: {getattr(exc, 'orig', exc)}") from None
    finally:
        if isinstance(target, str):
            engine.dispose()
