"""A run's lifecycle writes on SQLite (create, tag, settle) straight through ``sqlite3``.

A short run makes a handful of these writes, and through SQLAlchemy each paid more for
the wrapping than SQLite took to do it: an empty write transaction cost ~0.23 ms of CPU
(against ~0.05 ms on the driver), ``set_status`` five statements of which one was built
per call (~1.5 ms), each ``set_tags`` ~0.5 ms. Here each is one transaction
(:meth:`WriteConnection.transaction`: the store's write lock, ``BEGIN IMMEDIATE``,
``COMMIT``, on the one connection the store keeps for them) of short fixed statements
with positional parameters, which ``sqlite3`` keeps prepared:

* ``create_run``: the experiment's next number and name in one ``UPDATE … RETURNING``,
  the run row (a taken id fails on the primary key, with no read first), its tags and
  properties; the run's search text is left for its end (a *stale* run) or, for a run
  created ended, rebuilt once (:func:`text_held`), not per row;
* ``set_tags``: the run checked and its tags counted in one query, then one upsert
  (``executemany``); only a run near ``MAX_TAGS_PER_RUN`` pays the exact count;
* ``set_status``: the run's status read, one ``UPDATE``, the run read back (its row with
  the experiment's name, its tags, its properties).

The checks, errors and stored rows are those of the SQLAlchemy path in
:class:`~runtrack.store.sql.SqlStore` (which PostgreSQL takes);
``tests/store/test_sqlite_lifecycle.py`` compares the two.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections import namedtuple
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects import sqlite

from runtrack import limits
from runtrack.errors import (
    ConflictError,
    LimitExceededError,
    NotFoundError,
    RunStateError,
)
from runtrack.model import ErrorInfo, NewRun, RunInfo, RunStatus
from runtrack.store.sql import _lifecycle
from runtrack.store.sql import query as _query
from runtrack.store.sql.dialects import sqlite_error


class WriteConnection:
    """The store's one driver connection for these writes, checked out of the engine's
    pool once and kept: the writes of a store take its write lock anyway, and a pool
    checkout and checkin (with its reset) cost each of a short run's eight write
    transactions more than its ``BEGIN``. A forked child checks out its own."""

    def __init__(self, engine: Engine, lock: threading.Lock, database: str) -> None:
        self.engine = engine
        self.lock = lock
        self.database = database
        self._pooled: Any = None
        self._pid = -1

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """A cursor in a write transaction: committed when the block ends, rolled back
        when it raises. A SQLite error that means the file is unusable becomes the
        StoreUnavailableError naming the database (as on the SQLAlchemy path), and the
        connection is given up (the next transaction checks out another)."""
        with self.lock:
            if self._pooled is None or self._pid != os.getpid():
                self._pooled, self._pid = self.engine.raw_connection(), os.getpid()
            driver: sqlite3.Connection = self._pooled.driver_connection
            cursor = driver.cursor()
            try:
                try:
                    cursor.execute("BEGIN IMMEDIATE")
                    try:
                        yield cursor
                    except BaseException:
                        if driver.in_transaction:
                            cursor.execute("ROLLBACK")
                        raise
                    cursor.execute("COMMIT")
                finally:
                    cursor.close()
            except sqlite3.Error as exc:
                error = sqlite_error(self.database, exc)
                if error is not None:
                    self._drop()
                    raise error from exc
                raise

    def _drop(self) -> None:
        pooled, self._pooled = self._pooled, None
        if pooled is not None:
            with contextlib.suppress(Exception):
                pooled.invalidate()

    def close(self) -> None:
        """Give the connection back (before the engine is disposed)."""
        with self.lock:
            pooled, self._pooled = self._pooled, None
            if pooled is not None and self._pid == os.getpid():
                pooled.close()


# -- create ----------------------------------------------------------------------------------

_TAKE_NUMBER = (
    'UPDATE "experiments" SET "next_run_number" = "next_run_number" + 1 WHERE "id" = ? '
    'RETURNING "next_run_number", "name"'
)
_RUN_EXISTS = 'SELECT 1 FROM "runs" WHERE "id" = ?'
_NEW_RUN = (
    'INSERT INTO "runs" ("id", "experiment_id", "number", "display_name", "status", '
    '"run_type", "parent_id", "created_time", "start_time", "end_time", "last_activity", '
    '"description", "compute_target", "definition", "error") '
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)"
)


_HOLD = 'INSERT INTO "run_text_hold" ("run_id") VALUES (?)'
_RELEASE = 'DELETE FROM "run_text_hold" WHERE "run_id" = ?'


@contextmanager
def text_held(cur: sqlite3.Cursor, run_id: str, rows: int) -> Iterator[None]:
    """Rebuild run ``run_id``'s search text (``run_text``) once when the block ends,
    instead of once per row it writes, when it writes more than one (revision
    ``l17b_runtext_hold``). In ``cur``'s transaction: a block that raises rolls back."""
    if rows <= 1:
        yield
        return
    cur.execute(_HOLD, (run_id,))
    yield
    cur.execute(_RELEASE, (run_id,))


