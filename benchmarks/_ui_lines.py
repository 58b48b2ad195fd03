"""uPlot against Plotly for the compare charts (part ``lines`` of bench_ui.py).

The same data the compare workspace draws for a 50-run sweep (two charts, ``loss`` and
``acc``, 50 series each, min/max-downsampled to the buckets the page asks for) is drawn by
each library in a harness page served from memory (Playwright routes, no network): the
library's script, then both charts. Timed in the page, from the navigation start until
both charts are painted (two animation frames after the draw calls returned), cold (a
fresh browser context: the script is fetched and compiled) and warm (the same context
reloaded: the compiled script comes from the cache). Also timed: a redraw of both charts
with new data (what a zoom or a live update costs).

uPlot is the copy the pages serve (``server/pages/static/vendor/uplot``, vendored from the
npm registry); Plotly.js is the bundle of the installed ``plotly`` package that the server
serves. uPlot wants one x array per chart: the series are aligned on the union of their x
values (null where a series has no point there), as the pages' ``charts.js`` does.
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
from pathlib import Path
from typing import Any

ORIGIN = "http://bench.invalid"

_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/lib.css">
<style>body{margin:0;font:12px sans-serif} .c{width:1300px;height:380px}</style></head>
<body><div id="a" class="c"></div><div id="b" class="c"></div>
<script src="/lib.js"></script><script src="/draw.js"></script></body></html>"""

_DRAW_PLOTLY = """
const frames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
function traces(chart) {
  return chart.series.map((s) => ({ x: s.x, y: s.y, type: 'scatter', mode: 'lines', name: s.name,
    line: { width: 1.6 } }));
}
const layout = { showlegend: false, hovermode: 'closest', margin: { l: 48, r: 12, t: 8, b: 32 } };
(async () => {
  const data = await (await fetch('/data.json')).json();
  const t0 = performance.now();
  await Plotly.newPlot('a', traces(data.charts[0]), layout, { responsive: true });
  await Plotly.newPlot('b', traces(data.charts[1]), layout, { responsive: true });
  await frames();
  const painted = performance.now();
  await Plotly.react('a', traces(data.charts[1]), layout);
  await Plotly.react('b', traces(data.charts[0]), layout);
  await frames();
  window.result = { painted, draw: painted - t0, redraw: performance.now() - painted };
})();
"""

_DRAW_UPLOT = """
const frames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
function opts(chart) {
  return { width: 1300, height: 380, legend: { show: false }, scales: { x: { time: false } },
    series: [{}, ...chart.names.map((n) => ({ label: n, width: 1.6, spanGaps: true }))] };
}
(async () => {
  const data = await (await fetch('/data.json')).json();
  const t0 = performance.now();
  const a = new uPlot(opts(data.aligned[0]), data.aligned[0].data, document.getElementById('a'));
  const b = new uPlot(opts(data.aligned[1]), data.aligned[1].data, document.getElementById('b'));
  await frames();
  const painted = performance.now();
  a.setData(data.aligned[1].data);
  b.setData(data.aligned[0].data);
  await frames();
  window.result = { painted, draw: painted - t0, redraw: performance.now() - painted };
})();
"""


def vendored_uplot() -> tuple[bytes, bytes, str]:
    """The pages' uPlot: minified script, CSS and version."""
    from runtrack.server.pages._assets import STATIC

    folder = STATIC / "vendor" / "uplot"
    script = (folder / "uPlot.iife.min.js").read_bytes()
    found = re.search(rb"uPlot (\d+\.\d+\.\d+)", (folder / "README").read_bytes())
    version = found.group(1).decode() if found else "?"
    return script, (folder / "uPlot.min.css").read_bytes(), version


