"""Compare at scale: 50 runs x 2 metrics x 2,000 steps in real Chromium and on the wire."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import LiveServer, start_server
from tests.ui.browser import require_browser

RUNS = 50
STEPS = 2000


def fill(folder: Path) -> tuple[str, list[str]]:
    """A sweep of noisy loss/acc curves written through the store (fast)."""
    from runtrack.model import MetricBatch, NewRun, RunStatus
    from runtrack.store import open_store

    rng = random.Random(7)
    store = open_store(f"sqlite:///{folder / 'runtrack.db'}")
    ids = []
    try:
        exp = store.get_or_create_experiment("sweep-50")
        now = time.time()
        for i in range(RUNS):
            run_id = f"sweep-{i:02d}"
            store.create_run(NewRun(exp.id, run_id, display_name=f"lr-{i}", run_type="interactive",
                             status=RunStatus.COMPLETED, tags={"opt": "adam" if i % 2 else "sgd"}))
            records: list[Any] = []
            for s in range(STEPS):
                noise = rng.gauss(0, 0.02)
                records.append(("loss", "scalar", s, now + s, 2.0 / (1 + s / 100) + noise))
                records.append(("acc", "scalar", s, now + s, 1 - 1 / (2 + s / 50) + noise))
            store.ingest(run_id, MetricBatch("main", 0, records))
            ids.append(run_id)
    finally:
        store.close()
    return exp.id, ids


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str, list[str]]]:
    require_browser()
    tmp = tmp_path_factory.mktemp("sweep")
    folder = tmp / "ws"
    folder.mkdir()
    experiment_id, ids = fill(folder)
    server = start_server(tmp, workspace=folder)
    try:
        yield server, experiment_id, ids
    finally:
        server.stop()


def _open_compare(page: Any, server: LiveServer, experiment_id: str) -> None:
    page.set_default_timeout(60_000)  # 100 series on a machine shared with other suites
    page.goto(f"{server.url}/experiments/{experiment_id}?per_page=50")
    page.check("#select-all")
    page.click("#compare-btn")


def _traces(page: Any) -> int:
    return int(page.evaluate("() => (document.getElementById('compare-chart').data || []).length"))


def test_compare_50_runs_draws_on_a_cold_page_without_plotly(page: Any, sweep: Any) -> None:
    server, experiment_id, _ = sweep
    asked: list[str] = []  # the line charts are uPlot's: the 4.8 MB Plotly.js is not needed
    page.on("request", lambda r: asked.append(r.url) if "plotly" in r.url else None)
    _open_compare(page, server, experiment_id)
    page.wait_for_selector("#compare-chart[data-drawn=uplot] canvas")
    assert _traces(page) == RUNS
    assert "Cannot draw" not in page.locator("#compare-note").inner_text()
    assert asked == []


def test_a_line_chart_takes_series_longer_than_the_stack(page: Any, sweep: Any) -> None:
    server, _, _ = sweep
    page.goto(f"{server.url}/experiments")
    drawn = page.evaluate("""async () => {
      const { TraceChart, loadUPlot } = await import('/static/js/charts.js');
      const node = document.createElement('div');
      node.style.height = '240px';
      document.body.append(node);
      const xs = Array.from({ length: 300000 }, (_, i) => i);
      new TraceChart(node, { run: ['r'], metric: ['m'] }, { x: 'step' }).render(
        await loadUPlot(), [{ x: xs, y: xs.map((v) => Math.sin(v)), line: { color: '#000' } }],
        { legend: false, nearest: false, xLabel: 'step' });
      return [node.uplot.data[0].length, node.querySelectorAll('canvas').length];
    }""")
    assert drawn == [300000, 1]


def test_a_superseded_compare_answer_is_dropped(page: Any, sweep: Any) -> None:
    server, experiment_id, _ = sweep
    _open_compare(page, server, experiment_id)
    page.wait_for_function(f"() => (document.getElementById('compare-chart').data || [])"
                           f".length === {RUNS}")
    held: list[Any] = []

    def hold_loss(route: Any) -> None:  # loss: answered only after acc alone is drawn again
        if "metric=loss" in route.request.url:
            held.append(route)
        else:
            route.continue_()

    aborted: list[str] = []  # the page cancels a superseded request: the server stops
    page.on("requestfailed", lambda r: aborted.append(r.url) if "views/chart" in r.url else None)
    page.route("**/api/v1/views/chart?*", hold_loss)
    page.locator("#metric-picks input[value='loss']").check()  # acc (held already) + loss
    page.wait_for_function("() => document.getElementById('compare-chart').dataset.metrics"
                           " === 'acc'")  # not drawn with loss: its answer is held
    page.locator("#metric-picks input[value='loss']").uncheck()  # acc alone, at once
    page.wait_for_timeout(300)
    assert held, "the loss request was made"
    with contextlib.suppress(Exception):  # already cancelled by the page: nothing to answer
        held[0].continue_()
    page.wait_for_timeout(1000)  # a stale answer that still arrives must be dropped
    assert [u.count("metric=") for u in aborted] == [1]
    assert "metric=loss" in aborted[0]
    assert page.locator("#compare-chart").get_attribute("data-metrics") == "acc"
    assert _traces(page) == RUNS
    legend = page.evaluate("() => document.getElementById('compare-chart').data.map((t) => t.name)")
    assert len(legend) == len(set(legend)) == RUNS
    assert all("loss" not in name for name in legend)


def test_ticking_a_second_metric_fetches_that_metric_alone(page: Any, sweep: Any) -> None:
    server, experiment_id, _ = sweep
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "views/chart" in r.url else None)
    _open_compare(page, server, experiment_id)
    page.wait_for_function(f"() => (document.getElementById('compare-chart').data || [])"
                           f".length === {RUNS}")
    page.locator("#metric-picks input[value='loss']").check()
    page.wait_for_function(
        "() => document.getElementById('compare-chart').dataset.metrics === 'acc,loss' && "
        f"document.getElementById('compare-chart').data.length === {2 * RUNS}")
    assert [(u.count("metric=acc"), u.count("metric=loss")) for u in asked] == [(1, 0), (0, 1)]
    # drawn in the server's order: by run (as the table lists them), then metric
    names = page.evaluate("() => document.getElementById('compare-chart').data.map((t) => t.name)")
    assert [n.rsplit(" · ", 1)[1] for n in names] == ["acc", "loss"] * RUNS
    assert len(set(names)) == 2 * RUNS
    page.locator("#log-y").check()  # no new data: both metrics are held
    page.wait_for_timeout(300)
    assert len(asked) == 2


def test_a_crowded_chart_draws_thin_lines(page: Any, sweep: Any) -> None:
    """Past the legend's ten series the lines are 1 px (the canvas's fast hairlines);
    a few runs keep 1.6 px lines."""
    server, experiment_id, _ = sweep
    widths = "() => document.getElementById('compare-chart').uplot.series.slice(1)" \
             ".map((s) => s.width)"
    _open_compare(page, server, experiment_id)
    page.wait_for_function(f"() => (document.getElementById('compare-chart').data || [])"
                           f".length === {RUNS}")
    assert set(page.evaluate(widths)) == {1}
    page.goto(f"{server.url}/experiments/{experiment_id}?per_page=50")
    for box in page.locator(".pick-run").all()[:3]:
        box.check()
    page.click("#compare-btn")
    page.wait_for_function("() => (document.getElementById('compare-chart').data || [])"
                           ".length === 3")
    assert set(page.evaluate(widths)) == {1.6}


def test_compare_chart_data_fits_300_kb_on_the_wire(sweep: Any) -> None:
    server, _, ids = sweep
    params: list[tuple[str, str]] = [("run", r) for r in ids]
    params += [("metric", "loss"), ("metric", "acc"), ("x", "step")]
    # what the compare panel asks for 100 series (charts.js bucketsFor): 120 buckets
    compact = httpx.get(f"{server.api}/views/chart",
                        params=[*params, ("buckets", "120"), ("format", "compact")],
                        headers={"Accept-Encoding": "gzip"}, timeout=120)
    compact.raise_for_status()
    assert compact.headers["content-encoding"] == "gzip"
    wire_bytes = int(compact.headers["content-length"])  # the gzip body, as it travelled
    assert wire_bytes <= 300_000, wire_bytes
    data = compact.json()
    assert data["format"] == "compact" and len(data["traces"]) == 2 * RUNS
    trace = data["traces"][0]
    steps = [trace["x0"] + trace["xq"] * sum(trace["xd"][: i + 1]) for i in range(len(trace["xd"]))]
    assert all(float(s).is_integer() for s in steps), "downsampled points sit on whole steps"
    assert steps[0] == 0 and steps[-1] == STEPS - 1
    # the same answer uncompressed and in full: what the page fetched before
    full = httpx.get(f"{server.api}/views/chart", params=[*params, ("buckets", "1000")],
                     headers={"Accept-Encoding": "identity"}, timeout=120)
    assert len(full.content) > 10 * wire_bytes
