"""The driver-level ingest paths store what the generic path stores.

SQLite (``store/sql/sqlite_ingest.py``) and PostgreSQL (``store/sql/pg_ingest.py``) each
write a batch with a few fixed driver statements. One random spool (the generator of
``test_columnar_ingest``) is shipped into two runs of one database: through
``SqlStore.ingest`` (the driver-level path) and through the generic SQLAlchemy Core
``ingest.apply_batch``. Batches are cut at random sizes, partly resent and written in
columns or in records, with small chunks so that top-ups and new chunks alternate; chunk
rows, series summaries and cursors must be identical.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from runtrack.errors import (
    InvalidValueError,
    LimitExceededError,
    NotFoundError,
    StoreUnavailableError,
)
from runtrack.model import MetricBatch, NewRun, RunStatus
from runtrack.spool.reader import Position, SpoolReader
from runtrack.store.sql import SqlStore, ingest
from runtrack.store.sql.schema import chunks, ingest_cursors, runs, series
from tests.store.test_columnar_ingest import _same_rows, _write_spool

pytest.importorskip("numpy")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    url = (f"sqlite:///{tmp_path / 'db.sqlite'}" if backend == "sqlite"
           else str(request.getfixturevalue("postgres_url")))
    sql_store = SqlStore(url)
    exp = sql_store.get_or_create_experiment("e")
    for run_id in ("fast", "generic"):
        sql_store.create_run(NewRun(exp.id, run_id, display_name=run_id, run_type="script",
                                    status=RunStatus.RUNNING))
    yield sql_store
    sql_store.close()


def _generic(store: SqlStore, run_id: str, batch: MetricBatch) -> int:
    with store.engine.begin() as conn:
        return ingest.apply_batch(conn, store.dialect, run_id, batch)


def _ship(store: SqlStore, folder: Path, rng: random.Random) -> None:
    position = Position()
    while True:
        reader = SpoolReader(folder, "s", position, columnar=rng.random() < 0.5)
        chunk = reader.read(rng.randint(1, 400))
        reader.close()
        if not len(chunk.records) and (reader.finished or chunk.end == position):
            return
        batch = (
            MetricBatch.from_columns("s", chunk.first_seq, chunk.columns, chunk.descriptions)
            if chunk.columns is not None
            else MetricBatch("s", chunk.first_seq, list(chunk.records), chunk.descriptions)
        )
        resend = rng.random() < 0.2
        for _ in range(2 if resend else 1):  # a resend is skipped
            assert store.ingest("fast", batch) == _generic(store, "generic", batch)
        position = chunk.end


def _dump(store: SqlStore, run_id: str) -> tuple[list[Any], list[Any], list[Any]]:
    """The run's chunks (keyed by metric name), series rows and cursors, without ids."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(series.c.name, *[c for c in chunks.c if c.name != "series_id"])
            .join(series, series.c.id == chunks.c.series_id)
            .where(series.c.run_id == run_id)
            .order_by(series.c.name, chunks.c.chunk_no)
        ).all()
        summary = conn.execute(
            select(*[c for c in series.c if c.name not in ("id", "run_id")])
            .where(series.c.run_id == run_id).order_by(series.c.name)
        ).all()
        cursor = conn.execute(
            select(ingest_cursors.c.stream, ingest_cursors.c.next_seq)
            .where(ingest_cursors.c.run_id == run_id)
        ).all()
    return [tuple(r) for r in rows], [tuple(r) for r in summary], [tuple(r) for r in cursor]


@pytest.mark.parametrize("seed", range(3))
def test_driver_path_stores_what_the_generic_path_stores(
    seed: int, store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "TARGET_CHUNK", 50)
    rng = random.Random(seed)
    total = _write_spool(tmp_path / "spool", rng)
    _ship(store, tmp_path / "spool", random.Random(seed + 1000))
    assert store.ingest_position("fast", "s") == total
    (chunks_a, series_a, cursor_a) = _dump(store, "fast")
    (chunks_b, series_b, cursor_b) = _dump(store, "generic")
    assert len(chunks_a) > len(series_a)  # several chunks per series: top-ups and new ones
    _same_rows(chunks_a, chunks_b)
    _same_rows(series_a, series_b)
    assert cursor_a == cursor_b == [("s", total)]


