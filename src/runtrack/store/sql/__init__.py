"""``SqlStore``: the :class:`~runtrack.store.base.TrackingStore` on SQLite or PostgreSQL.

Built on SQLAlchemy 2 Core. Every public method is exactly one transaction: writes go
through :meth:`SqlStore._write` (this store's write lock, then ``BEGIN IMMEDIATE``
on SQLite, where other stores and processes wait on the database's lock), reads
through :meth:`SqlStore._read`. On SQLite a run's lifecycle writes and metric ingest
take the same lock and ``BEGIN IMMEDIATE`` on the driver's own connection instead
(:mod:`~runtrack.store.sql.sqlite_lifecycle`, :mod:`~runtrack.store.sql.sqlite_ingest`):
SQLAlchemy's wrapping cost more than SQLite's work there. Helpers in ``ingest``,
``query`` and ``points`` receive that connection and never open another. The schema is migrated to
head when the store opens (see :mod:`runtrack.store.sql.migrations`).

Beyond the protocol: :attr:`SqlStore.engine` and :attr:`SqlStore.dialect`, for tests
and tools, the optional fast read :meth:`SqlStore.read_series_values`, and the log
search extension (:meth:`SqlStore.index_log_lines`, :meth:`SqlStore.log_index_position`,
:meth:`SqlStore.search_logs`; see :mod:`runtrack.store.sql.logindex`).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Connection, delete, insert, make_url, select, update
from sqlalchemy.exc import IntegrityError

from runtrack._bulk import collector_paused
from runtrack.errors import (
    ConflictError,
    NotFoundError,
    RunStateError,
)
from runtrack.model import (
    Bucket,
    ErrorInfo,
    ExperimentInfo,
    MetricBatch,
    MetricKind,
    NewRun,
    RunInfo,
    RunQuery,
    RunStatus,
    SeriesData,
    SeriesInfo,
)
from runtrack.store.readers import ListedSeries, RunTable, ScalarSummary, Stamp, TopPoint
from runtrack.store.sql import (
    _lifecycle,
    ingest,
    listread,
    migrations,
    points,
    sqlite_ingest,
    sqlite_lifecycle,
)
from runtrack.store.sql import query as _query
from runtrack.store.sql._connected import require_run
from runtrack.store.sql.catalog import CatalogMethods
from runtrack.store.sql.chartread import ChartReadMethods
from runtrack.store.sql.compute import ComputeMethods
from runtrack.store.sql.dialects import Dialect, sqlite_error
from runtrack.store.sql.ingest import in_batches
from runtrack.store.sql.runtext import RunTextMethods
from runtrack.store.sql.schema import (
    chunks,
    experiment_tags,
    experiments,
    ingest_cursors,
    run_inputs,
    run_properties,
    run_tags,
    runs,
    series,
)

__all__ = ["SqlStore"]


class SqlStore(CatalogMethods, ComputeMethods, RunTextMethods, ChartReadMethods):
    """Tracking data in a SQL database given by a SQLAlchemy-style URL.

    ``sqlite:///path/file.db`` creates the file (and its folder) if needed;
    ``postgresql://user:pw@host/db`` needs ``runtrack[postgres]``.
    """

    def __init__(self, url: str) -> None:
        self.dialect = Dialect(url)
        self.engine = self.dialect.create_engine()
        migrations.ensure_schema(self.engine, self.dialect)
        self._sqlite_path = make_url(self.dialect.url).database or ""
        #: SQLite's lifecycle writes and ingest go straight through the driver
        #: (``sqlite_lifecycle``, ``sqlite_ingest``); False takes the SQLAlchemy path,
        #: which PostgreSQL takes (tests compare the two)
        self.driver_path = self.dialect.is_sqlite
        self._driver_writes = sqlite_lifecycle.WriteConnection(
            self.engine, self.dialect.write_lock, self._sqlite_path
        )

    # -- experiments ---------------------------------------------------------------------

    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        with self._write() as conn:
            row = {"name": name, "created_time": time.time(), "archived": False,
                   "next_run_number": 1}
            self.dialect.insert_ignore(conn, experiments, [row], ["name"])
            return _query.experiment_infos(conn, experiments.c.name == name)[0]

    def get_experiment(self, experiment_id: str) -> ExperimentInfo:
        with self._read() as conn:
            return _experiment(conn, experiment_id)

    def get_experiment_by_name(self, name: str) -> ExperimentInfo | None:
        with self._read() as conn:
            found = _query.experiment_infos(conn, experiments.c.name == name)
            return found[0] if found else None

    def list_experiments(self, include_archived: bool = False) -> list[ExperimentInfo]:
        with self._read() as conn:
            where = [] if include_archived else [experiments.c.archived.is_(False)]
            return _query.experiment_infos(conn, *where)

    def set_experiment_tags(self, experiment_id: str, tags: dict[str, str | None]) -> None:
        with self._write() as conn:
            key = _experiment(conn, experiment_id).id
            _upsert_tags(conn, experiment_tags, experiment_tags.c.experiment_id, int(key), tags)

    def remove_experiment_tags(self, experiment_id: str, keys: Sequence[str]) -> None:
        with self._write() as conn:
            key = int(_experiment(conn, experiment_id).id)
            conn.execute(
                delete(experiment_tags).where(
                    experiment_tags.c.experiment_id == key, experiment_tags.c.key.in_(list(keys))
                )
            )

    def update_experiment(
        self, experiment_id: str, *, name: str | None = None, archived: bool | None = None
    ) -> ExperimentInfo:
        with self._write() as conn:
            current = _experiment(conn, experiment_id)
            values: dict[str, Any] = {}
            if name is not None and name != current.name:
                taken = conn.execute(
                    select(experiments.c.id).where(experiments.c.name == name)
                ).first()
                if taken is not None:
                    raise ConflictError(
                        f"an experiment called {name!r} already exists; choose another name"
                    )
                values["name"] = name
            if archived is not None:
                values["archived"] = archived
            if values:
                conn.execute(
                    update(experiments).where(experiments.c.id == int(current.id)).values(values)
                )
            return _experiment(conn, experiment_id)

    # -- runs --------------------------------------------------------------------------------

    def create_run(self, new: NewRun) -> RunInfo:
        if self.driver_path:  # straight through the driver (see sqlite_lifecycle)
            with self._sqlite_write() as cur:
                return sqlite_lifecycle.create_run(cur, new)
        status, run_id, parent_id = RunStatus(new.status), new.run_id, new.parent_id
        key = _query.experiment_key(new.experiment_id)
        with self._write() as conn:
            if parent_id is not None:
                require_run(conn, parent_id)
            taken = None if key is None else conn.execute(
                _lifecycle.TAKE_RUN_NUMBER, {"b_key": key}
            ).first()
            if key is None or taken is None:
                raise NotFoundError(f"experiment {new.experiment_id!r} does not exist")
            number, experiment_name = int(taken.next_run_number) - 1, str(taken.name)
            now = time.time()
            definition = json.dumps(new.definition) if new.definition else None
            try:  # a taken id: the primary key says so (no read first)
                conn.execute(
                    insert(runs).values(
                        id=run_id, experiment_id=key, number=number,
                        display_name=new.display_name, status=status.value,
                        run_type=new.run_type, parent_id=parent_id, created_time=now,
                        start_time=now if status is RunStatus.RUNNING else None,
                        end_time=now if status.is_terminal else None, last_activity=now,
                        description=new.description, compute_target=new.compute_target,
                        definition=definition, error=None,
                    )
                )
            except IntegrityError as exc:
                raise ConflictError(
                    f"a run with id {run_id!r} already exists; use a new id"
                ) from exc
            if new.tags:
                _lifecycle.set_run_tags(conn, self.dialect, run_id, new.tags)
            if new.properties:
                _add_properties(conn, run_id, new.properties)
        # what was just written, without reading it back
        return RunInfo(
            id=run_id, experiment_id=str(key), experiment_name=experiment_name, number=number,
            display_name=new.display_name, status=status, run_type=new.run_type,
            created_time=now, start_time=now if status is RunStatus.RUNNING else None,
            end_time=now if status.is_terminal else None, parent_id=parent_id,
            description=new.description, compute_target=new.compute_target,
            tags=dict(new.tags), properties=dict(new.properties),
            definition=json.loads(definition) if definition else {},
        )

    def get_run(self, run_id: str) -> RunInfo:
        with self._read() as conn:
            return _run(conn, run_id)

    def search_runs(self, query: RunQuery) -> list[RunInfo]:
        with collector_paused(), self._read() as conn:
            return _query.search(conn, query)

    def count_runs(self, query: RunQuery) -> int:
        with self._read() as conn:
            return _query.count(conn, query)

    def update_run(
        self, run_id: str, *, display_name: str | None = None, description: str | None = None
    ) -> RunInfo:
        with self._write() as conn:
            require_run(conn, run_id)
            values: dict[str, Any] = {}
            if display_name is not None:
                values["display_name"] = display_name
            if description is not None:
                values["description"] = description
            if values:
                values["last_activity"] = time.time()
                conn.execute(update(runs).where(runs.c.id == run_id).values(values))
            return _run(conn, run_id)

    def set_status(
        self, run_id: str, status: RunStatus, *, error: ErrorInfo | None = None
    ) -> RunInfo:
        status = RunStatus(status)
        if self.driver_path:
            with self._sqlite_write() as cur:
                return sqlite_lifecycle.set_status(cur, run_id, status, error)
        with self._write() as conn:
            row = require_run(conn, run_id)
            current = RunStatus(row.status)
            if current is status:
                return _run(conn, run_id)
            if current.is_terminal:
                raise RunStateError(
                    f"run {run_id!r} is already {current.value} and cannot become "
                    f"{status.value}; terminal states are final"
                )
            now = time.time()
            values: dict[str, Any] = {"status": status.value, "last_activity": now}
            if status is RunStatus.RUNNING and row.start_time is None:
                values["start_time"] = now
            if status.is_terminal:
                values["end_time"] = now
            if error is not None:
                values["error"] = json.dumps(error.to_json())
            conn.execute(update(runs).where(runs.c.id == run_id).values(values))
            return _run(conn, run_id)

    def restate_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        start_time: float | None = None,
        end_time: float | None = None,
    ) -> RunInfo:
        """Optional extension (see :mod:`runtrack.store.base`): set status and times as a
        client reports them, without the lifecycle rules of :meth:`set_status`.

        For MLflow's face, where the client owns a run's clock and may resume a finished
        run: ``status`` may leave a terminal state; a non-terminal status clears
        ``end_time`` unless one is given; a terminal one without ``end_time`` ends now.
        None leaves a field as it is.
        """
        with self._write() as conn:
            row = require_run(conn, run_id)
            now = time.time()
            values: dict[str, Any] = {"last_activity": now}
            if status is not None:
                status = RunStatus(status)
                values["status"] = status.value
                if status.is_terminal:
                    if end_time is None and not RunStatus(row.status).is_terminal:
                        values["end_time"] = now
                else:
                    values["end_time"] = None
                if status is RunStatus.RUNNING and row.start_time is None:
                    values["start_time"] = now
            if start_time is not None:
                values["start_time"] = start_time
            if end_time is not None:
                values["end_time"] = end_time
            conn.execute(update(runs).where(runs.c.id == run_id).values(values))
            return _run(conn, run_id)

    def set_tags(self, run_id: str, tags: dict[str, str | None]) -> None:
        if self.driver_path:
            with self._sqlite_write() as cur:
                sqlite_lifecycle.set_tags(cur, run_id, tags)
            return
        with self._write() as conn:
            _lifecycle.set_run_tags(conn, self.dialect, run_id, tags)

    def remove_tags(self, run_id: str, keys: Sequence[str]) -> None:
        with self._write() as conn:
            require_run(conn, run_id)
            conn.execute(
                delete(run_tags).where(run_tags.c.run_id == run_id, run_tags.c.key.in_(list(keys)))
            )

    def add_properties(self, run_id: str, properties: dict[str, str]) -> None:
        with self._write() as conn:
            require_run(conn, run_id)
            _add_properties(conn, run_id, properties)

    def delete_run(self, run_id: str) -> None:
        with self._write() as conn:
            require_run(conn, run_id)
            doomed, frontier = [run_id], [run_id]
            while frontier:
                frontier = [
                    child
                    for part in ingest.in_batches(frontier)
                    for child in conn.execute(select(runs.c.id).where(runs.c.parent_id.in_(part)))
                    .scalars()
                ]
                doomed += frontier
            for part in ingest.in_batches(doomed):
                ids = list(part)
                owned = select(series.c.id).where(series.c.run_id.in_(ids))
                conn.execute(delete(chunks).where(chunks.c.series_id.in_(owned)))
                for table in (series, ingest_cursors, run_tags, run_properties, run_inputs):
                    conn.execute(delete(table).where(table.c.run_id.in_(ids)))
            for part in ingest.in_batches(doomed[::-1]):
                conn.execute(delete(runs).where(runs.c.id.in_(list(part))))

    def _sqlite_write(self) -> AbstractContextManager[sqlite3.Cursor]:
        """A driver cursor in a write transaction (SQLite only; see sqlite_lifecycle)."""
        return self._driver_writes.transaction()

    # -- metrics -------------------------------------------------------------------------------

    def ingest(self, run_id: str, batch: MetricBatch) -> int:
        # PostgreSQL: ingests of different runs go side by side (apply_batch locks the
        # run's row, which orders those of one run, across replicas too)
        if self.engine.dialect.driver == "psycopg":  # PostgreSQL through psycopg 3
            from runtrack.store.sql import pg_ingest

            with self._write_unlocked() as conn:
                return pg_ingest.apply_batch(conn, run_id, batch)
        if self.driver_path:  # straight through the driver (see sqlite_ingest)
            with self._sqlite_write() as cur:
                return sqlite_ingest.apply_batch(cur, run_id, batch)
        write = self._write if self.dialect.is_sqlite else self._write_unlocked
        with write() as conn:
            return ingest.apply_batch(conn, self.dialect, run_id, batch)

    def ingest_position(self, run_id: str, stream: str) -> int:
        with self._read() as conn:
            require_run(conn, run_id)
            position = conn.execute(
                select(ingest_cursors.c.next_seq).where(
                    ingest_cursors.c.run_id == run_id, ingest_cursors.c.stream == stream
                )
            ).scalar()
            return 0 if position is None else int(position)

    def list_series(self, run_id: str) -> list[SeriesInfo]:
        if self.dialect.is_sqlite:  # one statement: no transaction needed (see the helper)
            found = self._sqlite_run_summaries(run_id)
            if found:
                return found
        with self._read() as conn:
            found = _query.run_summaries(conn, run_id)
            if not found:
                require_run(conn, run_id)  # no series, or no such run
            return found

    def _sqlite_run_summaries(self, run_id: str) -> list[SeriesInfo]:
        """``list_series`` on SQLite straight through the driver: a v1 listing calls it
        once per run (``get_metrics()`` re-reads the run's series so that nothing stale
        is served), and SQLAlchemy's BEGIN, statement and COMMIT cost twice the query.
        A single SELECT on a connection in autocommit mode is its own read transaction."""
        with self.engine.connect() as conn:
            try:
                cursor = conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                    _query.RUN_SERIES_SQLITE, (run_id,)
                )
                rows = cursor.fetchall()
            except sqlite3.Error as exc:
                error = sqlite_error(self._sqlite_path, exc)
                if error is not None:
                    raise error from exc
                raise
        return [_query.series_info(row) for row in rows]

    def read_series(
        self, run_id: str, name: str, start: int = 0, end: int | None = None
    ) -> SeriesData:
        with self._read() as conn:
            series_id, kind = _series(conn, run_id, name)
            return points.read_series(conn, series_id, name, kind, start, end)

    def read_series_values(
        self, run_id: str, name: str, start: int = 0, end: int | None = None
    ) -> tuple[str, bytes] | None:
        """Optional fast read (see ``store.base``): values ``start:end`` of a series as
        ``(encoding, packed little-endian bytes)`` — ``f`` float64, ``i`` int64, ``b``
        int8 booleans — or None when the range mixes encodings or holds other values."""
        if start < 0 or (end is not None and end < start):
            return None
        with self._read() as conn:
            series_id, _ = _series(conn, run_id, name)
            return points.read_values_packed(conn, series_id, start, end)

    def read_all_series(
        self, run_ids: Sequence[str], names: Sequence[str] | None = None
    ) -> dict[str, dict[str, SeriesData]]:
        result: dict[str, dict[str, SeriesData]] = {run_id: {} for run_id in run_ids}
        if names is not None and not names:
            return result
        with collector_paused(), self._read() as conn:
            wanted: list[tuple[str, int, str, MetricKind]] = []
            for part in in_batches(list(result)):
                statement = (
                    select(series.c.run_id, series.c.id, series.c.name, series.c.kind)
                    .where(series.c.run_id.in_(part))
                    .order_by(series.c.id)
                )
                if names is not None:
                    statement = statement.where(series.c.name.in_(list(names)))
                wanted += [(r.run_id, r.id, r.name, MetricKind(r.kind))
                           for r in conn.execute(statement).all()]
            data = points.read_many(conn, [(sid, name, kind) for _, sid, name, kind in wanted])
        for run_id, sid, name, _ in wanted:
            result[run_id][name] = data[sid]
        return result

    def downsample(
        self,
        run_id: str,
        name: str,
        buckets: int,
        *,
        x: str = "index",
        x_min: float | None = None,
        x_max: float | None = None,
    ) -> list[Bucket]:
        with self._read() as conn:
            series_id, _ = _series(conn, run_id, name)
            return points.downsample(conn, series_id, buckets, x, x_min, x_max)

    def get_summaries(
        self, run_ids: Sequence[str], names: Sequence[str] | None = None
    ) -> dict[str, dict[str, SeriesInfo]]:
        with collector_paused(), self._read() as conn:
            return _query.summaries(conn, run_ids, names)

    def read_metric_table(
        self, run_ids: Sequence[str], names: Sequence[str] | None, *, system: bool = True
    ) -> list[ScalarSummary]:
        """Optional (``store.readers.MetricTableReader``): the runs' scalar summaries as
        tuples, for ``Experiment.search_runs`` and MLflow's ``runs/search``."""
        with collector_paused(), self._read() as conn:
            return _query.metric_table(conn, run_ids, names, system)

    def read_top_points(self, run_ids: Sequence[str]) -> list[TopPoint]:
        """Optional (``store.readers.TopPointReader``): MLflow's latest point of each
        scalar series of the runs, for ``runs/search``."""
        with collector_paused(), self._read() as conn:
            return _query.top_points(conn, run_ids)

    def read_series_index(self, run_ids: Sequence[str]) -> list[tuple[str, str, str, int]]:
        """Optional (``store.readers.SeriesIndexReader``): name, kind and count of each
        series of the runs, for ``Experiment.get_runs``."""
        with collector_paused(), self._read() as conn:
            return _query.series_index(conn, run_ids)

    def read_run_table(
        self, query: RunQuery, names: Sequence[str] | None, *, system: bool = False
    ) -> RunTable:
        """Optional (``store.readers.RunTableReader``): ``Experiment.search_runs``'
        table in one read transaction."""
        with collector_paused(), self._read() as conn:
            return listread.run_table(conn, query, names, system)

    def read_listing_values(self, run_ids: Sequence[str]) -> list[ListedSeries]:
        """Optional (``store.readers.ListingReader``): every value of the runs' user
        series, for ``get_metrics()`` on the runs of ``Experiment.get_runs``."""
        with collector_paused(), self._read() as conn:
            return listread.listing_values(conn, run_ids)

    def read_listing_stamps(self, run_id: str) -> list[Stamp]:
        """Optional (``store.readers.ListingReader``): name, kind, count and last time
        of the run's user series; on SQLite one SELECT through the driver (see
        :meth:`_sqlite_run_summaries`)."""
        if not self.dialect.is_sqlite:
            with self._read() as conn:
                return listread.listing_stamps(conn, run_id)
        with self.engine.connect() as conn:
            try:
                return listread.sqlite_stamps(
                    conn.connection.driver_connection, run_id  # type: ignore[arg-type]
                )
            except sqlite3.Error as exc:
                error = sqlite_error(self._sqlite_path, exc)
                if error is not None:
                    raise error from exc
                raise

    def listing_watch(self) -> listread.CommitWatch | None:
        """Optional (``store.readers.ListingReader``): on a SQLite file, a watch that
        sees any commit to it from now on; None elsewhere."""
        path = self._sqlite_path
        if not self.dialect.is_sqlite or path in ("", ":memory:") or path.startswith("file:"):
            return None
        try:
            return listread.CommitWatch(path)
        except sqlite3.Error:
            return None

    def close(self) -> None:
        self._driver_writes.close()
        self.engine.dispose()


