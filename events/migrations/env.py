"""Alembic environment for the events outbox.

Run programmatically by :func:`events.outbox.upgrade_database`, which hands over
an open connection in ``config.attributes["connection"]``; ``sqlalchemy.url``
is used otherwise.  The version is kept in its own table
(``events_alembic_version``) beside the ticket store's in the same database.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from events.outbox import VERSION_TABLE, make_engine

# An arbitrary constant (the ticket store's is 0x12345_0001): PostgreSQL
# serialises nodes migrating one database at once.
_ADVISORY_LOCK = 0x12345_0002


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


main()
