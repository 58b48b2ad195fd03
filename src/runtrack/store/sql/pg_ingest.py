"""Metric ingest on PostgreSQL: the steps of :func:`runtrack.store.sql.ingest.apply_batch`
in two round trips of short statements handed straight to the driver.

Ingest is the server's hot path, and there its fixed cost per request is what limits
how many runs one process carries. Through SQLAlchemy Core the generic path ran 7-10
statements per batch, each built, looked up in the compilation cache, wrapped in a
result and sent on its own round trip: ~7 ms of CPU per batch against well under 1 ms
for packing its points. Here a batch takes:

1. one pipeline (one round trip) of two reads: the run's row lock (``FOR UPDATE``,
   which orders the ingests of one run, across replicas too), then the stream's cursor
   with, per metric name of the batch, its series state joined to its last chunk
   (``LEFT JOIN LATERAL``). The second read is a statement of its own so that, in READ
   COMMITTED, it sees what an ingest that held the lock before has committed;
2. only for metric names new to the run: the series rows are created as the generic
   path creates them, and read again;
3. one pipeline (one round trip) of writes: the new chunks, the topped-up last chunks,
   the series summaries (one execution per row), then the cursor (an upsert) with the
   run's ``last_activity``. Every statement is short, of scalar parameters and of fixed
   text, so psycopg converts it once and prepares it per connection.

Grouping, chunk packing and summary folding are the generic path's own functions, so
what is stored is what it stores, byte for byte (``tests/store/test_driver_ingest.py``
compares the two on one database). A value PostgreSQL refuses (a NUL character in a
stream name) raises :class:`~runtrack.errors.InvalidValueError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy import Column, Connection
from sqlalchemy.dialects import postgresql

from runtrack.errors import InvalidValueError, NotFoundError
from runtrack.model import MetricBatch
from runtrack.store.sql import codec, ingest
from runtrack.store.sql.schema import chunks, series

_PG = postgresql.dialect()  # type: ignore[no-untyped-call]


def _quoted(column: Column[Any]) -> str:
    return f'"{column.name}"'


def _array_type(column: Column[Any]) -> str:
    return f"{column.type.compile(dialect=_PG)}[]"


def _coercer(column: Column[Any]) -> Callable[[Any], Any]:
    """What makes a Python value dump as the column's type inside a typed array (an
    int among floats would otherwise pick the integer dumper)."""
    python = column.type.python_type
    if python is float:
        return lambda v: None if v is None else float(v)
    if python is int:
        return lambda v: None if v is None else int(v)
    if python is bool:
        return lambda v: None if v is None else bool(v)
    return lambda v: v


#: The series columns a batch reads and folds (those of the generic path).
_STATE = [series.c[name] for name in (
    "id", "name", "kind", "description", "columns", "count", "last", "last_nan", "vmin",
    "vmax", "last_step", "first_value", "last_value", "last_time", "top_step", "top_time",
    "top_value", "top_nan",
)]
_SAVED = [c for c in _STATE if c.name not in ("id", "name", "kind")]
_CHUNK_KEY = [chunks.c.series_id, chunks.c.chunk_no, chunks.c.first_index]
_PIECE = [chunks.c[name] for name in codec.PIECE_COLUMNS]
_CHUNK = _CHUNK_KEY + _PIECE

_LOCK = 'SELECT "last_activity" FROM "runs" WHERE "id" = %s FOR UPDATE'
_STATES = (  # one row even without series: the cursor, then each series or NULLs
    f"SELECT cur.next_seq, {', '.join('s.' + _quoted(c) for c in _STATE)}, "
    f"{', '.join('c.' + _quoted(c) for c in _CHUNK[1:])} "
    'FROM (SELECT (SELECT "next_seq" FROM "ingest_cursors" WHERE "run_id" = %s '
    'AND "stream" = %s) AS next_seq) cur '
    'LEFT JOIN ("series" s LEFT JOIN LATERAL (SELECT * FROM "chunks" '
    'WHERE "series_id" = s."id" ORDER BY "chunk_no" DESC LIMIT 1) c ON s."count" > 0) '
    'ON s."run_id" = %s AND s."name" = ANY(%s)'
)


def _assign(columns: list[Column[Any]]) -> str:
    return ", ".join(f"{_quoted(c)} = %s" for c in columns)


# Short statements of positional scalar parameters, one execution per row: psycopg
# converts each text once and prepares it per connection (it does neither for statements
# over 4,096 characters or 50 parameters), its C dumpers take scalars (arrays dump in
# Python), and positional parameters skip reordering a mapping per execution.
_NEW_CHUNK = (
    f'INSERT INTO "chunks" ({", ".join(_quoted(c) for c in _CHUNK)}) '
    f"VALUES ({', '.join('%s' for _ in _CHUNK)})"
)
_TOPPED_CHUNK = (
    f'UPDATE "chunks" SET {_assign(_PIECE)} '
    'WHERE "series_id" = %s AND "chunk_no" = %s'
)
_SAVE_SERIES = f'UPDATE "series" SET {_assign(_SAVED)} WHERE "id" = %s'
_MOVE = (
    'WITH moved AS (INSERT INTO "ingest_cursors" ("run_id", "stream", "next_seq") '
    "VALUES (%s, %s, %s) "
    'ON CONFLICT ("run_id", "stream") DO UPDATE SET "next_seq" = EXCLUDED."next_seq") '
    'UPDATE "runs" SET "last_activity" = %s WHERE "id" = %s AND "last_activity" < %s'
)
#: (column name, what makes a value bind as the column's type) per placeholder, in order.
_NEW_ROW = [(c.name, _coercer(c)) for c in _CHUNK]
_TOPPED_ROW = [(c.name, _coercer(c)) for c in (*_PIECE, *_CHUNK_KEY[:2])]
_SERIES_ROW = [(c.name, _coercer(c)) for c in (*_SAVED, series.c.id)]


def apply_batch(conn: Connection, run_id: str, batch: MetricBatch) -> int:
    """Apply ``batch`` to ``run_id`` in ``conn``'s transaction (PostgreSQL); return the
    stream's next expected sequence number (as the generic ``ingest.apply_batch``)."""
    driver: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
    try:
        return _apply(conn, driver, run_id, batch)
    except psycopg.DataError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidValueError(f"the database refused a value: {detail}") from exc


