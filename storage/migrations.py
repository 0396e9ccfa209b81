"""The Alembic environment every store's ``migrations/env.py`` runs.

Run programmatically by :func:`storage.sql.upgrade_database`, which hands over
an open connection in ``config.attributes["connection"]``; ``sqlalchemy.url``
is used otherwise.  Each store names its own version table; on PostgreSQL an
advisory lock serialises nodes migrating one database at once.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from storage.sql import make_engine


def run_environment(version_table: str, lock_key: int) -> None:
    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            version_table=version_table,
            render_as_batch=connection.dialect.name == "sqlite",
            transactional_ddl=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
            context.run_migrations()

    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as connection:
            run(connection)
    finally:
        engine.dispose()
