"""Listing many runs: ``get_runs()`` + ``get_metrics()`` in bulk, and ``search_runs()``.

Each test runs on a local folder (SQLite), a PostgreSQL database and a runtrack
server, through the public SDK.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from runtrack import Experiment, Run, Workspace
from runtrack.errors import InvalidTypeError
from runtrack.model import MetricBatch
from runtrack.sdk import _listing


@pytest.fixture(params=["folder", "postgresql", "server"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    root = None
    if request.param == "folder":
        uri = str(tmp_path / "ws")
    elif request.param == "postgresql":
        uri, root = request.getfixturevalue("postgres_url"), str(tmp_path / "artifacts")
    else:
        uri = request.getfixturevalue("live_server").url
    ws = Workspace(uri, artifact_root=root)
    yield ws
    ws.close()


def _fill(exp: Experiment, runs: int) -> list[str]:
    ids = []
    for i in range(runs):
        run = exp.start_logging(snapshot_directory=None)
        run.set_tags({"fold": str(i % 3)})
        run.add_properties({"lr": str(0.1 * (i + 1))})
        for step in range(20):
            run.log("loss", 1.0 / (step + i + 1), step=step)
        run.log("acc", i)
        run.log("text", f"run-{i}")
        run.log_list("curve", [i, i + 1, i + 2])
        run.log_row("table", epoch=i, score=0.5)
        run.log("sys/cpu", 50.0)
        run.complete()
        ids.append(run.id)
    return ids


def test_the_listing_loop_returns_what_one_run_at_a_time_returns(where: Workspace) -> None:
    exp = Experiment(where, "listing")
    ids = _fill(exp, 5)
    listed = {r.id: r.get_metrics() for r in exp.get_runs()}
    assert sorted(listed) == sorted(ids)
    for run_id, metrics in listed.items():
        alone = Run.get(where, run_id).get_metrics()
        assert metrics == alone
        assert "sys/cpu" not in metrics and set(metrics) == {"loss", "acc", "text", "curve",
                                                             "table"}
        assert len(metrics["loss"]) == 20 and type(metrics["acc"]) is int
    first = next(exp.get_runs())
    assert first.get_metrics(name="table") == {"table": {"epoch": 4, "score": 0.5}}
    assert first.get_system_metrics()["sys/cpu"] == 50.0


def test_points_logged_after_the_bulk_read_are_returned(where: Workspace) -> None:
    exp = Experiment(where, "fresh")
    live = exp.start_logging(snapshot_directory=None)  # still being logged to
    live.log("m", 1.0)
    live.log("other", 5)
    live.get_metrics()  # shipped: the read ahead below holds these points
    done = exp.start_logging(snapshot_directory=None)
    done.log("m", 1.0)
    done.complete()
    runs = list(exp.get_runs())
    assert [r.id for r in runs] == [done.id, live.id]
    assert runs[0].get_metrics() == {"m": 1.0}  # reads ahead for both runs
    assert runs[0]._metrics.listing is not None and live.id in runs[0]._metrics.listing._ahead
    runs = {r.id: r for r in runs}
    live.log("m", 2.0)  # through this process's spool
    where.store.ingest(live.id, MetricBatch("elsewhere", 0, [  # another writer
        ("other", "scalar", None, 1e9, 6)]))
    assert runs[live.id].get_metrics() == {"m": [1.0, 2.0], "other": [5, 6]}
    live.log("m", 3.0)
    assert runs[live.id].get_metrics()["m"] == [1.0, 2.0, 3.0]  # a second call, fresh too
    live.complete()


def test_a_series_created_after_the_bulk_read_is_returned(where: Workspace) -> None:
    exp = Experiment(where, "grown")
    runs_made = [exp.start_logging(snapshot_directory=None) for _ in range(3)]
    for i, run in enumerate(runs_made):
        run.log("m", float(i))
        run.log_list("curve", [i, i + 1])
    for run in runs_made:
        run.get_metrics()  # shipped before the listing
    listed = list(exp.get_runs())
    assert listed[0].get_metrics() == {"m": 2.0, "curve": [2, 3]}  # the bulk read
    runs_made[0].log("late", "x")  # a new series, same count of old ones
    runs_made[1].log_list("curve", [9])  # more points, a newer last time
    by_id = {r.id: r for r in listed}
    assert by_id[runs_made[0].id].get_metrics() == {"m": 0.0, "curve": [0, 1], "late": "x"}
    assert by_id[runs_made[1].id].get_metrics() == {"m": 1.0, "curve": [1, 2, 9]}
    for run in runs_made:
        assert by_id[run.id].get_metrics() == Run.get(where, run.id).get_metrics()
        run.complete()


def test_an_unwritten_store_serves_the_loop_without_a_read_per_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace(str(tmp_path / "ws"))
    exp = Experiment(ws, "quiet")
    ids = _fill(exp, 6)
    stamps: list[str] = []
    read = ws.store.read_listing_stamps  # type: ignore[attr-defined]

    def counted(run_id: str) -> Any:
        stamps.append(run_id)
        return read(run_id)

    monkeypatch.setattr(ws.store, "read_listing_stamps", counted)
    alone = {run_id: Run.get(ws, run_id).get_metrics() for run_id in ids}
    assert {r.id: r.get_metrics() for r in exp.get_runs()} == alone
    assert stamps == []  # nothing written since the bulk read: no per-run read
    runs = list(exp.get_runs())
    runs[0].get_metrics()  # the bulk read of all six
    other = exp.start_logging(snapshot_directory=None)
    other.log("x", 1.0)  # a write elsewhere: each run now checks its own stamps
    other.complete()
    assert {r.id: r.get_metrics() for r in runs[1:]} == {i: alone[i] for i in ids[-2::-1]}
    assert stamps == [r.id for r in runs[1:]]
    ws.close()


def test_the_loop_reads_points_once_per_group_of_runs(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_listing, "RUNS_PER_READ", 4)
    ws = Workspace(str(tmp_path / "ws"))
    exp = Experiment(ws, "bulk")
    _fill(exp, 10)
    reads: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "chunks" in statement:
            reads.append(statement)

    event.listen(ws.store.engine, "before_cursor_execute", count)
    got = [r.get_metrics() for r in exp.get_runs()]
    assert len(got) == 10 and all(len(m["loss"]) == 20 for m in got)
    assert len(reads) == 3  # 10 runs by 4: three chunk reads, not one per series
    ws.close()


def test_a_budget_of_points_splits_the_bulk_reads(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_listing, "POINTS_PER_READ", 30)  # 26 points a run (sys/ aside)
    ws = Workspace(str(tmp_path / "ws"))
    exp = Experiment(ws, "budget")
    _fill(exp, 3)
    runs = list(exp.get_runs())
    batch = runs[0]._metrics.listing
    assert batch is not None
    runs[0].get_metrics()
    assert batch._read == {runs[0].id}  # the next run would pass the budget
    assert [r.get_metrics()["acc"] for r in runs[1:]] == [1, 0]
    ws.close()


# -- search_runs ---------------------------------------------------------------------------


def test_search_runs_columns_and_values(where: Workspace) -> None:
    pytest.importorskip("pandas")
    exp = Experiment(where, "table")
    ids = _fill(exp, 3)
    frame = exp.search_runs()
    assert list(frame["run_id"]) == ids[::-1]  # get_runs' order: newest first
    columns = list(frame.columns)
    assert columns[:3] == ["run_id", "display_name", "number"]
    assert [c for c in columns if c.startswith("metrics")] == [
        "metrics.acc", "metrics_min.acc", "metrics_max.acc",
        "metrics.loss", "metrics_min.loss", "metrics_max.loss",
        "metrics.text", "metrics_min.text", "metrics_max.text",
    ]  # scalar metrics only, system metrics left out
    assert columns.index("metrics_max.text") < columns.index("properties.lr")
    assert columns.index("properties.lr") < columns.index("tags.fold")
    row = frame[frame["run_id"] == ids[1]].iloc[0]
    assert row["metrics.loss"] == 1.0 / 21 and row["metrics_min.loss"] == 1.0 / 21
    assert row["metrics_max.loss"] == 0.5 and row["metrics.acc"] == 1
    assert row["metrics.text"] == "run-1" and row["metrics_max.text"] is None
    assert row["status"] == "Completed" and row["tags.fold"] == "1"
    assert row["properties.lr"] == str(0.1 * 2)


def test_search_runs_without_pandas_is_a_list_of_dicts(
    where: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = Experiment(where, "dicts")
    ids = _fill(exp, 2)
    running = exp.start_logging(snapshot_directory=None)
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    rows = exp.search_runs(["loss", "sys/cpu", "missing"], status="Completed")
    assert isinstance(rows, list) and [r["run_id"] for r in rows] == ids[::-1]
    assert [k for k in rows[0] if k.startswith("metrics")] == [
        "metrics.loss", "metrics_min.loss", "metrics_max.loss",
        "metrics.sys/cpu", "metrics_min.sys/cpu", "metrics_max.sys/cpu",
    ]
    assert rows[1]["metrics_max.loss"] == 1.0 and rows[1]["metrics.sys/cpu"] == 50.0
    with pytest.raises(ImportError, match="frame=False"):
        exp.search_runs(frame=True)
    both = exp.search_runs(frame=False)
    assert len(both) == 3 and both[0]["run_id"] == running.id
    assert both[0]["metrics.loss"] is None and both[0]["tags.fold"] is None
    running.complete()


def test_search_runs_of_no_runs_and_bad_arguments(ws: Workspace) -> None:
    exp = Experiment(ws, "empty")
    assert exp.search_runs(frame=False) == []
    with pytest.raises(InvalidTypeError, match="list of metric names"):
        exp.search_runs("loss")
    with pytest.raises(InvalidTypeError, match="list of metric names"):
        exp.search_runs([1])  # type: ignore[list-item]
    run = exp.start_logging(snapshot_directory=None)
    run.log("nan", math.nan)
    run.complete()
    (row,) = exp.search_runs(frame=False)
    assert math.isnan(row["metrics.nan"])
