"""The bulk reads behind the listings: the v1 loop and ``Experiment.search_runs``.

:func:`run_table` reads ``search_runs``' table in one transaction of four statements
(the runs' columns, then their tags, properties and scalar series summaries, each
selected by the query's filters as a subquery, so no list of run ids is sent back),
as plain tuples.

For the v1 loop ``for r in exp.get_runs(): r.get_metrics()``:

:func:`listing_values` reads every point value of the user series (not ``sys/...``) of
many runs in one statement per 500 runs, series rows joined to their chunks, and unpacks
each series' packed chunks at once; times and steps, which ``get_metrics()`` does not
show, are never decoded. :func:`listing_stamps` is the small read that tells whether
one run's read-ahead is still current. :func:`data_version` is SQLite's counter of
commits made by other connections, which lets a listing skip even that read while
nothing at all was written (see ``sdk._listing``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select

from runtrack._rules import SYSTEM_PREFIX
from runtrack.model import CellValue, MetricKind, RunQuery
from runtrack.store.readers import ListedSeries, RunTable
from runtrack.store.sql import codec
from runtrack.store.sql.ingest import in_batches
from runtrack.store.sql.query import run_select
from runtrack.store.sql.schema import chunks, run_properties, run_tags, runs, series

_USER = func.substr(series.c.name, 1, len(SYSTEM_PREFIX)) != SYSTEM_PREFIX
#: in the order of ``store.readers.RUN_TABLE_COLUMNS``
_RUN_COLUMNS = (
    runs.c.id, runs.c.display_name, runs.c.number, runs.c.status, runs.c.run_type,
    runs.c.parent_id, runs.c.created_time, runs.c.start_time, runs.c.end_time,
)


def run_table(
    conn: Connection, query: RunQuery, names: Sequence[str] | None, system: bool
) -> RunTable:
    """The runs ``query`` matches with their tags, properties and scalar summaries
    (only ``names`` when given; ``sys/...`` only with ``system`` or when named)."""
    found = [tuple(row) for row in conn.execute(run_select(_RUN_COLUMNS, query)).all()]
    if not found:
        return RunTable([], [], [], [])
    ids = run_select([runs.c.id], query, ordered=False)
    tags = select(run_tags.c.run_id, run_tags.c.key, run_tags.c.value).where(
        run_tags.c.run_id.in_(ids))
    properties = select(
        run_properties.c.run_id, run_properties.c.key, run_properties.c.value
    ).where(run_properties.c.run_id.in_(ids))
    cells: list[tuple[str, str, CellValue, float | None, float | None]] = []
    if names is None or names:
        statement = select(
            series.c.run_id, series.c.name, series.c.last_value, series.c.vmin, series.c.vmax
        ).where(series.c.run_id.in_(ids), series.c.kind == MetricKind.SCALAR.value)
        if names is not None:
            statement = statement.where(series.c.name.in_(list(names)))
        elif not system:
            statement = statement.where(_USER)
        loads = codec.loads_cell
        cells = [(run_id, name, loads(last), low, high)
                 for run_id, name, last, low, high in conn.execute(statement).all()]
    return RunTable(
        found,
        [(run_id, key, value) for run_id, key, value in conn.execute(tags).all()],
        [(run_id, key, value) for run_id, key, value in conn.execute(properties).all()],
        cells,
    )

#: series rows with their chunks (none for a series without points), any order
_VALUES = select(
    series.c.run_id, series.c.id, series.c.name, series.c.kind, series.c.count,
    series.c.last_time, chunks.c.chunk_no, chunks.c.encoding, chunks.c.vals,
).select_from(series.outerjoin(chunks, chunks.c.series_id == series.c.id)).where(
    series.c.run_id.in_(bindparam("ids", expanding=True)), _USER
)
#: the same on SQLite as driver text (rendering a 500-id ``IN`` list through
#: SQLAlchemy costs more than the query)
_VALUES_SQLITE = (
    "SELECT s.run_id, s.id, s.name, s.kind, s.count, s.last_time, c.chunk_no, c.encoding, "
    "c.vals FROM series s LEFT JOIN chunks c ON c.series_id = s.id "
    f"WHERE s.run_id IN ({{ids}}) AND substr(s.name, 1, {len(SYSTEM_PREFIX)}) != ?"
)
_STAMPS = select(series.c.name, series.c.kind, series.c.count, series.c.last_time).where(
    and_(series.c.run_id == bindparam("run_id"), _USER)
).order_by(series.c.id)
_STAMPS_SQLITE = (
    "SELECT name, kind, count, last_time FROM series WHERE run_id = ? "
    f"AND substr(name, 1, {len(SYSTEM_PREFIX)}) != ? ORDER BY id"
)


def listing_values(conn: Connection, run_ids: Sequence[str]) -> list[ListedSeries]:
    """Every user series of these runs with all its values, each run's in first-logged
    order (runs in no particular order)."""
    rows: list[Any] = []
    for part in in_batches(list(run_ids)):
        if conn.dialect.paramstyle == "qmark":  # SQLite
            text = _VALUES_SQLITE.format(ids=",".join("?" * len(part)))
            rows += conn.exec_driver_sql(text, (*part, SYSTEM_PREFIX)).all()
        else:
            rows += conn.execute(_VALUES, {"ids": part}).all()
    rows.sort(key=lambda row: (row[1], row[6] or 0))  # series id, chunk number
    out: list[ListedSeries] = []
    i = 0
    while i < len(rows):
        run_id, sid, name, kind, count, last_time = rows[i][:6]
        j = i + 1
        while j < len(rows) and rows[j][1] == sid:
            j += 1
        pieces = [(row[7], row[8]) for row in rows[i:j] if row[7] is not None]
        out.append(ListedSeries(run_id, name, kind, count, last_time, _values(pieces)))
        i = j
    return out


def listing_stamps(conn: Connection, run_id: str) -> list[tuple[str, str, int, float | None]]:
    """``(name, kind, count, last_time)`` of the run's user series in first-logged
    order: what :func:`listing_values` read, minus the values."""
    if conn.dialect.paramstyle == "qmark":
        rows = conn.exec_driver_sql(_STAMPS_SQLITE, (run_id, SYSTEM_PREFIX)).all()
    else:
        rows = conn.execute(_STAMPS, {"run_id": run_id}).all()
    return [(name, kind, count, last_time) for name, kind, count, last_time in rows]


def sqlite_stamps(
    driver: sqlite3.Connection, run_id: str
) -> list[tuple[str, str, int, float | None]]:
    """:func:`listing_stamps` through a driver connection in autocommit mode (a single
    SELECT is its own read transaction)."""
    rows: list[tuple[str, str, int, float | None]] = driver.execute(
        _STAMPS_SQLITE, (run_id, SYSTEM_PREFIX)
    ).fetchall()
    return rows


def data_version(driver: sqlite3.Connection) -> int:
    """SQLite's ``PRAGMA data_version`` on ``driver``: it changes whenever another
    connection (of this process or another) commits to the database."""
    version: int = driver.execute("PRAGMA data_version").fetchone()[0]
    return version


class CommitWatch:
    """A :class:`~runtrack.store.readers.ListingWatch` on a SQLite file: its own driver
    connection, kept for :func:`data_version` only (connections of the store's pool
    write, and a connection does not count its own commits)."""

    def __init__(self, path: str) -> None:
        self._driver: sqlite3.Connection | None = sqlite3.connect(path, check_same_thread=False)
        self._version = data_version(self._driver)

    def changed(self) -> bool:
        if self._driver is None:
            return True
        try:
            return data_version(self._driver) != self._version
        except sqlite3.Error:  # cannot tell: take it as written
            return True

    def close(self) -> None:
        if self._driver is not None:
            self._driver.close()
            self._driver = None

    def __del__(self) -> None:
        self.close()


def _values(pieces: list[tuple[str, bytes]]) -> list[CellValue]:
    """The cells of a series' chunks in order; runs of chunks with one packed encoding
    are unpacked at once."""
    values: list[CellValue] = []
    i = 0
    while i < len(pieces):
        encoding = pieces[i][0]
        j = i + 1
        if codec.array_code(encoding) is not None:
            while j < len(pieces) and pieces[j][0] == encoding:
                j += 1
        blob = pieces[i][1] if j == i + 1 else b"".join(blob for _, blob in pieces[i:j])
        values += codec.unpack_values(encoding, blob)
        i = j
    return values
