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
(cold: nothing cached) and medians are printed. The run page is timed until every chart
is an interactive uPlot chart, cold and as a returning visit (same context, scripts cached
by the browser after a first visit). Targets: 1 s and 1.5 s.

A third part compares a sweep (``--sweep-runs`` 50 runs x ``loss`` and ``acc`` x
``--sweep-steps`` 2,000 steps): cold, from the navigation to the experiment's page until
the compare chart of every run and both metrics is interactive, and the chart data's
bytes on the wire (target 1.5 s and 300 KB). It also prints the split of that time
(navigation, each Playwright action, the last action to the drawn chart), Playwright's
own cost of the same three actions on a trivial page, a saved compare URL opened cold
until drawn, and the chart request alone at the page's 120 buckets and at 1,000.

A fourth part (``lines``, :mod:`benchmarks._ui_lines`) draws the same two compare charts
with uPlot (the pages' vendored copy) and with Plotly in a bare harness page, cold and warm.

    python benchmarks/bench_ui.py [--repeat 5] [--runs 10000] [--points 100000]
                                  [--only pages|compare|lines]
"""

from __future__ import annotations

import argparse
import itertools
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
    from runtrack.model import MetricBatch, NewRun, RunStatus
    from runtrack.store import open_store

    store = open_store(f"sqlite:///{folder / 'runtrack.db'}")
    try:
        exp = store.get_or_create_experiment("bench-ui")
        now = time.time()
        for i in range(runs):
            run_id = f"bench-{i:05d}"
            store.create_run(NewRun(exp.id, run_id, display_name=f"run {i}", run_type="interactive",
                             status=RunStatus.COMPLETED, tags={"i": str(i % 7)}))
            records = [("loss", "scalar", s, now + s, 1.0 / (s + 1) + (i % 97) / 100.0)
                       for s in range(20)]
            records += [("acc", "scalar", s, now + s, 1 - 1.0 / (s + 2)) for s in range(20)]
            store.ingest(run_id, MetricBatch("main", 0, records))  # type: ignore[arg-type]
        big = store.get_or_create_experiment("bench-charts")
        store.create_run(NewRun(big.id, "bench-charts-run", display_name="10 x 100k",
                         run_type="interactive", status=RunStatus.RUNNING))
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


def _fill_sweep(folder: Path, runs: int, steps: int) -> str:
    """A sweep of ``runs`` runs with noisy ``loss`` and ``acc`` curves of ``steps`` steps."""
    import random

    from runtrack.model import MetricBatch, NewRun, RunStatus
    from runtrack.store import open_store

    rng = random.Random(7)
    store = open_store(f"sqlite:///{folder / 'runtrack.db'}")
    try:
        exp = store.get_or_create_experiment("bench-sweep")
        now = time.time()
        for i in range(runs):
            run_id = f"sweep-{i:03d}"
            store.create_run(NewRun(exp.id, run_id, display_name=f"lr-{i}", run_type="interactive",
                             status=RunStatus.COMPLETED))
            records: list[Any] = []
            for s in range(steps):
                noise = rng.gauss(0, 0.02)
                records.append(("loss", "scalar", s, now + s, 2.0 / (1 + s / 100) + noise))
                records.append(("acc", "scalar", s, now + s, 1 - 1 / (2 + s / 50) + noise))
            store.ingest(run_id, MetricBatch("main", 0, records))
        return exp.id
    finally:
        store.close()


#: the compare chart holds both metrics' series, all drawn (uPlot)
def _compare_drawn(runs: int) -> str:
    return (f"() => document.querySelector('#compare-chart')?.dataset.metrics === 'acc,loss' && "
            f"document.querySelector('#compare-chart').dataset.drawn === 'uplot' && "
            f"document.querySelector('#compare-chart').data.length === {2 * runs}")


def _time_compare(browser: Any, url: str, runs: int,
                  steps: list[list[float]] | None = None) -> tuple[float, float, int]:
    """Cold: open the experiment's page, select every run, compare ``loss`` and ``acc``.
    Wall seconds from navigation until every series is drawn (uPlot, interactive),
    renderer busy seconds, and the chart data's bytes on the wire (compressed, every
    chart request of the compare). ``steps`` gets the split: navigation to ``load``,
    each of the three actions, and the last action to the drawn chart."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    cdp.send("Network.enable")
    chart_requests: set[str] = set()
    wire: dict[str, int] = {}

    def sent(event: dict[str, Any]) -> None:
        if "/api/v1/views/chart" in event["request"]["url"]:
            chart_requests.add(event["requestId"])

    def done(event: dict[str, Any]) -> None:
        if event["requestId"] in chart_requests:
            wire[event["requestId"]] = int(event["encodedDataLength"])

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.loadingFinished", done)
    start = time.perf_counter()
    marks = [start]
    page.goto(url, wait_until="load")
    marks.append(time.perf_counter())
    page.check("#select-all")
    marks.append(time.perf_counter())
    page.click("#compare-btn")  # draws the first metric (acc) …
    marks.append(time.perf_counter())
    page.locator("#metric-picks input[value='loss']").check()  # … and at once both
    marks.append(time.perf_counter())
    page.wait_for_function(_compare_drawn(runs), timeout=120_000, polling="raf")
    elapsed = time.perf_counter() - start
    marks.append(start + elapsed)
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    page.wait_for_timeout(200)  # the last loadingFinished event
    context.close()
    if steps is not None:
        steps.append([b - a for a, b in itertools.pairwise(marks)])
    return elapsed, float(metrics.get("TaskDuration", 0.0)), sum(wire.values())


