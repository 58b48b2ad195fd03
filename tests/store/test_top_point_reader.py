"""``SqlStore.read_top_points`` (``store.readers.TopPointReader``): MLflow's latest point of
each scalar series (the highest step, then time, then value), read for a whole
``runs/search`` page in five columns, on SQLite and PostgreSQL; and the route's
fallback for a store without it gives the same points."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from runtrack.model import MetricBatch, NewRun
from runtrack.server.mlflow.runs import _top_points
from runtrack.store import sql as sql_store_module
from runtrack.store.memory import MemoryStore
from runtrack.store.readers import TopPointReader
from runtrack.store.sql import SqlStore


@pytest.fixture
def store(sql_url: str) -> Iterator[SqlStore]:
    opened = SqlStore(sql_url)
    yield opened
    opened.close()


def _fill(store: Any, runs: int) -> list[str]:
    exp = store.get_or_create_experiment("top")
    ids = []
    for i in range(runs):
        run_id = f"run-{i}"
        store.create_run(NewRun(exp.id, run_id, run_id, "mlflow"))
        store.ingest(run_id, MetricBatch("s", 0, [
            # async logging: step 5 arrives first, step 2 last; the top point is step 5
            ("acc", "scalar", 5, 10.0, 0.9 + i), ("acc", "scalar", 2, 20.0, 0.1),
            # same step twice: the later time wins
            ("loss", "scalar", 3, 1.0, 4.0), ("loss", "scalar", 3, 2.0, 3.0 - i),
            ("plain", "scalar", None, 3.0, i),  # no step: step 0
            ("nan", "scalar", 1, 4.0, math.nan),
            ("inf", "scalar", 1, 4.5, -math.inf),
            ("text", "scalar", None, 5.0, f"run-{i}"),  # holds no number: left out
            ("curve", "list", None, 6.0, 1.5),  # not a scalar: left out
            ("sys/cpu", "scalar", None, 7.0, 50.0 + i),  # system metrics are listed
        ]))
        ids.append(run_id)
    return ids


def _plain(points: list[Any]) -> list[tuple[Any, ...]]:
    return [tuple("NaN" if isinstance(v, float) and math.isnan(v) else v for v in point)
            for point in points]


def test_the_top_point_of_each_scalar_series(store: SqlStore) -> None:
    ids = _fill(store, 2)
    assert isinstance(store, TopPointReader)
    points = store.read_top_points([ids[1], "no-such-run"])
    assert _plain(points) == [
        ("run-1", "acc", 1.9, 10.0, 5),
        ("run-1", "loss", 2.0, 2.0, 3),
        ("run-1", "plain", 1.0, 3.0, 0),
        ("run-1", "nan", "NaN", 4.0, 1),
        ("run-1", "inf", -math.inf, 4.5, 1),
        ("run-1", "sys/cpu", 51.0, 7.0, 0),
    ]
    assert all(type(point[2]) is float for point in points)
    assert store.read_top_points([]) == []


def test_a_store_without_it_gives_the_same_points(store: SqlStore) -> None:
    ids = _fill(store, 3)
    memory = MemoryStore()
    _fill(memory, 3)
    assert not isinstance(memory, TopPointReader)
    assert _plain(_top_points(memory, ids)) == _plain(store.read_top_points(ids))


def test_many_runs_are_read_in_batches(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql_store_module._query, "in_batches",
                        lambda items, size=2: [items[i : i + size]
                                               for i in range(0, len(items), size)])
    ids = _fill(store, 5)
    points = store.read_top_points([*ids, "no-such-run"])
    assert [p[0] for p in points if p[1] == "acc"] == ids
