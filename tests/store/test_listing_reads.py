"""The SQL store's bulk reads behind the listings (``store.readers.RunTableReader`` and
``ListingReader``) hold what the generic paths through the store protocol hold, on
SQLite and PostgreSQL; and the SQLite commit watch sees every write.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from typing import Any

import pytest

from runtrack.model import MetricBatch, NewRun, RunQuery, RunStatus
from runtrack.store.readers import (
    ListingReader,
    RunTable,
    RunTableReader,
    listing_stamps,
    listing_values,
    run_table,
)
from runtrack.store.sql import SqlStore


@pytest.fixture
def store(sql_url: str) -> Iterator[SqlStore]:
    opened = SqlStore(sql_url)
    yield opened
    opened.close()


def _fill(store: Any, runs: int = 4) -> tuple[str, list[str]]:
    exp = store.get_or_create_experiment("reads")
    ids = []
    for i in range(runs):
        run_id = f"run-{i}"
        store.create_run(NewRun(exp.id, run_id, f"name-{i}", "script",
                                tags={"fold": str(i % 2), **({"odd": None} if i % 2 else {})},
                                properties={"lr": str(i / 10)}))
        store.ingest(run_id, MetricBatch("s", 0, [
            ("loss", "scalar", 0, 1.0, 1.0 / (i + 1)), ("loss", "scalar", 1, 2.0, 2.0 * i),
            ("acc", "scalar", None, 3.0, i),
            ("flag", "scalar", None, 3.5, i % 2 == 0),
            ("nan", "scalar", None, 5.0, math.nan),
            ("curve", "list", None, 6.0, 1.5),
            ("table", "table", None, 6.5, {"epoch": i, "score": 0.5}),
            ("sys/cpu", "scalar", None, 7.0, 50.0 + i),
        ]))
        # a second batch: more chunks, one of them of another encoding
        store.ingest(run_id, MetricBatch("s", 8, [
            ("loss", "scalar", 2, 8.0, 3.0), ("acc", "scalar", None, 9.0, f"text-{i}"),
        ]))
        if i % 2:
            store.set_status(run_id, RunStatus.COMPLETED)
        ids.append(run_id)
    return exp.id, ids


def _generic(store: SqlStore, query: RunQuery, names: list[str] | None,
             system: bool = False) -> RunTable:
    """``run_table`` through the protocol only (search_runs + get_summaries)."""
    class Plain:  # the store without its optional reads
        def search_runs(self, q: RunQuery) -> Any:
            return store.search_runs(q)

        def get_summaries(self, ids: Any, wanted: Any = None) -> Any:
            return store.get_summaries(ids, wanted)

    plain: Any = Plain()
    assert not isinstance(plain, RunTableReader)
    return run_table(plain, query, names, system=system)


def _same(a: RunTable, b: RunTable) -> None:
    assert a.runs == b.runs  # same runs, same order, same fields
    assert sorted(a.tags) == sorted(b.tags) and sorted(a.properties) == sorted(b.properties)

    def cells(t: RunTable) -> list[Any]:
        return sorted((r, n, "nan" if isinstance(v, float) and math.isnan(v) else v, lo, hi)
                      for r, n, v, lo, hi in t.cells)

    assert cells(a) == cells(b)


@pytest.mark.parametrize(("query", "names", "system"), [
    (RunQuery(), None, False),
    (RunQuery(), None, True),
    (RunQuery(), ["loss", "sys/cpu", "missing"], False),
    (RunQuery(), [], False),
    (RunQuery(tags={"odd": None}), None, False),
    (RunQuery(status=[RunStatus.COMPLETED], order_by=[("number", False)]), None, False),
    (RunQuery(order_by=[("metric:loss:last", True)], limit=2, offset=1), ["loss"], False),
    (RunQuery(tags={"fold": "9"}), None, False),
])
def test_the_run_table_holds_what_search_runs_and_the_summaries_hold(
    store: SqlStore, query: RunQuery, names: list[str] | None, system: bool
) -> None:
    exp_id, _ = _fill(store)
    query = dataclasses.replace(query, experiment_ids=[exp_id])
    got = store.read_run_table(query, names, system=system)
    _same(got, _generic(store, query, names, system))
    if query.limit is None and not query.tags.get("fold"):
        assert len(got.runs) == (2 if query.tags or query.status else 4)
    assert all(isinstance(row, tuple) and len(row) == 9 for row in got.runs)


def test_listing_values_hold_every_value_of_the_user_series(store: SqlStore) -> None:
    _, ids = _fill(store)
    assert isinstance(store, ListingReader)
    got = store.read_listing_values(ids[1:3])
    for run_id in ids[1:3]:
        mine = [s for s in got if s.run_id == run_id]
        infos = [i for i in store.list_series(run_id) if not i.name.startswith("sys/")]
        assert [s.name for s in mine] == [i.name for i in infos]  # first-logged order
        for series, info in zip(mine, infos, strict=True):
            data = store.read_series(run_id, info.name)
            assert series.kind == info.kind.value and series.points == info.count
            assert series.last_time == info.last_time == data.times[-1]
            assert _nan_free(series.values) == _nan_free(data.values)
        assert [s.stamp for s in mine] == store.read_listing_stamps(run_id)
    acc = next(s for s in got if s.run_id == ids[1] and s.name == "acc")
    assert acc.values == [1, "text-1"] and type(acc.values[0]) is int
    flag = next(s for s in got if s.run_id == ids[2] and s.name == "flag")
    assert flag.values == [True] and type(flag.values[0]) is bool
    assert store.read_listing_stamps("no-such-run") == []


def test_the_generic_listing_reads_match_the_stores_own(store: SqlStore) -> None:
    _, ids = _fill(store)

    class Plain:  # the store without its optional reads
        def read_all_series(self, run_ids: Any, names: Any = None) -> Any:
            return store.read_all_series(run_ids, names)

        def list_series(self, run_id: str) -> Any:
            return store.list_series(run_id)

    plain: Any = Plain()
    names = ["loss", "acc", "flag", "nan", "curve", "table"]
    ours = {(s.run_id, s.name): s for s in store.read_listing_values(ids)}
    theirs = {(s.run_id, s.name): s for s in listing_values(plain, ids, names)}
    assert ours.keys() == theirs.keys()
    for key, series in ours.items():
        other = theirs[key]
        assert series.stamp == other.stamp
        assert _nan_free(series.values) == _nan_free(other.values)
    assert listing_stamps(plain, ids[0]) == store.read_listing_stamps(ids[0])


def test_the_sqlite_commit_watch_sees_writes_from_any_connection(tmp_path: Any) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'watch.db'}")
    other = SqlStore(f"sqlite:///{tmp_path / 'watch.db'}")  # another store, other pool
    try:
        _fill(store, 1)
        watch = store.listing_watch()
        assert watch is not None
        store.read_listing_values(["run-0"])  # reads are not writes
        store.read_listing_stamps("run-0")
        assert not watch.changed()
        store.ingest("run-0", MetricBatch("t", 0, [("loss", "scalar", 3, 10.0, 4.0)]))
        assert watch.changed()
        second = store.listing_watch()
        assert second is not None and not second.changed()
        other.set_tags("run-0", {"x": "y"})  # any commit counts, from any store
        assert second.changed()
        watch.close()
        assert watch.changed()  # a closed watch cannot tell
    finally:
        store.close()
        other.close()


def test_no_watch_where_the_store_cannot_tell(sql_url: str) -> None:
    store = SqlStore(sql_url if not sql_url.startswith("sqlite") else "sqlite://")
    try:
        assert store.listing_watch() is None  # PostgreSQL, in-memory SQLite
    finally:
        store.close()


def _nan_free(values: list[Any]) -> list[Any]:
    return ["nan" if isinstance(v, float) and math.isnan(v) else v for v in values]
