"""The Alembic environment every store's ``migrations/env.py`` runs.

Run programmatically by :func:`storage.sql.upgrade_database`, which hands over
an open connection in ``config.attributes["connection"]``; ``sqlalchemy.url``
is used otherwise.  Each store names its own version table; on PostgreSQL an
advisory lock serialises nodes migrating one database at once.

Logging is the node's (``ivr.node.logs``), never Alembic's: an ``env.py`` must not
call ``logging.config.fileConfig`` (there is no ``alembic.ini``; a fileConfig
would replace the node's JSON handler and turn Alembic's info lines back on).
Each migration applied is logged here, as one structured line.
"""

from __future__ import annotations

import logging
from typing import Any

from alembic import context
from sqlalchemy import Connection, text

from storage.sql import make_engine

log = logging.getLogger(__name__)


def _applied(version_table: str) -> Any:
    def log_step(*, step: Any, **_: Any) -> None:
        log.info(
            "database migrated",
            extra={
                "fields": {
                    "store": version_table.removesuffix("_alembic_version"),
                    "from": ",".join(step.source_revision_ids) or None,
                    "to": ",".join(step.destination_revision_ids) or None,
                }
            },
        )

    return log_step


def run_environment(version_table: str, lock_key: int) -> None:
    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            version_table=version_table,
            render_as_batch=connection.dialect.name == "sqlite",
            transactional_ddl=True,
            on_version_apply=_applied(version_table),
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
