"""Chart traces of short series: sent as logged (exact), the same points buckets keep."""

from __future__ import annotations

import math
from pathlib import Path

from runtrack import Experiment, Workspace
from runtrack.server.api._chart_data import chart_traces


def _workspace(tmp_path: Path) -> tuple[Workspace, dict[str, str]]:
    ws = Workspace(str(tmp_path / "ws"))
    exp = Experiment(ws, "charts")
    ids: dict[str, str] = {}
    run = exp.start_logging(outputs=False, snapshot_directory=None)
    for step in range(1500):
        run.log("loss", math.nan if step == 7 else 1.0 / (step + 1), step=step)
    for step in (5, 3, 4):  # logged out of order
        run.log("late", float(step), step=step)
    for i in range(5000):
        run.log("long", float(i % 97), step=i)
    run.log_list("nosteps", [1.0, 2.0, 3.0])
    run.complete()
    ids["run"] = run.id
    return ws, ids


def test_a_short_series_is_sent_as_logged(tmp_path: Path) -> None:
    ws, ids = _workspace(tmp_path)
    try:
        trace = chart_traces(ws.store, [ids["run"]], ["loss"], buckets=1000)["traces"][0]
        expected = [s for s in range(1500) if s != 7]  # NaN is not drawn, as in buckets
        assert trace["x"] == [float(s) for s in expected]
        assert trace["y"] == [1.0 / (s + 1) for s in expected]
        assert trace["points"] == trace["buckets"] == 1499
        # the same points the store's buckets keep when there is one point per bucket
        fine = chart_traces(ws.store, [ids["run"]], ["loss"], buckets=5000)["traces"][0]
        assert (fine["x"], fine["y"]) == (trace["x"], trace["y"])
        zoomed = chart_traces(ws.store, [ids["run"]], ["loss"], buckets=1000,
                              x_min=100, x_max=110)["traces"][0]
        assert zoomed["x"] == [float(s) for s in range(100, 111)]
        late = chart_traces(ws.store, [ids["run"]], ["late"])["traces"][0]
        assert (late["x"], late["y"]) == ([3.0, 4.0, 5.0], [3.0, 4.0, 5.0])
        by_index = chart_traces(ws.store, [ids["run"]], ["nosteps"])["traces"][0]
        assert (by_index["x_axis"], by_index["x"], by_index["y"]) == (
            "index", [0.0, 1.0, 2.0], [1.0, 2.0, 3.0])
    finally:
        ws.close()


def test_a_long_series_is_still_bucketed(tmp_path: Path) -> None:
    ws, ids = _workspace(tmp_path)
    try:
        trace = chart_traces(ws.store, [ids["run"]], ["long"], buckets=1000)["traces"][0]
        assert trace["points"] == 5000 and trace["buckets"] <= 1000
        assert len(trace["x"]) <= 4 * 1000
        assert max(trace["y"]) == 96.0 and min(trace["y"]) == 0.0  # extremes survive
    finally:
        ws.close()