def chart_data(store: Any, run_ids: list[str], buckets: int) -> dict[str, Any]:
    """The compare charts' data (per metric: every run's downsampled trace), and the same
    aligned on a shared x per chart for uPlot."""
    from runtrack.server.api._chart_data import chart_traces

    charts, aligned = [], []
    for metric in ("loss", "acc"):
        payload = chart_traces(store, run_ids, [metric], x="step", buckets=buckets)
        series = [{"name": t["run_label"], "x": t["x"], "y": t["y"]} for t in payload["traces"]]
        charts.append({"metric": metric, "series": series})
        xs = sorted({x for s in series for x in s["x"]})
        where = {x: i for i, x in enumerate(xs)}
        columns: list[list[float | None]] = [list(map(float, xs))]
        for s in series:
            column: list[float | None] = [None] * len(xs)
            for x, y in zip(s["x"], s["y"], strict=True):
                column[where[x]] = y
            columns.append(column)
        aligned.append({"names": [s["name"] for s in series], "data": columns})
    return {"charts": charts, "aligned": aligned}


def _time(
    browser: Any, files: dict[str, tuple[bytes, str]], context: Any = None
) -> dict[str, float]:
    own = context is None
    if own:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()

    def serve(route: Any) -> None:
        path = "/" + route.request.url.split(ORIGIN, 1)[1].lstrip("/").split("?")[0]
        body, kind = files.get(path, (b"", "text/plain"))
        headers = {"Cache-Control": "public, max-age=31536000, immutable"}
        route.fulfill(status=200 if path in files else 404, body=body, content_type=kind,
                      headers=headers)

    page.route(f"{ORIGIN}/**", serve)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{ORIGIN}/", wait_until="load")
    page.wait_for_function("() => window.result", timeout=120_000)
    result: dict[str, float] = page.evaluate("() => window.result")
    page.close()
    if own:
        context.close()
    if errors:
        raise RuntimeError(f"page errors: {errors}")
    return result


def run(browser: Any, store: Any, run_ids: list[str], repeat: int) -> None:
    import plotly

    buckets = max(50, min(1000, 650, 12000 // len(run_ids)))  # charts.js bucketsFor
    data = json.dumps(chart_data(store, run_ids, buckets)).encode()
    plotly_js = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    uplot_js, uplot_css, version = vendored_uplot()
    libs = {
        "Plotly": (plotly_js, b"", _DRAW_PLOTLY),
        f"uPlot {version}": (uplot_js, uplot_css, _DRAW_UPLOT),
    }
    medians: dict[str, dict[str, float]] = {}
    for name, (script, css, draw) in libs.items():
        files = {"/": (_PAGE.encode(), "text/html"), "/lib.js": (script, "text/javascript"),
                 "/lib.css": (css, "text/css"), "/draw.js": (draw.encode(), "text/javascript"),
                 "/data.json": (data, "application/json")}
        _time(browser, files)  # one run to settle the browser
        cold = [_time(browser, files) for _ in range(repeat)]
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        _time(browser, files, context)
        warm = [_time(browser, files, context) for _ in range(repeat)]
        context.close()
        medians[name] = {
            "cold": statistics.median(r["painted"] for r in cold),
            "warm": statistics.median(r["painted"] for r in warm),
            "draw": statistics.median(r["draw"] for r in cold + warm),
            "redraw": statistics.median(r["redraw"] for r in cold + warm),
        }
        print(f"lines, {name}: script {len(script) / 1000:.0f} KB "
              f"({len(gzip.compress(script)) / 1000:.0f} KB gzip); 2 charts x {len(run_ids)} "
              f"series painted: cold median {medians[name]['cold']:.0f} ms, warm "
              f"{medians[name]['warm']:.0f} ms; draw calls {medians[name]['draw']:.0f} ms; "
              f"redraw with new data {medians[name]['redraw']:.0f} ms")
    plotly_m, uplot_m = medians["Plotly"], medians[f"uPlot {version}"]
    ratios = (f"{k} {plotly_m[k] / max(uplot_m[k], 0.1):.1f}x"
              for k in ("cold", "warm", "draw", "redraw"))
    print("lines, Plotly / uPlot: " + ", ".join(ratios))