def _time_saved_compare(browser: Any, url: str, runs: int) -> float:
    """Cold: open a saved compare URL (the runs, both metrics and the open panel are in
    its query) until every series is drawn; no action in between."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_function(_compare_drawn(runs), timeout=120_000, polling="raf")
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


#: a page with what the compare's three actions touch, and nothing behind them
_TRIVIAL = ("<!doctype html><input type=checkbox id=all><button id=go>Compare</button>"
            "<div id=picks><input type=checkbox value=loss></div>")


def _time_driver(browser: Any, repeat: int) -> list[float]:
    """Playwright's own cost of each of the compare's three actions (check, click,
    check) on a trivial in-memory page: median seconds per action."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    found: list[list[float]] = []
    for _ in range(repeat + 1):  # the first round warms the driver
        page.set_content(_TRIVIAL)
        marks = [time.perf_counter()]
        page.check("#all")
        marks.append(time.perf_counter())
        page.click("#go")
        marks.append(time.perf_counter())
        page.locator("#picks input[value='loss']").check()
        marks.append(time.perf_counter())
        found.append([b - a for a, b in itertools.pairwise(marks)])
    context.close()
    return [statistics.median(column) for column in zip(*found[1:], strict=True)]


def serve(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``runtrack server`` over ``folder`` on a free loopback port, once it answers."""
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
    parser.add_argument("--sweep-runs", type=int, default=50)
    parser.add_argument("--sweep-steps", type=int, default=2000)
    parser.add_argument("--only", choices=["pages", "compare", "lines"], default=None,
                        help="run one part: the runs/run pages, the 50-run compare, or "
                        "uPlot against Plotly for the compare charts")
    args = parser.parse_args()
    if args.only in (None, "compare"):
        _compare_part(args)
    if args.only in (None, "pages"):
        _pages_part(args)
    if args.only in (None, "lines"):
        _lines_part(args)


def _lines_part(args: argparse.Namespace) -> None:
    from benchmarks import _ui_lines
    from playwright.sync_api import sync_playwright

    from runtrack.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ws"
        folder.mkdir()
        _fill_sweep(folder, args.sweep_runs, args.sweep_steps)
        store = open_store(f"sqlite:///{folder / 'runtrack.db'}")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                            args=CHROMIUM_ARGS)
                _ui_lines.run(browser, store, [f"sweep-{i:03d}" for i in range(args.sweep_runs)],
                              args.repeat)
                browser.close()
        finally:
            store.close()


def _time_chart_request(url: str, params: list[tuple[str, str]],
                        repeat: int) -> tuple[float, float]:
    """The compare's 2-metric chart request on its own, as the page asks for it: median
    wall seconds and the server process's CPU seconds per request (after a warm-up)."""
    import psutil

    server = next(c for c in psutil.Process().children() if "server" in c.cmdline())
    query = [*params, ("format", "compact")]
    with httpx.Client(timeout=120, headers={"Accept-Encoding": "gzip"}) as client:
        client.get(f"{url}/api/v1/views/chart", params=query).raise_for_status()
        before = sum(server.cpu_times()[:2])
        walls = []
        for _ in range(repeat):
            start = time.perf_counter()
            client.get(f"{url}/api/v1/views/chart", params=query).raise_for_status()
            walls.append(time.perf_counter() - start)
        cpu = (sum(server.cpu_times()[:2]) - before) / repeat
    return statistics.median(walls), cpu


def _compare_part(args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ws"
        folder.mkdir()
        exp_id = _fill_sweep(folder, args.sweep_runs, args.sweep_steps)
        process, url = serve(folder)
        page_url = f"{url}/experiments/{exp_id}?per_page={args.sweep_runs}"
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                            args=CHROMIUM_ARGS)
                _time_compare(browser, page_url, args.sweep_runs)  # warm the server once
                steps: list[list[float]] = []
                found = [_time_compare(browser, page_url, args.sweep_runs, steps)
                         for _ in range(args.repeat)]
                driver = _time_driver(browser, args.repeat)
                picks = "".join(f"&sel=sweep-{i:03d}" for i in range(args.sweep_runs))
                saved_url = f"{page_url}&cmp=1{picks}&cm=acc&cm=loss"  # what the page saves
                _time_saved_compare(browser, saved_url, args.sweep_runs)
                saved = [_time_saved_compare(browser, saved_url, args.sweep_runs)
                         for _ in range(args.repeat)]
                browser.close()
            params = [("run", f"sweep-{i:03d}") for i in range(args.sweep_runs)]
            params += [("metric", "loss"), ("metric", "acc")]
            request = _time_chart_request(url, [*params, ("buckets", "1000")], args.repeat)
            paged = _time_chart_request(url, [*params, ("buckets", "120")], args.repeat)
            params.append(("buckets", "1000"))
            plain = len(httpx.get(f"{url}/api/v1/views/chart", params=params,
                                  headers={"Accept-Encoding": "identity"}, timeout=120).content)
        finally:
            process.terminate()
            process.wait(timeout=15)
    walls = [w for w, _, _ in found]
    busy = [b for _, b, _ in found]
    wire = statistics.median(b for _, _, b in found)
    print(f"compare {args.sweep_runs} runs x 2 metrics x {args.sweep_steps} steps, cold: wall "
          f"median {statistics.median(walls):.3f} s (min {min(walls):.3f}, max {max(walls):.3f});"
          f" renderer main thread median {statistics.median(busy):.3f} s; target 1.5 s; load "
          f"average {os.getloadavg()[0]:.1f}")
    split = [statistics.median(column) for column in zip(*steps, strict=True)]
    print("  of which (medians): navigation to load {:.3f} s; tick all {:.3f} s, Compare "
          "{:.3f} s, tick loss {:.3f} s (Playwright actions); last action to drawn {:.3f} s"
          .format(*split))
    print("  Playwright's own cost of the same three actions on a trivial page: "
          f"{driver[0]:.3f} s, {driver[1]:.3f} s, {driver[2]:.3f} s (sum {sum(driver):.3f} s);"
          f" the compare without it: {statistics.median(walls) - sum(driver):.3f} s")
    print(f"open a saved compare URL cold (the view lives in the URL) until drawn: wall median "
          f"{statistics.median(saved):.3f} s (min {min(saved):.3f}, max {max(saved):.3f})")
    print(f"compare chart data request alone (compact, gzip), the page's 120 buckets a series: "
          f"wall median {paged[0]:.3f} s, server CPU {paged[1]:.3f} s per request")
    print(f"the same at 1000 buckets (series sent as logged): wall median {request[0]:.3f} s, "
          f"server CPU {request[1]:.3f} s per request")
    print(f"compare chart data on the wire: {wire / 1000:.0f} KB (compact, gzip, every request "
          "of the compare); the full JSON "
          f"form at 1000 buckets, uncompressed: {plain / 1000:.0f} KB; ratio {plain / wire:.1f}x;"
          f" target 300 KB")


def _pages_part(args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ws"
        folder.mkdir()
        t0 = time.perf_counter()
        run_id = _fill(folder, args.runs, args.points)
        print(f"filled {args.runs} runs + 10 x {args.points} points in "
              f"{time.perf_counter() - t0:.0f} s")
        process, url = serve(folder)
        try:
            table = (f"{url}/runs?col=metric:loss:last&col=metric:loss:max&col=metric:acc:max"
                     "&sort=-metric:loss:max")
            charts = f"{url}/runs/{run_id}#metrics"
            table_ready = ("() => document.querySelectorAll('#runs-table tbody tr').length === 50"
                           " && document.readyState === 'complete'")
            charts_ready = ("() => document.querySelectorAll("
                            "'.chart-card .chart[data-drawn=uplot] canvas').length === 10")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                            args=CHROMIUM_ARGS)
                _time_page(browser, table, table_ready)  # warm the server's caches once
                tables = [_time_page(browser, table, table_ready) for _ in range(args.repeat)]
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
        (f"run page, 10 charts x {args.points} points, all interactive (uPlot), cold",
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
