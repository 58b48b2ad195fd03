"""Chart traces of short series: sent as logged (exact), the same points buckets keep."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from runtrack import Experiment, Workspace
from runtrack.server.api._chart_data import chart_traces
from runtrack.server.api.views import CHART_RUNS_PER_PART
from runtrack.server.app import create_app
from runtrack.server.settings import ServerSettings


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


def _chart_app(tmp_path: Path, runs: int) -> tuple[Any, list[str]]:
    ws = Workspace(str(tmp_path / "ws"))
    exp = Experiment(ws, "parts")
    ids = []
    for i in range(runs):
        run = exp.start_logging(outputs=False, snapshot_directory=None)
        for step in range(5):
            run.log("loss", float(i + step), step=step)
        run.complete()
        ids.append(run.id)
    ws.close()
    return create_app(ServerSettings.for_uri(str(tmp_path / "ws"))), ids


def _get(app: Any, query: list[tuple[str, str]], client_leaves: bool) -> int:
    """GET the chart route straight through ASGI; with ``client_leaves`` the client is
    gone once the request has been read (what a page's aborted fetch looks like)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": "/api/v1/views/chart",
             "raw_path": b"/api/v1/views/chart", "query_string": urlencode(query).encode(),
             "root_path": "", "headers": [(b"host", b"testserver")],
             "client": ("127.0.0.1", 1), "server": ("testserver", 80)}
    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        if client_leaves:
            return {"type": "http.disconnect"}
        await asyncio.Event().wait()  # still there: never a next message
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return int(next(m for m in sent if m["type"] == "http.response.start")["status"])


def test_a_chart_request_of_a_client_gone_stops_between_parts(tmp_path: Path) -> None:
    app, ids = _chart_app(tmp_path, 2 * CHART_RUNS_PER_PART + 1)
    query = [("run", i) for i in ids] + [("metric", "loss"), ("format", "compact")]
    assert _get(app, query, client_leaves=False) == 200
    assert _get(app, query, client_leaves=True) == 499
    # one part only: answered before the client is asked about
    assert _get(app, query[:CHART_RUNS_PER_PART] + query[-2:], client_leaves=True) == 200
    app.state.store.close()


def test_a_chart_of_many_runs_joins_its_parts(tmp_path: Path) -> None:
    app, ids = _chart_app(tmp_path, 2 * CHART_RUNS_PER_PART + 1)
    params = {"run": ids, "metric": ["loss", "nope"]}

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.get("/api/v1/views/chart", params=params)

    answer = asyncio.run(get())
    app.state.store.close()
    data = answer.json()
    assert [t["run_id"] for t in data["traces"]] == ids
    assert [t["y"] for t in data["traces"]] == [
        [float(i + s) for s in range(5)] for i in range(len(ids))]
    assert [m["run_id"] for m in data["missing"]] == ids
