"""``/api/v1/views`` (the pages' JSON twins) and the streamed run archive, over HTTP."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import LiveServer, start_server

Served = tuple[LiveServer, dict[str, str]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from runtrack import Experiment, Workspace

    tmp = tmp_path_factory.mktemp("views")
    live = start_server(tmp)
    ids: dict[str, str] = {}
    ws = Workspace(str(live.workspace))
    try:
        exp = Experiment(ws, "views")
        for name, peak, alpha in (("a", 5.0, "0.5"), ("b", 9.0, "0.05"), ("c", 7.0, "10")):
            run = exp.start_logging(
                outputs=False, snapshot_directory=None, display_name=name, tags={"alpha": alpha}
            )
            for step in range(1000):
                run.log("loss", peak if step == 617 else 1.0 / (step + 1), step=step)
            big = tmp / f"{name}.log"
            big.write_bytes(b"x" * 3_000_000 + b"\nend\n")
            run.upload_file("logs/big.log", str(big))
            run.upload_file("outputs/pic.png", io.BytesIO(b"\x89PNG fake"))
            run.complete()
            ids[name] = run.id
        ids["experiment"] = exp.id
    finally:
        ws.close()
    yield live, ids
    live.stop()


def _runs(live: LiveServer, **params: Any) -> Any:
    answer = httpx.get(f"{live.api}/views/runs", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_runs_view_sorts_by_metric_max_on_the_server(server: Served) -> None:
    live, _ = server
    data = _runs(live, col="metric:loss:max", sort="-metric:loss:max")
    assert [r["display_name"] for r in data["runs"]] == ["b", "c", "a"]
    assert [r["values"]["metric:loss:max"] for r in data["runs"]] == [9.0, 7.0, 5.0]
    assert data["columns"] == [{"key": "metric:loss:max", "label": "loss (max)"}]
    assert data["metric_names"] == ["loss"]


def test_runs_view_pages_filters_and_sorts_tags(server: Served) -> None:
    live, ids = server
    page = _runs(live, sort="display_name", per_page=2, page=2)
    assert (page["total"], page["pages"]) == (3, 2)
    assert [r["display_name"] for r in page["runs"]] == ["c"]
    assert _runs(live, filter="loss:max>=7")["total"] == 2
    assert _runs(live, tag="alpha=0.05")["runs"][0]["id"] == ids["b"]
    by_tag = _runs(live, col="tag:alpha", sort="tag:alpha")  # numbers by value, not as text
    assert [r["values"]["tag:alpha"] for r in by_tag["runs"]] == ["0.05", "0.5", "10"]
    assert _runs(live, experiment=ids["experiment"], status="Failed")["total"] == 0


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"sort": "bogus"}, "unknown column"),
        ({"filter": "loss<1"}, "metric filter"),
        ({"status": "Sleeping"}, "status"),
        ({"per_page": "0"}, "per_page"),
        ({"col": "metric:loss:median"}, "unknown column"),
    ],
)
def test_runs_view_refuses_bad_state(
    server: Served, params: dict[str, str], needle: str
) -> None:
    live, _ = server
    answer = httpx.get(f"{live.api}/views/runs", params=params)
    assert answer.status_code == 400
    assert needle in answer.json()["error"]["message"]
    page = httpx.get(f"{live.url}/runs", params=params)
    assert page.status_code == 400 and "text/html" in page.headers["content-type"]


def test_chart_keeps_spikes_and_zooms(server: Served) -> None:
    live, ids = server
    answer = httpx.get(f"{live.api}/views/chart", params={
        "run": [ids["a"], ids["b"]], "metric": "loss", "x": "step", "buckets": 20})
    traces = answer.json()["traces"]
    assert [max(t["y"]) for t in traces] == [5.0, 9.0]  # the one-point spike survives
    assert all(len(t["x"]) <= 4 * 20 for t in traces)
    zoomed = httpx.get(f"{live.api}/views/chart", params={
        "run": ids["a"], "metric": "loss", "x": "step", "buckets": 20,
        "x_min": 600, "x_max": 640}).json()["traces"][0]
    assert min(zoomed["x"]) >= 600 and max(zoomed["x"]) <= 640 and 5.0 in zoomed["y"]
    relative = httpx.get(f"{live.api}/views/chart", params={
        "run": ids["a"], "metric": "loss", "x": "relative"}).json()["traces"][0]
    assert 0 <= relative["x"][0] < 60
    paired = httpx.get(f"{live.api}/views/chart", params={
        "run": ids["a"], "metric": "loss", "x": "metric:loss"}).json()["traces"][0]
    assert paired["x"] == sorted(paired["x"])
    missing = httpx.get(f"{live.api}/views/chart", params={"run": ids["a"], "metric": "nope"})
    assert missing.json()["missing"] == [{"run_id": ids["a"], "metric": "nope"}]
    assert httpx.get(f"{live.api}/views/chart", params={
        "run": ids["a"], "metric": "loss", "x": "sideways"}).status_code == 400


def test_status_view(server: Served) -> None:
    live, ids = server
    found = httpx.get(f"{live.api}/views/status", params={"run": [ids["a"], "nope"]}).json()
    assert [(r["id"], r["status"], r["terminal"]) for r in found["runs"]] == [
        (ids["a"], "Completed", True)]


def test_run_view_lists_files_and_logs(server: Served) -> None:
    live, ids = server
    data = httpx.get(f"{live.api}/views/runs/{ids['a']}").json()
    assert data["logs"] == ["logs/big.log"]
    assert {f["path"]: f["kind"] for f in data["files"]} == {
        "logs/big.log": "log", "outputs/pic.png": "image"}
    assert data["series"][0]["name"] == "loss"
    assert httpx.get(f"{live.url}/runs/{ids['a']}").status_code == 200
    assert httpx.get(f"{live.url}/runs/nope").status_code == 404


def test_archive_streams_a_zip(server: Served, tmp_path: Path) -> None:
    live, ids = server
    target = tmp_path / "all.zip"
    with httpx.stream("GET", f"{live.api}/runs/{ids['c']}/archive") as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/zip"
        assert "transfer-encoding" in answer.headers  # streamed, no length known up front
        assert f'filename="{ids["c"]}.zip"' in answer.headers["content-disposition"]
        with target.open("wb") as out:
            for block in answer.iter_bytes():
                out.write(block)
    with zipfile.ZipFile(target) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == ["logs/big.log", "outputs/pic.png"]
        assert archive.read("logs/big.log").endswith(b"\nend\n")
        assert archive.getinfo("outputs/pic.png").compress_type == zipfile.ZIP_STORED
    logs_only = httpx.get(f"{live.api}/runs/{ids['c']}/archive", params={"prefix": "logs"})
    with zipfile.ZipFile(io.BytesIO(logs_only.content)) as archive:
        assert archive.namelist() == ["logs/big.log"]
    assert httpx.get(f"{live.api}/runs/nope/archive").status_code == 404
