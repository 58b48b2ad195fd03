"""Metric ingest on SQLite: the steps of :func:`runtrack.store.sql.ingest.apply_batch`
as a few fixed statements handed straight to the ``sqlite3`` driver.

A short run ships its points in one batch when it completes, so that batch's fixed cost
is most of what ``complete()`` costs. Through SQLAlchemy Core the generic path ran 9-11
statements, each looked up in the compilation cache, its parameters processed and its
result wrapped: ~6 ms of CPU for a batch of 500 points, against well under 1 ms of
SQLite work. Here a batch takes, inside the caller's ``BEGIN IMMEDIATE`` transaction on
the store's driver connection (``sqlite_lifecycle.WriteConnection``):

1. one read of the run's ``last_activity``, the stream's cursor and the run's number of
   series; unless the run has no series yet, one read of the batch's series states
   joined to each one's last chunk;
2. the batch packed and folded in memory, a new series from the state the generic path
   creates it with;
3. only for metric names new to the run: one ``INSERT … RETURNING`` creating the series
   rows with their folded summaries (what the generic path's insert and later update
   leave) and returning their ids;
4. one ``executemany`` per table written (new chunks, topped-up last chunks, summaries
   of the series that existed), the cursor as one upsert and the run's
   ``last_activity`` as one update.

Statement texts are fixed (``sqlite3`` keeps each prepared), parameters positional.
Grouping, chunk packing and summary folding are the generic path's own functions, so
what is stored is what it stores, byte for byte (``tests/store/test_driver_ingest.py``
compares the two on one database).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Column

from runtrack.errors import NotFoundError
from runtrack.model import MetricBatch
from runtrack.store.sql import codec, ingest
from runtrack.store.sql.schema import chunks, series

#: The series columns a batch reads and folds (those of the generic path).
_STATE = [series.c[name] for name in (
    "id", "name", "kind", "description", "columns", "count", "last", "last_nan", "vmin",
    "vmax", "last_step", "first_value", "last_value", "last_time", "top_step", "top_time",
    "top_value", "top_nan",
)]
_STATE_NAMES = [c.name for c in _STATE]
_SAVED = [c for c in _STATE if c.name not in ("id", "name", "kind")]
_CHUNK_KEY = [chunks.c.series_id, chunks.c.chunk_no, chunks.c.first_index]
_PIECE = [chunks.c[name] for name in codec.PIECE_COLUMNS]
_CHUNK = _CHUNK_KEY + _PIECE
_MAX_NAMES = 500  # metric names per states read (well below SQLite's 32,766 parameters)


def _quoted(column: Column[Any]) -> str:
    return f'"{column.name}"'


def _assign(columns: Sequence[Column[Any]]) -> str:
    return ", ".join(f"{_quoted(c)} = ?" for c in columns)


_HEAD = (
    'SELECT r."last_activity", '
    '(SELECT "next_seq" FROM "ingest_cursors" WHERE "run_id" = ?1 AND "stream" = ?2), '
    '(SELECT count(*) FROM "series" WHERE "run_id" = ?1) '
    'FROM "runs" r WHERE r."id" = ?1'
)


@functools.lru_cache(maxsize=64)
def _states_sql(n: int) -> str:
    """The states of ``n`` named series of a run, each joined to its last chunk (none
    while the series is empty)."""
    return (
        f"SELECT {', '.join('s.' + _quoted(c) for c in _STATE)}, "
        f"{', '.join('c.' + _quoted(c) for c in _CHUNK[1:])} "
        'FROM "series" s LEFT JOIN "chunks" c ON s."count" > 0 AND c."series_id" = s."id" '
        'AND c."chunk_no" = (SELECT max("chunk_no") FROM "chunks" WHERE "series_id" = s."id") '
        f'WHERE s."run_id" = ? AND s."name" IN ({", ".join("?" * n)})'
    )


#: the columns of a new series row: the run, then its state (its id is returned)
_NEW_SERIES = [series.c.run_id, *_STATE[1:]]
_NEW_SERIES_ROW = f"({', '.join('?' for _ in _NEW_SERIES)})"


@functools.lru_cache(maxsize=64)
def _new_series_sql(n: int) -> str:
    """Create ``n`` series with their states and return each one's id and name."""
    return (
        f'INSERT INTO "series" ({", ".join(_quoted(c) for c in _NEW_SERIES)}) '
        f'VALUES {", ".join([_NEW_SERIES_ROW] * n)} RETURNING "id", "name"'
    )


def _new_state(placeholder: int, name: str, kind: str) -> dict[str, Any]:
    """The state of a series the generic path has just created (``ingest.create_series``),
    under a ``placeholder`` id until the row exists."""
    state = _NEW_STATE.copy()
    state["id"], state["name"], state["kind"] = placeholder, name, kind
    return state


_NEW_STATE: dict[str, Any] = {**dict.fromkeys(_STATE_NAMES), **ingest.NEW_SERIES}

