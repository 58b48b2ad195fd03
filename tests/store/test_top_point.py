"""The series summary's top point (highest step, then time, then value): MLflow's latest,
kept at ingest on both ingest paths, and back-filled by the migration that added it."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from runtrack.model import MetricBatch, NewRun, PointColumns
from runtrack.store.sql import SqlStore, migrations
from runtrack.store.sql.dialects import Dialect


@pytest.fixture
def store(tmp_path: Path) -> SqlStore:
    store = SqlStore(f"sqlite:///{tmp_path / 'rt.db'}")
    exp = store.get_or_create_experiment("e")
    store.create_run(NewRun(exp.id, "r", display_name="r", run_type="script"))
    return store


def _top(store: SqlStore, name: str) -> tuple[int | None, float | None, float | None]:
    info = store.get_summaries(["r"], [name])["r"][name]
    return info.top_step, info.top_time, info.top_value


def test_top_is_the_highest_step_not_the_last_logged(store: SqlStore) -> None:
    store.ingest("r", MetricBatch("s", 0, [
        ("m", "scalar", 5, 10.0, 0.5),
        ("m", "scalar", 2, 11.0, 0.9),  # logged later, lower step
    ]))
    assert _top(store, "m") == (5, 10.0, 0.5)
    assert store.get_summaries(["r"], ["m"])["r"]["m"].last == 0.9
    store.ingest("r", MetricBatch("s", 2, [("m", "scalar", 5, 12.0, 0.1)]))  # same step, later
    assert _top(store, "m") == (5, 12.0, 0.1)
    store.ingest("r", MetricBatch("s", 3, [
        ("m", "scalar", 5, 12.0, 0.3),  # same step and time: the larger value wins
        ("m", "scalar", 5, 12.0, float("nan")),  # NaN ranks lowest
        ("m", "scalar", None, 99.0, 7.0),  # no step counts as step 0
    ]))
    assert _top(store, "m") == (5, 12.0, 0.3)
    store.close()


def test_top_of_a_nan_point(store: SqlStore) -> None:
    store.ingest("r", MetricBatch("s", 0, [("m", "scalar", 1, 1.0, float("nan"))]))
    step, _, value = _top(store, "m")
    assert step == 1 and value is not None and math.isnan(value)
    store.close()


def test_columnar_path_keeps_the_same_top(store: SqlStore) -> None:
    pytest.importorskip("numpy")
    import numpy as np

    steps = np.array([3, 9, 1, 9], dtype="<i8")
    times = np.array([1.0, 2.0, 3.0, 2.0], dtype="<f8")
    values = np.array([0.1, 0.7, 0.2, 0.8], dtype="<f8")
    columns = PointColumns(
        names={0: ("m", "scalar")}, ids=np.zeros(4, dtype="<u4").tobytes(),
        steps=steps.tobytes(), times=times.tobytes(), values=values.tobytes(),
        types=bytes(4),
    )
    store.ingest("r", MetricBatch("s", 0, columns.to_records(), columns=columns))
    assert _top(store, "m") == (9, 2.0, 0.8)
    store.close()


def test_migration_back_fills_the_top_from_the_last_point(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    dialect = Dialect(url)
    engine = dialect.create_engine()
    migrations.upgrade(engine, dialect, "0001")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO experiments (id, name, created_time, archived, next_run_number) "
            "VALUES (1, 'e', 0, 0, 2)")
        conn.exec_driver_sql(
            "INSERT INTO runs (id, experiment_id, number, display_name, status, run_type, "
            "created_time, last_activity, compute_target) "
            "VALUES ('r', 1, 1, 'r', 'Running', 'script', 0, 0, 'local')")
        conn.exec_driver_sql(
            "INSERT INTO series (run_id, name, kind, description, count, last, last_nan, "
            "last_step, last_time) VALUES ('r', 'm', 'scalar', '', 2, 0.25, 0, 7, 5.0)")
    engine.dispose()
    store = SqlStore(url)
    assert _top(store, "m") == (7, 5.0, 0.25)
    store.close()