def _apply(
    conn: Connection, driver: psycopg.Connection[Any], run_id: str, batch: MetricBatch
) -> int:
    names = sorted({*batch.descriptions, *_batch_names(batch)})
    keys = (run_id, batch.stream, run_id, names)
    with driver.pipeline():  # one round trip
        locked = driver.execute(_LOCK, (run_id,))
        found = driver.execute(_STATES, keys)
    if locked.fetchone() is None:
        raise NotFoundError(f"run {run_id!r} does not exist; create it before logging to it")
    size = ingest.batch_size(batch)
    cursor, states, lasts = _states(found.fetchall())
    position = 0 if cursor is None else int(cursor)
    ingest.check_position(run_id, batch, position)
    groups = ingest.group_points(batch, position - batch.first_seq)
    ingest.check_kinds(run_id, groups, states)
    if ingest.create_series(conn, run_id, groups, states):
        _, states, lasts = _states(driver.execute(_STATES, keys).fetchall())
    created = ingest.fold_batch(batch.descriptions, groups, states, lasts)
    new_position = max(position, batch.first_seq + size)
    latest = max(g.max_time() for g in groups.values()) if groups else None
    with driver.pipeline(), driver.cursor() as cur:  # one round trip
        if created:
            cur.executemany(_NEW_CHUNK, [_row(_NEW_ROW, _chunk_row(c)) for c in created])
        topped = [_row(_TOPPED_ROW, _chunk_row(c)) for c in lasts.values() if c.dirty]
        if topped:
            cur.executemany(_TOPPED_CHUNK, topped)
        if states:
            cur.executemany(_SAVE_SERIES, [_row(_SERIES_ROW, s) for s in states.values()])
        cur.execute(_MOVE, (run_id, batch.stream, new_position, latest, run_id, latest))
    return new_position


def _batch_names(batch: MetricBatch) -> set[str]:
    """The metric names ``batch`` may hold (records are checked later, when grouped)."""
    if batch.columns is not None:
        found = [entry[0] for entry in batch.columns.names.values()]
    else:
        found = [r[0] for r in batch.records if isinstance(r, tuple | list) and r]
    return {name for name in found if isinstance(name, str)}


def _states(
    rows: list[tuple[Any, ...]],
) -> tuple[int | None, dict[str, dict[str, Any]], dict[int, ingest.Chunk]]:
    """From the rows of ``_STATES``: the stream's cursor (None before its first batch),
    the series states by name and the last chunk of each series that has points."""
    states: dict[str, dict[str, Any]] = {}
    lasts: dict[int, ingest.Chunk] = {}
    end = 1 + len(_STATE)
    for row in rows:
        if row[1] is None:  # no series: the one row of NULLs
            continue
        state = {c.name: value for c, value in zip(_STATE, row[1:end], strict=True)}
        states[state["name"]] = state
        chunk = row[end:]
        if chunk[0] is not None:  # chunk_no
            piece = codec.Piece(**{
                c.name: value for c, value in zip(_PIECE, chunk[2:], strict=True)
            })
            lasts[state["id"]] = ingest.Chunk(state["id"], chunk[0], chunk[1], piece, False)
    return rows[0][0], states, lasts


def _chunk_row(chunk: ingest.Chunk) -> dict[str, Any]:
    return {"series_id": chunk.series_id, "chunk_no": chunk.chunk_no,
            "first_index": chunk.first_index, **chunk.piece.row()}


def _row(spec: list[tuple[str, Callable[[Any], Any]]], values: dict[str, Any]) -> tuple[Any, ...]:
    """The parameters of one row, in the order of ``spec``'s placeholders."""
    return tuple([coerce(values[name]) for name, coerce in spec])
