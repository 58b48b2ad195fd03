"""The units of work every part of :class:`~runtrack.store.sql.SqlStore` runs in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select

from runtrack.errors import NotFoundError
from runtrack.store.sql.dialects import WRITE_OPTION, Dialect
from runtrack.store.sql.schema import runs


class Connected:
    """A database (``dialect`` and ``engine``, set by the subclass) and its transactions:
    ``_write`` holds the dialect's write lock (``BEGIN IMMEDIATE`` on SQLite), ``_read``
    a plain transaction."""

    dialect: Dialect
    engine: Engine

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.dialect.write_lock, self._write_unlocked() as conn:
            yield conn

    @contextmanager
    def _write_unlocked(self) -> Iterator[Connection]:
        """A write transaction without the process lock: for writes whose statements
        take the row locks they need (PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` locks
        the whole file anyway)."""
        with self.engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn


_RUN_ROW = select(runs.c.id, runs.c.status, runs.c.start_time).where(
    runs.c.id == bindparam("b_run")
)  # built once: building it cost as much as running it


def require_run(conn: Connection, run_id: str) -> Any:
    """The run's (id, status, start_time) row; NotFoundError when it does not exist."""
    row = conn.execute(_RUN_ROW, {"b_run": run_id}).first()
    if row is None:
        raise NotFoundError(f"run {run_id!r} does not exist")
    return row