# -- helpers (all take the caller's connection) ---------------------------------------------


def _experiment(conn: Connection, experiment_id: str) -> ExperimentInfo:
    key = _query.experiment_key(experiment_id)
    found = _query.experiment_infos(conn, experiments.c.id == key) if key is not None else []
    if not found:
        raise NotFoundError(f"experiment {experiment_id!r} does not exist")
    return found[0]


def _run(conn: Connection, run_id: str) -> RunInfo:
    found = _query.load_run(conn, run_id)
    if found is None:
        raise NotFoundError(f"run {run_id!r} does not exist")
    return found


def _series(conn: Connection, run_id: str, name: str) -> tuple[int, MetricKind]:
    row = conn.execute(
        select(series.c.id, series.c.kind).where(series.c.run_id == run_id, series.c.name == name)
    ).first()
    if row is None:
        require_run(conn, run_id)
        raise NotFoundError(f"run {run_id!r} has no metric called {name!r}")
    return int(row.id), MetricKind(row.kind)


def _upsert_tags(
    conn: Connection, table: Any, owner: Any, owner_id: Any, tags: dict[str, str | None]
) -> None:
    if not tags:
        return
    present = set(
        conn.execute(select(table.c.key).where(owner == owner_id)).scalars()
    )
    owner_column = owner.name
    changed = [k for k in tags if k in present]
    if changed:
        conn.execute(
            delete(table).where(owner == owner_id, table.c.key.in_(changed))
        )
    conn.execute(
        insert(table), [{owner_column: owner_id, "key": k, "value": v} for k, v in tags.items()]
    )


def _add_properties(conn: Connection, run_id: str, properties: dict[str, str]) -> None:
    if not properties:
        return
    rows = conn.execute(
        select(run_properties.c.key, run_properties.c.value).where(
            run_properties.c.run_id == run_id
        )
    )
    new = _lifecycle.new_properties(run_id, {key: value for key, value in rows}, properties)
    if new:
        conn.execute(
            insert(run_properties),
            [{"run_id": run_id, "key": k, "value": v} for k, v in new.items()],
        )
