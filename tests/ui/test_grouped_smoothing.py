"""Smoothing applies to grouped lines: the mean and the min-max band of a group are those
of its smoothed runs, on the whole range and again over the points of a zoomed range."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import LiveServer, start_server
from tests.ui.browser import require_browser

LOADED = 60_000
STEPS = 40
WEIGHT = 0.6
# four runs, opt sgd (0, 2) and adam (1, 3); whole numbers, which the compact wire form
# (y to 5 digits) carries exactly; odd steps jump up, so smoothing changes every point
RUNS = [(f"g{i}", "sgd" if i % 2 == 0 else "adam") for i in range(4)]


def value(i: int, step: int) -> float:
    return float(100 - step + (7 if step % 2 else 0) + 10 * i)


def ema(ys: list[float], weight: float) -> list[float]:
    """Exponential moving average with bias correction, as the charts draw it."""
    out, last = [], 0.0
    for n, y in enumerate(ys, 1):
        last = last * weight + (1 - weight) * y
        out.append(last / (1 - weight**n))
    return out


def expected(opt: str, steps: range) -> tuple[list[float], list[float], list[float]]:
    smoothed = [ema([value(i, s) for s in steps], WEIGHT)
                for i, (_, o) in enumerate(RUNS) if o == opt]
    columns = list(zip(*smoothed, strict=True))
    return ([sum(c) / len(c) for c in columns], [min(c) for c in columns],
            [max(c) for c in columns])


@pytest.fixture(scope="module")
def grouped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    from runtrack.model import MetricBatch, NewRun, RunStatus
    from runtrack.store import open_store

    require_browser()
    tmp = tmp_path_factory.mktemp("grouped")
    folder = tmp / "ws"
    folder.mkdir()
    store = open_store(f"sqlite:///{folder / 'runtrack.db'}")
    try:
        exp = store.get_or_create_experiment("grouped")
        now = time.time()
        for i, (run_id, opt) in enumerate(RUNS):
            store.create_run(NewRun(exp.id, run_id, display_name=f"run-{i}",
                                    run_type="interactive", status=RunStatus.COMPLETED,
                                    tags={"opt": opt}))
            records: list[Any] = [("loss", "scalar", s, now + s, value(i, s))
                                  for s in range(STEPS)]
            store.ingest(run_id, MetricBatch("main", 0, records))
    finally:
        store.close()
    server = start_server(tmp, workspace=folder)
    try:
        yield server, exp.id
    finally:
        server.stop()


# the chart's traces, by role: per group the faint unsmoothed mean, the band's low and
# high edges and the mean line
GROUP_LINES = """(sel) => {
  const data = document.querySelector(sel).data || [];
  const out = {};
  data.forEach((t, i) => {
    if (t.showlegend === false) return;
    const label = t.name.split(' ')[0];
    out[label] = {x: t.x, mean: t.y, low: data[i - 2].y, high: data[i - 1].y,
                  raw: data[i - 3] && data[i - 3].meta === 'raw-mean' ? data[i - 3].y : null};
  });
  return out; }"""


def _smooth(page: Any, weight: float) -> None:
    page.eval_on_selector("#smoothing", """(el, w) => { el.value = String(w);
        el.dispatchEvent(new Event('input', {bubbles: true}));
        el.dispatchEvent(new Event('change', {bubbles: true})); }""", weight)


def _drag(page: Any, chart: str, start: float, end: float) -> None:
    """Drag across the chart's plot area from ``start`` to ``end`` (fractions of its width)."""
    box = page.locator(f"{chart} .u-over").bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * start, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * end, y, steps=6)
    page.mouse.up()


def test_smoothing_applies_to_group_means_and_bands_and_follows_zoom(
    page: Any, grouped: Any
) -> None:
    server, experiment_id = grouped
    page.set_default_timeout(LOADED)
    page.goto(f"{server.url}/experiments/{experiment_id}?group=tag:opt&panel=line:loss")
    page.locator("#select-all").check()
    page.click("#compare-btn")
    page.select_option("#group-by", "tag:opt")
    page.wait_for_selector("#compare-chart[data-groups='2']")
    plain = page.evaluate(GROUP_LINES, "#compare-chart")
    sgd_raw = [(value(0, s) + value(2, s)) / 2 for s in range(STEPS)]
    assert plain["opt=sgd"]["mean"] == pytest.approx(sgd_raw) and plain["opt=sgd"]["raw"] is None
    _smooth(page, WEIGHT)
    page.wait_for_function(
        "() => (document.getElementById('compare-chart').data || [])"
        ".some(t => t.meta === 'raw-mean')")
    lines = page.evaluate(GROUP_LINES, "#compare-chart")
    for opt in ("sgd", "adam"):
        mean, low, high = expected(opt, range(STEPS))
        got = lines[f"opt={opt}"]
        assert got["x"] == list(range(STEPS))
        assert got["mean"] == pytest.approx(mean)
        assert got["low"] == pytest.approx(low) and got["high"] == pytest.approx(high)
    # the unsmoothed mean stays behind, faint
    assert lines["opt=sgd"]["raw"] == pytest.approx(sgd_raw)
    assert "smooth=0.6" in page.url
    # the line panel smooths its groups the same way
    page.wait_for_function(
        "() => (document.querySelector('.panel-line .panel-chart').data || [])"
        ".some(t => t.meta === 'raw-mean')")
    panel = page.evaluate(GROUP_LINES, ".panel-line .panel-chart")
    assert panel["opt=adam"]["mean"] == pytest.approx(expected("adam", range(STEPS))[0])
    # the hover lists each group's smoothed mean where the pointer is
    over = page.locator("#compare-chart .u-over").bounding_box()
    assert over is not None
    page.mouse.move(over["x"] + over["width"] / 2, over["y"] + over["height"] / 2)
    page.wait_for_selector("#compare-chart .chart-hover:not([hidden])")
    rows = page.locator("#compare-chart .chart-hover div").all_inner_texts()
    assert sorted(r.split(" (")[0] for r in rows) == ["opt=adam", "opt=sgd"]
    # zoom (drag over the right half): the range's data is fetched and smoothed from the
    # range's first point
    _drag(page, "#compare-chart", 0.5, 0.95)
    page.wait_for_function("""() => { const d = document.getElementById('compare-chart').data;
        const m = d && d.find(t => t.showlegend !== false); return m && m.x[0] > 10; }""")
    zoomed = page.evaluate(GROUP_LINES, "#compare-chart")
    steps = range(int(zoomed["opt=sgd"]["x"][0]), int(zoomed["opt=sgd"]["x"][-1]) + 1)
    assert zoomed["opt=sgd"]["x"] == list(steps) and len(steps) > 5
    mean, low, high = expected("sgd", steps)
    assert zoomed["opt=sgd"]["mean"] == pytest.approx(mean)
    assert zoomed["opt=sgd"]["low"] == pytest.approx(low)
    assert zoomed["opt=sgd"]["high"] == pytest.approx(high)
    page.screenshot(path=str(Path(server.workspace).parent / "grouped-smoothing.png"))
    # smoothing off: plain means again, no faint line
    _smooth(page, 0)
    page.wait_for_function(
        "() => !(document.getElementById('compare-chart').data || [])"
        ".some(t => t.meta === 'raw-mean')")