#: a run whose ``run_text`` row waits for its end (``OR IGNORE``: a taken id fails on
#: the run's own primary key, with ConflictError, and rolls the mark back)
_MARK_STALE = 'INSERT OR IGNORE INTO "run_text_stale" ("run_id") VALUES (?)'


def create_run(cur: sqlite3.Cursor, new: NewRun) -> RunInfo:
    """``SqlStore.create_run`` in ``cur``'s transaction. A run created in a non-terminal
    status is marked stale first (revision ``tg17_runtext_stale``): its search text is
    built once, when it ends, not at its creation and at each tag, property or rename
    meanwhile (the search computes a stale run's text when it asks). A run created
    ended gets its text at once, rebuilt once (:func:`text_held`)."""
    if not RunStatus(new.status).is_terminal:
        cur.execute(_MARK_STALE, (new.run_id,))
        return _create_run(cur, new)
    with text_held(cur, new.run_id, 1 + len(new.tags) + len(new.properties)):
        return _create_run(cur, new)


def _create_run(cur: sqlite3.Cursor, new: NewRun) -> RunInfo:
    status, run_id, parent_id = RunStatus(new.status), new.run_id, new.parent_id
    key = _query.experiment_key(new.experiment_id)
    if parent_id is not None and cur.execute(_RUN_EXISTS, (parent_id,)).fetchone() is None:
        raise NotFoundError(f"run {parent_id!r} does not exist")
    taken = None if key is None else cur.execute(_TAKE_NUMBER, (key,)).fetchone()
    if key is None or taken is None:
        raise NotFoundError(f"experiment {new.experiment_id!r} does not exist")
    number, experiment_name = int(taken[0]) - 1, str(taken[1])
    now = time.time()
    start = now if status is RunStatus.RUNNING else None
    end = now if status.is_terminal else None
    definition = json.dumps(new.definition) if new.definition else None
    try:  # a taken id: the primary key says so (no read first)
        cur.execute(_NEW_RUN, (
            run_id, key, number, new.display_name, status.value, new.run_type, parent_id,
            now, start, end, now, new.description, new.compute_target, definition,
        ))
    except sqlite3.IntegrityError as exc:
        raise ConflictError(f"a run with id {run_id!r} already exists; use a new id") from exc
    if new.tags:
        _set_tags(cur, run_id, new.tags)
    if new.properties:
        _add_properties(cur, run_id, new.properties)
    return RunInfo(
        id=run_id, experiment_id=str(key), experiment_name=experiment_name, number=number,
        display_name=new.display_name, status=status, run_type=new.run_type,
        created_time=now, start_time=start, end_time=end, parent_id=parent_id,
        description=new.description, compute_target=new.compute_target,
        tags=dict(new.tags), properties=dict(new.properties),
        definition=json.loads(definition) if definition else {},
    )


_PROPERTIES = 'SELECT "key", "value" FROM "run_properties" WHERE "run_id" = ?'
_NEW_PROPERTY = 'INSERT INTO "run_properties" ("run_id", "key", "value") VALUES (?, ?, ?)'


def _add_properties(cur: sqlite3.Cursor, run_id: str, properties: dict[str, str]) -> None:
    existing: dict[str, str] = dict(cur.execute(_PROPERTIES, (run_id,)).fetchall())
    new = _lifecycle.new_properties(run_id, existing, properties)
    if new:
        cur.executemany(_NEW_PROPERTY, [(run_id, k, v) for k, v in new.items()])


# -- tags ------------------------------------------------------------------------------------

