"""The chart route reads all runs of a request together: the number of SQL statements
does not grow with the runs when their series are short (sent as logged), and the
answer is the one single-run reads give."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from runtrack.errors import NotFoundError
from runtrack.model import MetricBatch, NewRun, RunStatus
from runtrack.server.api._chart_data import chart_traces, compact_trace
from runtrack.store.base import TrackingStore
from runtrack.store.memory import MemoryStore
from runtrack.store.readers import BulkDownsampler
from runtrack.store.sql import SqlStore


def _fill(store: TrackingStore) -> None:
    exp = store.get_or_create_experiment("charts")
    for r in range(12):
        run_id = f"run-{r}"
        store.create_run(NewRun(exp.id, run_id, display_name=f"trial {r}", run_type="script",
                                status=RunStatus.RUNNING))
        points = [("loss", "scalar", s, float(s), 1.0 / (s + 1 + r)) for s in range(300)]
        if r % 3 != 0:  # acc is missing from every third run
            points += [("acc", "scalar", s, float(s), s / 300) for s in range(300)]
        if r == 5:  # one long series: bucketed by the store
            points += [("acc2", "scalar", s, float(s), float(s % 7)) for s in range(3000)]
        store.ingest(run_id, MetricBatch("s", 0, points))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    store = SqlStore(f"sqlite:///{tmp_path / 'rt.db'}")
    _fill(store)
    yield store
    store.close()


@pytest.fixture(params=["sql", "memory"])
def any_store(request: pytest.FixtureRequest, store: SqlStore) -> TrackingStore:
    """The SQL store (bulk reads) and one without ``BulkDownsampler`` (one by one)."""
    if request.param == "sql":
        assert isinstance(store, BulkDownsampler)
        return store
    memory = MemoryStore()
    assert not isinstance(memory, BulkDownsampler)
    _fill(memory)
    return memory


def _statements(store: SqlStore, call: Any) -> tuple[Any, int]:
    count = 0

    def counted(*args: Any) -> None:
        nonlocal count
        count += 1

    event.listen(store.engine, "before_cursor_execute", counted)
    try:
        return call(), count
    finally:
        event.remove(store.engine, "before_cursor_execute", counted)


def test_statements_do_not_grow_with_the_runs(store: SqlStore) -> None:
    def chart(runs: int) -> Any:
        return _statements(store, lambda: chart_traces(
            store, [f"run-{r}" for r in range(runs)], ["loss", "acc"], buckets=200))

    (_, few), (twelve, many) = chart(2), chart(12)
    assert len(twelve["traces"]) == 12 + 8 and len(twelve["missing"]) == 4
    assert many == few, (few, many)


def test_the_answer_is_what_single_run_reads_give(any_store: TrackingStore) -> None:
    store = any_store
    runs = [f"run-{r}" for r in (4, 0, 5, 4)]  # any order, repeats kept
    metrics = ["acc", "loss", "acc2", "nope"]
    together = chart_traces(store, runs, metrics, buckets=200)
    traces: list[dict[str, Any]] = []
    missing: list[dict[str, str]] = []
    for run_id in runs:
        one = chart_traces(store, [run_id], metrics, buckets=200)
        traces += one["traces"]
        missing += one["missing"]
    assert together["traces"] == traces
    assert together["missing"] == missing
    assert [(t["run_id"], t["metric"]) for t in traces] == [
        ("run-4", "acc"), ("run-4", "loss"), ("run-0", "loss"), ("run-5", "acc"),
        ("run-5", "loss"), ("run-5", "acc2"), ("run-4", "acc"), ("run-4", "loss")]
    long = next(t for t in traces if t["metric"] == "acc2")
    assert long["points"] == 3000 and long["buckets"] == 200  # bucketed, not as logged
    short = next(t for t in traces if t["metric"] == "loss")
    assert long["buckets"] < len(long["x"]) and short["x"] == [float(s) for s in range(300)]


def test_an_unknown_run_fails_the_request(any_store: TrackingStore) -> None:
    store = any_store
    with pytest.raises(NotFoundError, match="nope"):
        chart_traces(store, ["run-1", "nope"], ["loss"])


def _decoded(trace: dict[str, Any]) -> list[float]:
    xs, units = [], 0
    for delta in trace["xd"]:
        units += delta
        xs.append(trace["x0"] + trace["xq"] * units)
    return xs


@pytest.mark.parametrize("xs", [
    [0.0, 1.0, 5.0, 5.0, 2_000_000.0],  # whole: deltas in steps
    [-3.0, 7.0],
    [1.5, 2.25, 3.0],  # not whole: a power-of-ten unit
    [1e15, 1e15 + 2.0],
    [2.0**53, 2.0**53 + 2],  # whole but past what JavaScript holds exactly
    [4.0],
])
def test_compact_x_decodes_to_the_x_sent(xs: list[float]) -> None:
    ys = [math.nan, math.inf, -math.inf, 123456.789, 0.000123456, -2, 1][: len(xs)]
    ys += [1.0] * (len(xs) - len(ys))
    trace = compact_trace({"run_id": "r", "x": xs, "y": ys})
    assert all(isinstance(d, int) for d in trace["xd"])
    whole = max(map(abs, xs)) < 2**53 and all(v.is_integer() for v in xs)
    assert (trace["xq"] == 1.0) == whole
    if whole:
        assert _decoded(trace) == xs
    else:
        assert all(math.isclose(a, b, abs_tol=trace["xq"]) for a, b in
                   zip(_decoded(trace), xs, strict=True))
    expected = [None if not math.isfinite(v) else float(f"{v:.5g}") for v in ys]
    assert trace["y"] == expected
    assert {k: v for k, v in trace.items() if k not in ("x0", "xq", "xd", "y")} == {
        "run_id": "r"}


def test_bucketed_series_are_read_together_too(store: SqlStore) -> None:
    def chart(runs: int) -> Any:
        return _statements(store, lambda: chart_traces(
            store, [f"run-{r}" for r in range(runs)], ["loss", "acc"], buckets=50))

    (_, few), (twelve, many) = chart(2), chart(12)
    assert {t["buckets"] for t in twelve["traces"]} == {50}  # 300 points: bucketed
    assert many == few, (few, many)


@pytest.mark.parametrize("x", ["step", "index", "time"])
@pytest.mark.parametrize("bounds", [(None, None), (100.0, 2500.0), (5000.0, 6000.0)])
def test_downsample_many_is_downsample_of_each(
    store: SqlStore, x: str, bounds: tuple[float | None, float | None]
) -> None:
    low, high = bounds  # the points' times are their steps, so all x agree
    pairs = [(f"run-{r}", m) for r in range(12) for m in ("loss", "acc", "acc2")]
    together = store.downsample_many([*pairs, ("nope", "loss")], 40, x=x, x_min=low, x_max=high)
    expected = {}
    for run_id, metric in pairs:
        try:
            expected[run_id, metric] = store.downsample(run_id, metric, 40, x=x,
                                                        x_min=low, x_max=high)
        except NotFoundError:
            continue
    assert together == expected
    assert len(expected) == 12 + 8 + 1
    assert any(expected.values()) == (low is None or low < 3000)  # the last: none in range