_NEW_CHUNK = (
    f'INSERT INTO "chunks" ({", ".join(_quoted(c) for c in _CHUNK)}) '
    f"VALUES ({', '.join('?' for _ in _CHUNK)})"
)
_TOPPED_CHUNK = (
    f'UPDATE "chunks" SET {_assign(_PIECE)} WHERE "series_id" = ? AND "chunk_no" = ?'
)
_SAVE_SERIES = f'UPDATE "series" SET {_assign(_SAVED)} WHERE "id" = ?'
_MOVE = (
    'INSERT INTO "ingest_cursors" ("run_id", "stream", "next_seq") VALUES (?, ?, ?) '
    'ON CONFLICT ("run_id", "stream") DO UPDATE SET "next_seq" = excluded."next_seq"'
)
_ACTIVE = 'UPDATE "runs" SET "last_activity" = ?1 WHERE "id" = ?2 AND "last_activity" < ?1'

#: the parameters of one row in the order of the placeholders: a chunk piece is its
#: own (its fields are the columns, in order), a series' from its state
_SERIES_ROW = itemgetter(*[c.name for c in (*_SAVED, series.c.id)])
_NEW_SERIES_PARAMS = itemgetter(*_STATE_NAMES[1:])


def apply_batch(cur: sqlite3.Cursor, run_id: str, batch: MetricBatch) -> int:
    """Apply ``batch`` to ``run_id`` in ``cur``'s write transaction (SQLite; see
    :meth:`runtrack.store.sql.sqlite_lifecycle.WriteConnection.transaction`); return
    the stream's next expected sequence number (as the generic ``ingest.apply_batch``)."""
    head = cur.execute(_HEAD, (run_id, batch.stream)).fetchone()
    if head is None:
        raise NotFoundError(f"run {run_id!r} does not exist; create it before logging to it")
    last_activity, cursor, existing = head
    size = ingest.batch_size(batch)
    position = 0 if cursor is None else int(cursor)
    ingest.check_position(run_id, batch, position)
    groups = ingest.group_points(batch, position - batch.first_seq)
    names = sorted({*groups, *batch.descriptions})
    # a run without series (its first batch) has no states to read
    states, lasts = _states(cur, run_id, names) if existing else ({}, {})
    ingest.check_kinds(run_id, groups, states)
    missing = [name for name in groups if name not in states]
    if missing:
        ingest.check_name_count(run_id, existing, len(missing))
    saved = list(states.values())  # the series that exist: their summaries are updated
    for i, name in enumerate(missing):  # negative ids until the rows exist
        states[name] = _new_state(-1 - i, name, groups[name].kind)
    created = ingest.fold_batch(batch.descriptions, groups, states, lasts)
    if missing:
        _create_series(cur, run_id, [states[name] for name in missing], created)
    if created:
        cur.executemany(_NEW_CHUNK, [
            (c.series_id, c.chunk_no, c.first_index, *c.piece) for c in created
        ])
    topped = [(*c.piece, c.series_id, c.chunk_no) for c in lasts.values() if c.dirty]
    if topped:
        cur.executemany(_TOPPED_CHUNK, topped)
    if saved:
        cur.executemany(_SAVE_SERIES, [_SERIES_ROW(s) for s in saved])
    new_position = max(position, batch.first_seq + size)
    if new_position != position or cursor is None:
        cur.execute(_MOVE, (run_id, batch.stream, new_position))
    if groups:
        latest = max(g.max_time() for g in groups.values())
        if latest > last_activity:
            cur.execute(_ACTIVE, (latest, run_id))
    return new_position


def _create_series(
    cur: sqlite3.Cursor, run_id: str, new: list[dict[str, Any]], created: list[ingest.Chunk]
) -> None:
    """Insert the series of the states ``new`` (folded, under placeholder ids) as they
    are, and give them and the chunks ``created`` for them the ids of their rows."""
    ids: dict[int, int] = {}
    for start in range(0, len(new), _MAX_NAMES):
        part = new[start : start + _MAX_NAMES]
        params = [v for state in part for v in (run_id, *_NEW_SERIES_PARAMS(state))]
        by_name = {state["name"]: state for state in part}
        for sid, name in cur.execute(_new_series_sql(len(part)), params).fetchall():
            state = by_name[name]
            ids[state["id"]] = sid
            state["id"] = sid
    for chunk in created:
        if chunk.series_id < 0:
            chunk.series_id = ids[chunk.series_id]


def _states(
    cur: sqlite3.Cursor, run_id: str, names: Sequence[str]
) -> tuple[dict[str, dict[str, Any]], dict[int, ingest.Chunk]]:
    """The series states of ``names`` by name and the last chunk of each series that
    has points."""
    states: dict[str, dict[str, Any]] = {}
    lasts: dict[int, ingest.Chunk] = {}
    end = len(_STATE)
    for start in range(0, len(names), _MAX_NAMES):
        part = names[start : start + _MAX_NAMES]
        for row in cur.execute(_states_sql(len(part)), (run_id, *part)):
            state = dict(zip(_STATE_NAMES, row[:end], strict=True))
            states[state["name"]] = state
            chunk = row[end:]
            if chunk[0] is not None:  # chunk_no
                piece = codec.Piece(*chunk[2:])
                lasts[state["id"]] = ingest.Chunk(state["id"], chunk[0], chunk[1], piece, False)
    return states, lasts
