"""Metric ingest on SQLite: the steps of :func:`runtrack.store.sql.ingest.apply_batch`
as a few fixed statements handed straight to the ``sqlite3`` driver.

A short run ships its points in one batch when it completes, so that batch's fixed cost
is most of what ``complete()`` costs. Through SQLAlchemy Core the generic path ran 9-11
statements, each looked up in the compilation cache, its parameters processed and its
result wrapped: ~6 ms of CPU for a batch of 500 points, against well under 1 ms of
SQLite work. Here a batch takes, inside the caller's ``BEGIN IMMEDIATE`` transaction on
the driver's connection (``sqlite_lifecycle.transaction``):

1. one read of the run's ``last_activity``, the stream's cursor and the run's number of
   series; one read of the batch's series states joined to each one's last chunk;
2. only for metric names new to the run: one ``INSERT … RETURNING`` creating the series
   rows (as the generic path creates them) and returning their states;
3. one ``executemany`` per table written (new chunks, topped-up last chunks, series
   summaries), the cursor as one upsert and the run's ``last_activity`` as one update.

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

from runtrack import limits
from runtrack.errors import LimitExceededError, NotFoundError
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


_NEW_SERIES_ROW = "(?, ?, ?, '', NULL, 0, 0)"


@functools.lru_cache(maxsize=64)
def _new_series_sql(n: int) -> str:
    """Create ``n`` series (as the generic path creates them) and return their states
    (those :func:`_states` would read back)."""
    return (
        'INSERT INTO "series" ("run_id", "name", "kind", "description", "columns", "count", '
        f'"last_nan") VALUES {", ".join([_NEW_SERIES_ROW] * n)} '
        f"RETURNING {', '.join(_quoted(c) for c in _STATE)}"
    )
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

#: the parameters of one row from its mapping, in the order of the placeholders
_NEW_ROW = itemgetter(*[c.name for c in _CHUNK])
_TOPPED_ROW = itemgetter(*[c.name for c in (*_PIECE, *_CHUNK_KEY[:2])])
_SERIES_ROW = itemgetter(*[c.name for c in (*_SAVED, series.c.id)])


def apply_batch(cur: sqlite3.Cursor, run_id: str, batch: MetricBatch) -> int:
    """Apply ``batch`` to ``run_id`` in ``cur``'s write transaction (SQLite; see
    :func:`runtrack.store.sql.sqlite_lifecycle.transaction`); return the stream's next
    expected sequence number (as the generic ``ingest.apply_batch``)."""
    head = cur.execute(_HEAD, (run_id, batch.stream)).fetchone()
    if head is None:
        raise NotFoundError(f"run {run_id!r} does not exist; create it before logging to it")
    last_activity, cursor, existing = head
    size = ingest.batch_size(batch)
    position = 0 if cursor is None else int(cursor)
    ingest.check_position(run_id, batch, position)
    groups = ingest.group_points(batch, position - batch.first_seq)
    names = sorted({*groups, *batch.descriptions})
    states, lasts = _states(cur, run_id, names)
    ingest.check_kinds(run_id, groups, states)
    missing = [name for name in groups if name not in states]
    if missing:
        if existing + len(missing) > limits.MAX_METRIC_NAMES_PER_RUN:
            raise LimitExceededError(
                f"run {run_id!r} would have {existing + len(missing)} metric names, more "
                f"than MAX_METRIC_NAMES_PER_RUN={limits.MAX_METRIC_NAMES_PER_RUN}"
            )
        for start in range(0, len(missing), _MAX_NAMES):
            part = missing[start : start + _MAX_NAMES]
            params = [v for name in part for v in (run_id, name, groups[name].kind)]
            for row in cur.execute(_new_series_sql(len(part)), params).fetchall():
                states[row[1]] = dict(zip(_STATE_NAMES, row, strict=True))
    created = ingest.fold_batch(batch.descriptions, groups, states, lasts)
    if created:
        cur.executemany(_NEW_CHUNK, [_NEW_ROW(_chunk_row(c)) for c in created])
    topped = [_TOPPED_ROW(_chunk_row(c)) for c in lasts.values() if c.dirty]
    if topped:
        cur.executemany(_TOPPED_CHUNK, topped)
    if states:
        cur.executemany(_SAVE_SERIES, [_SERIES_ROW(s) for s in states.values()])
    new_position = max(position, batch.first_seq + size)
    if new_position != position or cursor is None:
        cur.execute(_MOVE, (run_id, batch.stream, new_position))
    if groups:
        latest = max(g.max_time() for g in groups.values())
        if latest > last_activity:
            cur.execute(_ACTIVE, (latest, run_id))
    return new_position


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


def _chunk_row(chunk: ingest.Chunk) -> dict[str, Any]:
    return {"series_id": chunk.series_id, "chunk_no": chunk.chunk_no,
            "first_index": chunk.first_index, **chunk.piece.row()}
