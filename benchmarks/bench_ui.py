"""The web UI in headless Chromium: a runs page over 10,000 runs, a run page with 10 charts.

Workload, on a fresh SQLite workspace filled through the store (not timed):

* 10,000 runs in one experiment, each with scalar metrics ``loss`` and ``acc`` (20 points);
  the page ``/runs?col=metric:loss:last&col=metric:loss:max&col=metric:acc:max``
  ``&sort=-metric:loss:max`` (50 rows, sorted by the server over all runs by a metric's max);
* one run with 10 scalar metrics of 100,000 points each; its page ``/runs/{id}#metrics``.

Timed in Debian's Chromium (Playwright, ``executable_path``) against a ``runtrack server``
process, from the navigation until the page is interactive (runs page: the ``load`` event,
its module scripts run, the compare button wired) or until all 10 charts have drawn their
traces (run page). Each page is loaded ``--repeat`` times in a fresh browser context
(cold: nothing cached, Plotly.js included) and medians are printed. The run page is timed
twice per load: until every chart is drawn (an SVG sketch of the downsampled data, painted
while Plotly.js loads) and until every chart is an interactive Plotly chart; it is also
timed as a returning visit (same context, Plotly.js and its compiled code cached by the
browser after a first visit). Targets: 1 s and 1.5 s.

    python benchmarks/bench_ui.py [--repeat 5] [--runs 10000] [--points 100000]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def _fill(folder: Path, runs: int, points: int) -> str:
    from runtrack.model import MetricBatch, RunStatus
    from runtrack.store import open_store

    store = open_store(f"sqlite:///{folder / 'runtrack.db'}")
    try:
        exp = store.get_or_create_experiment("bench-ui")
        now = time.time()
        for i in range(runs):
            run_id = f"bench-{i:05d}"
            store.create_run(exp.id, run_id, display_name=f"run {i}", run_type="interactive",
                             status=RunStatus.COMPLETED, tags={"i": str(i % 7)})
            records = [("loss", "scalar", s, now + s, 1.0 / (s + 1) + (i % 97) / 100.0)
                       for s in range(20)]
            records += [("acc", "scalar", s, now + s, 1 - 1.0 / (s + 2)) for s in range(20)]
            store.ingest(run_id, MetricBatch("main", 0, records))  # type: ignore[arg-type]
        big = store.get_or_create_experiment("bench-charts")
        store.create_run(big.id, "bench-charts-run", display_name="10 x 100k",
                         run_type="interactive", status=RunStatus.RUNNING)
        seq = 0
        for m in range(10):
            for start in range(0, points, 50_000):
                records = [(f"metric_{m}", "scalar", s, now + s * 0.01,
                            float((s * (m + 1)) % 1000) / 1000.0)
                           for s in range(start, min(points, start + 50_000))]
                store.ingest("bench-charts-run",
                             MetricBatch("main", seq, records))  # type: ignore[arg-type]
                seq += len(records)
        store.set_status("bench-charts-run", RunStatus.COMPLETED)
    finally:
        store.close()
    return "bench-charts-run"


def _serve(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTRACK_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "runtrack", "server", "--backend-store-uri", str(folder),
         "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/api/v1/health", timeout=2)
            return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def _time_page(browser: Any, url: str, ready: str, context: Any = None) -> tuple[float, float]:
    """Wall seconds until ``ready`` holds, and the renderer's main-thread busy seconds
    (Chrome's TaskDuration: less sensitive to other load on the machine). Without
    ``context`` the load is cold (a fresh context); with one, whatever that context has
    cached (Plotly.js and its compiled code) is reused, as for a returning user."""
    own = context is None
    if own:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    start = time.perf_counter()
    page.goto(url, wait_until="load")
    page.wait_for_function(ready, timeout=60_000, polling="raf")
    elapsed = time.perf_counter() - start
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    if own:
        context.close()
    else:
        page.close()
    if errors:
        raise RuntimeError(f"console errors on {url}: {errors}")
    return elapsed, float(metrics.get("TaskDuration", 0.0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=100_000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ws"
        folder.mkdir()
        t0 = time.perf_counter()
        run_id = _fill(folder, args.runs, args.points)
        print(f"filled {args.runs} runs + 10 x {args.points} points in "
              f"{time.perf_counter() - t0:.0f} s")
        process, url = _serve(folder)
        try:
            table = (f"{url}/runs?col=metric:loss:last&col=metric:loss:max&col=metric:acc:max"
                     "&sort=-metric:loss:max")
            charts = f"{url}/runs/{run_id}#metrics"
            table_ready = ("() => document.querySelectorAll('#runs-table tbody tr').length === 50"
                           " && document.readyState === 'complete'")
            charts_ready = ("() => document.querySelectorAll("
                            "'.chart-card .scatterlayer .trace path.js-line').length === 10")
            charts_drawn = ("() => document.querySelectorAll("
                            "'.chart-card .chart[data-drawn]').length === 10")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                            args=CHROMIUM_ARGS)
                _time_page(browser, table, table_ready)  # warm the server's caches once
                tables = [_time_page(browser, table, table_ready) for _ in range(args.repeat)]
                first_paint = [_time_page(browser, charts, charts_drawn)
                               for _ in range(args.repeat)]
                chart_times = [_time_page(browser, charts, charts_ready)
                               for _ in range(args.repeat)]
                returning = browser.new_context(viewport={"width": 1400, "height": 900})
                _time_page(browser, charts, charts_ready, returning)  # first visit fills caches
                warm_charts = [_time_page(browser, charts, charts_ready, returning)
                               for _ in range(args.repeat)]
                returning.close()
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=15)
    for label, found, target in (
        (f"runs page, {args.runs} runs, sorted by a metric max", tables, 1.0),
        (f"run page, 10 charts x {args.points} points, all drawn, cold", first_paint, 1.5),
        (f"run page, 10 charts x {args.points} points, all interactive (Plotly), cold",
         chart_times, 1.5),
        (f"run page, 10 charts x {args.points} points, returning visit", warm_charts, 1.5),
    ):
        walls = [w for w, _ in found]
        busy = [b for _, b in found]
        print(f"{label}: wall median {statistics.median(walls):.3f} s (min {min(walls):.3f}, "
              f"max {max(walls):.3f}); renderer main thread median {statistics.median(busy):.3f}"
              f" s; target {target} s; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
