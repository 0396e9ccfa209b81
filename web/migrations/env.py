"""Alembic environment for the web accounts and audit log.

Run programmatically by :func:`web.accounts.store.upgrade_database`, which hands
over an open connection in ``config.attributes["connection"]``; ``sqlalchemy.url``
is used otherwise.  The version lives in ``web_alembic_version`` so these tables
share the ticket store's database without touching its migrations.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from tickets.store import make_engine
from web.accounts.tables import VERSION_TABLE

# An arbitrary constant: PostgreSQL serialises nodes migrating one database at once.
_ADVISORY_LOCK = 0x12345_0101


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
