"""Alembic environment: runs revisions on the connection ``migrations.py`` hands in.

There is no ``alembic.ini`` and no offline (SQL script) mode: runtrack migrates the
database it opens, inside the caller's write transaction.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError(
            "runtrack migrations run through runtrack.store.sql.migrations.upgrade(), "
            "not the alembic command line"
        )
    context.configure(connection=connection, target_metadata=None, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


_run()
