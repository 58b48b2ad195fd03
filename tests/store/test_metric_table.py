"""``SqlStore.read_metric_table`` (``store.readers.MetricTableReader``): the tuples behind
``Experiment.search_runs`` hold what ``get_summaries`` holds, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtrack.model import MetricBatch, MetricKind, NewRun
from runtrack.store import sql as sql_store_module
from runtrack.store.memory import MemoryStore
from runtrack.store.readers import (
    MetricTableReader,
    ScalarSummary,
    SeriesIndexReader,
    scalar_summaries,
)
from runtrack.store.sql import SqlStore


@pytest.fixture
def store(sql_url: str) -> Iterator[SqlStore]:
    opened = SqlStore(sql_url)
    yield opened
    opened.close()


def _fill(store: Any, runs: int) -> list[str]:
    exp = store.get_or_create_experiment("table")
    ids = []
    for i in range(runs):
        run_id = f"run-{i}"
        store.create_run(NewRun(exp.id, run_id, run_id, "script"))
        store.ingest(run_id, MetricBatch("s", 0, [
            ("loss", "scalar", 0, 1.0, 1.0 / (i + 1)), ("loss", "scalar", 1, 2.0, 2.0 * i),
            ("acc", "scalar", None, 3.0, i),  # an int stays an int
            ("text", "scalar", None, 4.0, f"run-{i}"),
            ("nan", "scalar", None, 5.0, math.nan),
            ("curve", "list", None, 6.0, 1.5),  # not a scalar: left out
            ("sys/cpu", "scalar", None, 7.0, 50.0 + i),
        ]))
        ids.append(run_id)
    return ids


def _from_summaries(
    store: Any, ids: list[str], names: list[str] | None, system: bool = True
) -> list[Any]:
    return [
        _nan_free_row(ScalarSummary.of(run_id, s))
        for run_id, by_name in store.get_summaries(ids, names).items()
        for name, s in by_name.items()
        if s.kind is MetricKind.SCALAR
        and (system or names is not None or not name.startswith("sys/"))
    ]


def _nan_free(value: Any) -> Any:
    return "NaN" if isinstance(value, float) and math.isnan(value) else value


def _nan_free_row(row: ScalarSummary) -> tuple[Any, ...]:
    return tuple(map(_nan_free, row))


def _rows(rows: list[ScalarSummary]) -> list[Any]:
    return [_nan_free_row(row) for row in rows]


def test_the_tuples_are_the_summaries(store: SqlStore) -> None:
    ids = _fill(store, 3)
    assert isinstance(store, MetricTableReader)
    rows = store.read_metric_table(ids, None, system=False)
    assert _rows(rows) == _from_summaries(store, ids, None, system=False)
    assert {row.name for row in rows} == {"loss", "acc", "text", "nan"}  # sys/ left out
    everything = store.read_metric_table(ids, None)
    assert _rows(everything) == _from_summaries(store, ids, None)
    assert len(everything) == len(rows) + 3
    loss = next(row for row in rows if row.name == "loss" and row.run_id == "run-2")
    assert (loss.points, loss.last_step, loss.top_value, loss.top_step) == (2, 1, 4.0, 1)
    nan = next(row for row in rows if row.name == "nan")
    assert math.isnan(nan.last) and math.isnan(nan.top_value)  # type: ignore[arg-type]
    acc = {row.run_id: row.last_value for row in rows if row.name == "acc"}
    assert acc == {"run-0": 0, "run-1": 1, "run-2": 2} and type(acc["run-1"]) is int
    named = store.read_metric_table(ids[:2], ["sys/cpu", "text", "missing"])
    assert _rows(named) == _from_summaries(store, ids[:2], ["sys/cpu", "text", "missing"])
    assert len(named) == 4
    assert store.read_metric_table(ids, []) == []
    memory = MemoryStore()
    _fill(memory, 3)
    for names in (None, ["loss", "sys/cpu"]):
        for system in (True, False):
            assert _rows(scalar_summaries(memory, ids, names, system=system)) == _rows(
                store.read_metric_table(ids, names, system=system))
    assert store.read_metric_table([], None) == []


def test_many_runs_are_read_in_batches(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql_store_module._query, "in_batches",
                        lambda items, size=2: [items[i : i + size]
                                               for i in range(0, len(items), size)])
    ids = _fill(store, 5)
    rows = store.read_metric_table([*ids, "no-such-run"], ["loss"])
    assert sorted(r.run_id for r in rows) == ids


def test_a_store_without_it_serves_the_same_table(tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    from runtrack.model import RunQuery
    from runtrack.sdk._runs_table import runs_table

    memory, sql = MemoryStore(), SqlStore(f"sqlite:///{tmp_path / 'runtrack.db'}")
    assert not isinstance(memory, MetricTableReader)
    tables = []
    for store in (memory, sql):
        _fill(store, 4)
        exp = store.get_or_create_experiment("table")
        query = RunQuery(experiment_ids=[exp.id], order_by=[("display_name", False)])
        tables.append(runs_table(store, query, None, True))
        assert runs_table(store, query, ["sys/cpu", "acc"], False)[1]["metrics.sys/cpu"] == 51.0
    sql.close()
    mine, theirs = (t.drop(columns=["created_time", "start_time", "end_time"]) for t in tables)
    pandas.testing.assert_frame_equal(mine, theirs)


def test_the_series_index_is_the_summaries_in_order(store: SqlStore) -> None:
    from runtrack.sdk._listing import series_index

    ids = _fill(store, 3)
    assert isinstance(store, SeriesIndexReader)
    rows = store.read_series_index([*ids, "no-such-run"])
    summaries = store.get_summaries(ids)
    assert rows == [(run_id, name, s.kind.value, s.count)  # logged run after run
                    for run_id in ids for name, s in summaries[run_id].items()]
    ordered = series_index(store, ids[::-1])
    assert list(ordered) == ids[::-1] and ordered[ids[0]]["loss"] == ("scalar", 2)
    assert list(ordered[ids[0]]) == ["loss", "acc", "text", "nan", "curve", "sys/cpu"]
    memory = MemoryStore()
    _fill(memory, 3)
    assert not isinstance(memory, SeriesIndexReader)
    assert series_index(memory, ids) == series_index(store, ids)