_TAG_COUNT = (
    'SELECT r."id", (SELECT count(*) FROM "run_tags" t WHERE t."run_id" = r."id") '
    'FROM "runs" r WHERE r."id" = ?'
)
_UPSERT_TAG = (
    'INSERT INTO "run_tags" ("run_id", "key", "value") VALUES (?, ?, ?) '
    'ON CONFLICT ("run_id", "key") DO UPDATE SET "value" = excluded."value"'
)


def set_tags(cur: sqlite3.Cursor, run_id: str, tags: dict[str, str | None]) -> None:
    """``SqlStore.set_tags`` in ``cur``'s transaction (NotFoundError when the run does
    not exist, LimitExceededError beyond ``MAX_TAGS_PER_RUN``; nothing written then)."""
    if len(tags) <= 1:  # one row: one rebuild either way
        _set_tags(cur, run_id, tags)
        return
    with text_held(cur, run_id, len(tags)):
        _set_tags(cur, run_id, tags)


def _set_tags(cur: sqlite3.Cursor, run_id: str, tags: dict[str, str | None]) -> None:
    row = cur.execute(_TAG_COUNT, (run_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"run {run_id!r} does not exist")
    if not tags:
        return
    count = int(row[1])
    total = count + len(tags)
    if total > limits.MAX_TAGS_PER_RUN:  # some keys may exist already: count exactly
        keys = list(tags)
        present: set[str] = set()
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            present.update(k for (k,) in cur.execute(
                'SELECT "key" FROM "run_tags" WHERE "run_id" = ? AND "key" IN '
                f"({', '.join('?' * len(part))})", (run_id, *part),
            ))
        total = count + len([k for k in tags if k not in present])
        if total > limits.MAX_TAGS_PER_RUN:
            raise LimitExceededError(
                f"run {run_id!r} would have {total} tags, more than "
                f"MAX_TAGS_PER_RUN={limits.MAX_TAGS_PER_RUN}"
            )
    cur.executemany(_UPSERT_TAG, [(run_id, k, v) for k, v in tags.items()])


# -- status ----------------------------------------------------------------------------------

_STATUS = 'SELECT "status", "start_time" FROM "runs" WHERE "id" = ?'
_SETTLE = (
    'UPDATE "runs" SET "status" = ?1, "last_activity" = ?2, '
    '"start_time" = CASE WHEN ?3 AND "start_time" IS NULL THEN ?2 ELSE "start_time" END, '
    '"end_time" = CASE WHEN ?4 THEN ?2 ELSE "end_time" END, '
    '"error" = CASE WHEN ?5 IS NULL THEN "error" ELSE ?5 END '
    'WHERE "id" = ?6'
)


def set_status(
    cur: sqlite3.Cursor, run_id: str, status: RunStatus, error: ErrorInfo | None
) -> RunInfo:
    """``SqlStore.set_status`` in ``cur``'s transaction."""
    status = RunStatus(status)
    row = cur.execute(_STATUS, (run_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"run {run_id!r} does not exist")
    current = RunStatus(row[0])
    if current is not status:
        if current.is_terminal:
            raise RunStateError(
                f"run {run_id!r} is already {current.value} and cannot become "
                f"{status.value}; terminal states are final"
            )
        cur.execute(_SETTLE, (
            status.value, time.time(), status is RunStatus.RUNNING, status.is_terminal,
            None if error is None else json.dumps(error.to_json()), run_id,
        ))
    found = load_run(cur, run_id)
    assert found is not None  # read in this transaction
    return found


# -- reading one run back ----------------------------------------------------------------------

_SQLITE = sqlite.dialect()  # type: ignore[no-untyped-call]
_RUN_SQL = str(_query._RUN_BY_ID.compile(dialect=_SQLITE))
_RunRow = namedtuple(  # type: ignore[misc]
    "_RunRow", [str(c.key) for c in _query._RUN_BY_ID.selected_columns]
)
_TAGS = 'SELECT "key", "value" FROM "run_tags" WHERE "run_id" = ?'


def load_run(cur: sqlite3.Cursor, run_id: str) -> RunInfo | None:
    """The run with its tags and properties (as ``query.load_run``), or None."""
    row = cur.execute(_RUN_SQL, (run_id,)).fetchone()
    if row is None:
        return None
    tags: dict[str, str | None] = dict(cur.execute(_TAGS, (run_id,)).fetchall())
    props: dict[str, str] = dict(cur.execute(_PROPERTIES, (run_id,)).fetchall())
    return _query._run_info(_RunRow(*row), tags, props)