def test_many_new_names_in_one_batch(
    store: SqlStore, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New series are created (and their states returned) in parts of ``_MAX_NAMES``;
    the stored series and chunks are the generic path's, in a first batch and in a
    later one that adds names beside known ones."""
    if backend == "sqlite":
        from runtrack.store.sql import sqlite_ingest

        monkeypatch.setattr(sqlite_ingest, "_MAX_NAMES", 3)
    first = [(f"m{k}", "scalar", step, 1.0 + step, step * 0.5 + k)
             for step in range(3) for k in range(7)]
    later = [(f"m{k}", "scalar", 3, 9.0, float(k)) for k in range(4, 12)]
    for run_id, apply in (("fast", store.ingest),
                          ("generic", lambda r, b: _generic(store, r, b))):
        assert apply(run_id, MetricBatch("s", 0, first, {"m1": "one"})) == len(first)
        assert apply(run_id, MetricBatch("s", len(first), later, {"m9": "nine"})) == (
            len(first) + len(later))
    (chunks_a, series_a, _) = _dump(store, "fast")
    (chunks_b, series_b, _) = _dump(store, "generic")
    assert len(series_a) == 12
    _same_rows(chunks_a, chunks_b)
    _same_rows(series_a, series_b)


def test_descriptions_and_last_activity(store: SqlStore) -> None:
    with store.engine.connect() as conn:
        before = conn.execute(select(runs.c.last_activity).where(runs.c.id == "fast")).scalar()
    assert before is not None
    later = before + 100.0
    batch = MetricBatch("s", 0, [("m", "scalar", 0, later, 1.0)], {"m": "the loss"})
    assert store.ingest("fast", batch) == 1
    assert store.ingest("fast", MetricBatch("s", 1, [], {"m": "renamed"})) == 1
    assert store.ingest("fast", MetricBatch("s", 1, [("m", "scalar", 1, before, 2)])) == 2
    (info,) = store.list_series("fast")
    assert (info.description, info.count, info.last, info.minimum, info.maximum) == (
        "renamed", 2, 2.0, 1.0, 2.0)
    with store.engine.connect() as conn:
        # the run's last activity only moves forward
        assert conn.execute(
            select(runs.c.last_activity).where(runs.c.id == "fast")
        ).scalar() == later


def test_errors_name_the_cause(
    store: SqlStore, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    point = [("m", "scalar", 0, 1.0, 1.0)]
    with pytest.raises(NotFoundError, match="'nope' does not exist"):
        store.ingest("nope", MetricBatch("s", 0, point))
    with pytest.raises(InvalidValueError, match="starts at sequence 3 but the store expects 0"):
        store.ingest("fast", MetricBatch("s", 3, point))
    if backend == "postgres":  # PostgreSQL's text cannot hold NUL
        with pytest.raises(InvalidValueError, match=r"refused a value.*NUL"):
            store.ingest("fast", MetricBatch("s\x00", 0, point))
    store.ingest("fast", MetricBatch("s", 0, point))
    with pytest.raises(InvalidValueError, match="holds scalar values"):
        store.ingest("fast", MetricBatch("s", 1, [("m", "list", None, 1.0, 1.0)]))
    with monkeypatch.context() as patch:
        patch.setattr("runtrack.limits.MAX_BATCH_RECORDS", 1)
        with pytest.raises(LimitExceededError, match="MAX_BATCH_RECORDS"):
            store.ingest("fast", MetricBatch("s", 1, point * 2))
    if backend == "sqlite":
        with monkeypatch.context() as patch:
            patch.setattr("runtrack.limits.MAX_METRIC_NAMES_PER_RUN", 2)
            more = [("a", "scalar", 1, 2.0, 1.0), ("b", "scalar", 1, 2.0, 1.0)]
            with pytest.raises(LimitExceededError, match="would have 3 metric names"):
                store.ingest("fast", MetricBatch("s", 1, more))
    # nothing of the refused batches was kept, and the store still works
    assert store.ingest("fast", MetricBatch("s", 1, [("m", "scalar", 1, 2.0, 3.0)])) == 2
    assert store.read_series("fast", "m").values == [1.0, 3.0]
    if backend == "sqlite":
        assert [s.name for s in store.list_series("fast")] == ["m"]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_unusable_database_file_is_named(store: SqlStore, tmp_path: Path) -> None:
    """A raw driver error that means the SQLite file cannot be used says which file and
    what to do, as the SQLAlchemy path does; the store gives that connection up, and its
    next write checks out another."""
    store.ingest("fast", MetricBatch("s", 0, [("m", "scalar", 0, 1.0, 1.0)]))
    with store._sqlite_write() as cur:  # the connection the store keeps for these writes
        cur.execute("PRAGMA query_only=ON")
    with pytest.raises(StoreUnavailableError, match=r"db\.sqlite.*read-only"):
        store.ingest("fast", MetricBatch("s", 1, [("m", "scalar", 1, 2.0, 2.0)]))
    assert store.ingest("fast", MetricBatch("s", 1, [("m", "scalar", 1, 2.0, 2.0)])) == 2
