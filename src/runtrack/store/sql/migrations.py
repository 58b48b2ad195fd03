"""Bring a database to the schema this runtrack version expects.

Revisions are Alembic scripts under ``alembic/versions`` (frozen snapshots; the
current schema itself lives in :mod:`runtrack.store.sql.schema`). Alembic is driven
programmatically; no ``alembic.ini`` is involved at runtime.

:func:`ensure_schema` runs when a store opens. It first reads the recorded revision
with one cheap query and returns if it is :data:`HEAD`, so opening an up-to-date
database never imports Alembic. Otherwise it upgrades inside one write transaction
(``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL), re-checking the
revision under the lock, so two processes opening a new database at once migrate it
exactly once.

Adding a revision: write ``alembic/versions/rNNNN_<what>.py`` with
``down_revision`` = the previous head, change ``schema.py`` to match, and bump
:data:`HEAD`. ``tests/store/test_migrations.py`` then checks the new head against
``schema.py`` and upgrades a database created at the previous revision.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

from runtrack.errors import ConfigError
from runtrack.store.sql.dialects import WRITE_OPTION, Dialect

#: The newest revision; must equal the head of ``alembic/versions``.
HEAD = "z18_without_rowid"
SCRIPT_LOCATION = Path(__file__).with_name("alembic")
_VERSION_TABLE = "alembic_version"
#: PostgreSQL advisory lock key held while migrating ("runtrack" in ASCII, as an int64).
MIGRATION_LOCK = int.from_bytes(b"runtrack", "big") & 0x7FFFFFFFFFFFFFFF


def current_revision(conn: Connection) -> str | None:
    """The revision recorded in the database, or None for an empty database."""
    if not inspect(conn).has_table(_VERSION_TABLE):
        return None
    value = conn.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}")).scalar()
    return None if value is None else str(value)


def ensure_schema(engine: Engine, dialect: Dialect) -> None:
    """Upgrade the database to :data:`HEAD` unless it is there already."""
    with engine.connect() as conn, conn.begin():
        if current_revision(conn) == HEAD:
            return
    upgrade(engine, dialect, HEAD)


def upgrade(engine: Engine, dialect: Dialect, revision: str = HEAD) -> None:
    """Upgrade to ``revision`` in one write transaction (no-op if already there).

    Other processes wait: SQLite's ``BEGIN IMMEDIATE`` takes the database lock, and on
    PostgreSQL a transaction-scoped advisory lock (:data:`MIGRATION_LOCK`) is taken
    before the revision is read, so a second server or worker opening a fresh database
    at the same moment finds it migrated instead of creating the same tables again."""
    with dialect.write_lock, engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            if dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            current = current_revision(conn)
            if current == revision:
                return
            _run_alembic(conn, current, revision)


def _run_alembic(conn: Connection, current: str | None, revision: str) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["connection"] = conn
    if current is not None:
        try:
            ScriptDirectory.from_config(config).get_revision(current)
        except CommandError as exc:
            raise ConfigError(
                f"the database is at schema revision {current!r}, which this runtrack "
                "version does not know: it was written by a newer runtrack; upgrade runtrack"
            ) from exc
    command.upgrade(config, revision)


def script_head() -> str:
    """The head revision of the scripts on disk (imports Alembic; for tests)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    head = ScriptDirectory.from_config(config).get_current_head()
    return str(head)
