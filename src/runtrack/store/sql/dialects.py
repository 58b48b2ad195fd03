"""What differs between SQLite and PostgreSQL, in one place.

SQLite (the zero-setup default):

* WAL journal, ``busy_timeout=30000`` ms, ``synchronous=NORMAL``, foreign keys on, a
  checkpoint every ``WAL_CHECKPOINT_PAGES`` pages;
* the driver's own transaction handling is switched off (``isolation_level=None``)
  and runtrack emits ``BEGIN`` itself: ``BEGIN IMMEDIATE`` for writes, so a write
  transaction takes the database lock up front instead of failing half-way with
  SQLITE_BUSY, plain (deferred) ``BEGIN`` for reads, which WAL lets run beside a writer;
* one writer: :class:`Dialect.write_lock` serialises the writes of one store
  (other stores and processes wait on the file lock through ``busy_timeout``).

PostgreSQL: ``postgresql://`` URLs are routed to psycopg 3; row locks make the same
statements safe without the process lock. Metric ingest, the server's hot path, runs
without it (the run's row lock orders the ingests of one run), so a server's requests
for different runs overlap their database round trips; other writes keep it. Bulk inserts
(:meth:`Dialect.insert_rows`, used for new point chunks) go through ``COPY … FROM
STDIN`` on the transaction's own connection. Points are packed into chunks of
thousands, so an ingest writes few rows and COPY saves round trips rather than
per-row parsing; SQLite uses executemany, which is already in-process.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, insert
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from runtrack.errors import ConfigError, StoreUnavailableError

WRITE_OPTION = "runtrack_write"
#: WAL pages after which a commit checkpoints (SQLite's default: 1,000). A checkpoint's
#: cost is mostly its two syncs, so fewer, larger ones cost less in all: 100,000-point
#: runs took 44-46 ms each on average with 1,000 (every third run's commit paid ~15 ms)
#: and 37-38 ms with 4,000 (one run in ten paid ~45 ms). The WAL grows to ~16 MB.
WAL_CHECKPOINT_PAGES = 4000


def normalize_url(url: str) -> str:
    """Map runtrack's URI forms onto SQLAlchemy URLs (psycopg 3 for PostgreSQL)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith(("sqlite://", "postgresql+")):
        return url
    raise ConfigError(
        f"unsupported database URL {url!r}: use sqlite:///path/to/file.db or postgresql://…"
    )


class Dialect:
    """Engine construction and the few statements that differ per backend."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.name = make_url(self.url).get_backend_name()
        self.is_sqlite = self.name == "sqlite"
        self.write_lock = threading.Lock()

    def create_engine(self) -> Engine:
        if self.is_sqlite:
            return self._sqlite_engine()
        try:
            return create_engine(self.url, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise ConfigError(
                f"the database driver for {self.name} is not installed ({exc.name}); "
                "install runtrack[postgres]"
            ) from exc

    def _sqlite_engine(self) -> Engine:
        url = make_url(self.url)
        database = url.database or ""
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if database in ("", ":memory:"):
            kwargs["poolclass"] = StaticPool
        else:
            folder = Path(database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailableError(
                    f"cannot create the folder {folder} for the SQLite database "
                    f"{database} ({exc.strerror}): choose a folder this user may write to"
                ) from exc
        engine = create_engine(url, **kwargs)
        in_memory = database in ("", ":memory:")

        if not in_memory:

            @event.listens_for(engine, "handle_error")
            def _on_error(context: Any) -> None:
                error = sqlite_error(database, context.original_exception)
                if error is not None:
                    raise error from context.original_exception

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            if not in_memory:
                cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get(WRITE_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def insert_ignore(
        self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]
    ) -> None:
        """Insert ``rows``, silently skipping those whose ``keys`` already exist."""
        if not rows:
            return
        from sqlalchemy.dialects import postgresql, sqlite

        statement: Any
        if self.is_sqlite:
            statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=list(keys))
        else:
            statement = postgresql.insert(table).on_conflict_do_nothing(index_elements=list(keys))
        conn.execute(statement, list(rows))

    def insert_rows(self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """Bulk insert in the caller's transaction: COPY on PostgreSQL, executemany else.

        Every row must have the same keys (the columns to fill)."""
        if not rows:
            return
        if self.is_sqlite or self.name != "postgresql":
            conn.execute(insert(table), list(rows))
            return
        columns = list(rows[0])
        names = ", ".join(f'"{c}"' for c in columns)
        driver: Any = conn.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(
            f'COPY "{table.name}" ({names}) FROM STDIN'
        ) as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])


#: What to do about each SQLite error that means the database file itself is unusable.
_SQLITE_ADVICE = (
    ("unable to open database file",
     "check that its folder exists, that this user may write there (SQLite also writes "
     "the -wal and -shm files beside it) and that the path is not a folder"),
    ("database disk image is malformed",
     "the file is damaged: restore it from a backup, or salvage it with "
     "\"sqlite3 {path} .recover | sqlite3 recovered.db\" and point runtrack at recovered.db"),
    ("file is not a database",
     "the file is not a SQLite database (or is damaged): point runtrack at the right "
     "file, or move this one away to start afresh"),
    ("attempt to write a readonly database",
     "the file or its folder is read-only for this user: fix the permissions"),
    ("database or disk is full", "the disk is full: free some space"),
    ("disk i/o error", "the disk or file system failed: check it (dmesg, df)"),
)


def sqlite_error(path: str, exc: BaseException) -> StoreUnavailableError | None:
    """A runtrack error naming ``path`` and what to do, for a raw SQLite error that means
    the database file cannot be used; None for any other error."""
    text = str(exc)
    lowered = text.lower()
    for needle, advice in _SQLITE_ADVICE:
        if needle in lowered:
            return StoreUnavailableError(
                f"SQLite database {path}: {text}; {advice.format(path=path)}"
            )
    return None
