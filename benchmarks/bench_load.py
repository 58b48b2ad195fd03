"""Load test: how many concurrent runs, each logging 1,000 points/s, a server sustains.

Each simulated run is one client with its own connection (a ``RestStore``, as the
shipper of a real run holds): every ``--tick`` seconds (default 0.5 s, the longest the
shipper waits to fill a batch while points stream in) it sends, in one batch, every
point due since its last send (columnar batches, as the spool shipper sends them), so a
server that falls behind makes batches grow instead of dropping points. A level of N
runs passes when, over ``--seconds`` of logging, the p99 latency of the ingest requests
is <= ``--p99-ms`` and no point is lost (each run's stored count equals what it sent).
N doubles from ``--start`` while the server keeps pace (0 lost, no run finishing more
than two ticks late), then the gap is bisected once; the report names both the largest
N meeting the latency bar and the largest N that kept pace at any latency.

Two set-ups on one throwaway PostgreSQL database (``--postgres URL``, or a cluster
made with the installed initdb/pg_ctl): one ``runtrack server`` with one worker, and
two replicas (runs alternate between them, as a load balancer spreads connections).
Everything binds 127.0.0.1; every loop is bounded by ``--max-runs`` and ``--seconds``.

    python benchmarks/bench_load.py [--seconds 10] [--start 4] [--max-runs 128]
                                    [--setups one,two] [--postgres URL] [--levels 8,16]
                                    [--cost-only] [--cost-reps 3]

``--levels`` measures the given N once each instead of searching, to compare a change at
the same N; ``--cost-only`` measures only the server's CPU time per request (the median of
``--cost-reps`` rounds), the figure that holds on a busy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

RATE = 1_000  # points per second per run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _postgres(given: str | None) -> Iterator[str]:
    """A PostgreSQL admin URL: ``given``, else a throwaway local cluster."""
    if given:
        yield given
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.postgres import _bindir, _Cluster

    bindir = _bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL binaries (initdb, pg_ctl): pass --postgres URL")
    cluster = _Cluster(bindir)
    try:
        cluster.start()
        yield cluster.url
    finally:
        cluster.stop()


@contextmanager
def _database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _servers(db_url: str, count: int, folder: Path) -> Iterator[list[tuple[str, int]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTRACK_")}
    procs: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for _ in range(count):
            port = _free_port()
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "runtrack", "server", "--backend-store-uri", db_url,
                 "--artifact-root", str(folder / "artifacts"), "--port", str(port),
                 "--workers", "1"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
            urls.append(f"http://127.0.0.1:{port}")
        for url, proc in zip(urls, procs, strict=True):
            deadline = time.monotonic() + 120
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"server {url} exited early")
                try:
                    httpx.get(f"{url}/api/v1/health", timeout=2.0)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"server {url} did not answer") from None
                    time.sleep(0.2)
        yield [(url, proc.pid) for url, proc in zip(urls, procs, strict=True)]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _batch(first: int, count: int, t0: float) -> object:
    from runtrack.model import POINT_FLOAT, MetricBatch, PointColumns

    steps = array("q", range(first, first + count))
    columns = PointColumns(
        names={0: ("loss", "scalar")},
        ids=bytes(4 * count),
        steps=steps.tobytes(),
        times=array("d", (t0 + i / RATE for i in range(first, first + count))).tobytes(),
        values=array("d", (i * 0.001 for i in range(first, first + count))).tobytes(),
        types=bytes([POINT_FLOAT]) * count,
    )
    return MetricBatch.from_columns("load", first, columns)


def _simulated_run(url: str, exp_id: str, seconds: float, tick: float, start_at: float,
                   latencies: list[float], result: dict[str, int]) -> None:
    from runtrack.model import NewRun, RunStatus
    from runtrack.store.rest import RestStore

    store = RestStore(url)
    run_id = f"load-{uuid.uuid4().hex[:12]}"
    try:
        store.create_run(NewRun(exp_id, run_id, display_name="load", run_type="script",
                         status=RunStatus.RUNNING))
        sent = 0
        total = int(seconds * RATE)
        while time.monotonic() < start_at:
            time.sleep(0.005)
        begin = time.monotonic()
        next_tick = begin
        while sent < total:
            next_tick += tick
            pause = next_tick - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            due = min(total, int((time.monotonic() - begin) * RATE))
            if due <= sent:
                continue
            batch = _batch(sent, due - sent, begin)
            t = time.perf_counter()
            store.ingest(run_id, batch)  # type: ignore[arg-type]
            latencies.append(time.perf_counter() - t)
            sent = due
        result["sent"] = sent
        series = {s.name: s.count for s in store.list_series(run_id)}
        result["stored"] = series.get("loss", 0)
        result["behind_s"] = int(1000 * max(0.0, time.monotonic() - begin - seconds))
    except Exception as exc:  # counted as lost points, reported
        result["error"] = 1
        print(f"  run {run_id}: {type(exc).__name__}: {exc}", file=sys.stderr)
    finally:
        store.close()


def _level(urls: list[str], runs: int, seconds: float, tick: float) -> dict[str, float]:
    from runtrack.store.rest import RestStore

    store = RestStore(urls[0])
    exp_id = store.get_or_create_experiment(f"load-{runs}-{uuid.uuid4().hex[:6]}").id
    store.close()
    latencies: list[float] = []
    results: list[dict[str, int]] = [{} for _ in range(runs)]
    start_at = time.monotonic() + 1.0 + runs * 0.01
    threads = [
        threading.Thread(target=_simulated_run, args=(
            urls[i % len(urls)], exp_id, seconds, tick, start_at, latencies, results[i]))
        for i in range(runs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds * 4 + 120)
    sent = sum(r.get("sent", 0) for r in results)
    stored = sum(r.get("stored", 0) for r in results)
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("inf")
    return {
        "runs": runs, "requests": len(ordered), "points": stored,
        "lost": int(runs * seconds * RATE) - stored if sent else int(runs * seconds * RATE),
        "errors": sum(r.get("error", 0) for r in results),
        "p50_ms": 1000 * statistics.median(ordered) if ordered else float("inf"),
        "p99_ms": 1000 * p99,
        "max_behind_ms": max((r.get("behind_s", 0) for r in results), default=0),
    }


def _cost(url: str, pid: int, tick: float, reps: int = 1) -> dict[str, float]:
    """Server CPU per ingest request, split into a fixed part and a per-point part.

    CPU time (not wall time) of the server process, so the figure holds on a loaded
    machine: sequential requests of 50 and of 5,000 points, the median of ``reps`` rounds.
    """
    import psutil

    from runtrack.model import NewRun, RunStatus
    from runtrack.store.rest import RestStore

    server = psutil.Process(pid)
    store = RestStore(url)
    exp_id = store.get_or_create_experiment("load-cost").id
    per_request = {}
    try:
        for size, count in ((50, 60), (5_000, 20)):
            run_id = f"cost-{size}-{uuid.uuid4().hex[:8]}"
            store.create_run(NewRun(exp_id, run_id, display_name="cost", run_type="script",
                             status=RunStatus.RUNNING))
            store.ingest(run_id, _batch(0, size, 0.0))  # type: ignore[arg-type]
            sent, rounds = 1, []
            for _ in range(reps):  # the median round: other work on the machine inflates some
                before = sum(server.cpu_times()[:2])
                for _ in range(count):
                    store.ingest(run_id, _batch(sent * size, size, 0.0))  # type: ignore[arg-type]
                    sent += 1
                rounds.append((sum(server.cpu_times()[:2]) - before) / count)
            per_request[size] = statistics.median(rounds)
    finally:
        store.close()
    per_point = max(0.0, (per_request[5_000] - per_request[50]) / (5_000 - 50))
    fixed = max(0.0, per_request[50] - 50 * per_point)
    run_second = fixed / tick + RATE * per_point  # CPU one run costs per second
    return {"points": (50 * 60 + 5_000 * 20) * reps + 5_050, "fixed_ms": 1000 * fixed,
            "per_point_us": 1e6 * per_point,
            "cpu_ms_per_run_second": 1000 * run_second, "runs_per_core": 1 / run_second}


def _search(urls: list[str], args: argparse.Namespace) -> dict[str, object]:
    """Double N while the server keeps pace; the largest N meeting the latency bar too."""
    levels: list[dict[str, float]] = []
    best = {"latency": 0, "pace": 0}

    def measure(runs: int) -> bool:
        got = _level(urls, runs, args.seconds, args.tick)
        pace = (got["lost"] == 0 and got["errors"] == 0
                and got["max_behind_ms"] <= 2000 * args.tick)
        meets = pace and got["p99_ms"] <= args.p99_ms
        got["keeps_pace"], got["meets_bar"] = float(pace), float(meets)
        levels.append(got)
        if pace:
            best["pace"] = max(best["pace"], runs)
        if meets:
            best["latency"] = max(best["latency"], runs)
        print(f"  N={runs:4d}  p50 {got['p50_ms']:7.1f} ms  p99 {got['p99_ms']:7.1f} ms  "
              f"lost {int(got['lost'])}  behind {int(got['max_behind_ms'])} ms  "
              f"{'meets the bar' if meets else 'keeps pace' if pace else 'FALLS BEHIND'}",
              flush=True)
        return pace

    if args.levels:  # fixed levels: the same N before and after a change
        for runs in args.levels:
            measure(runs)
        return {**best, "levels": levels}
    runs = args.start
    while runs <= args.max_runs and measure(runs):
        runs *= 2
    if best["pace"] and runs <= args.max_runs and runs - best["pace"] > 1:
        measure((best["pace"] + runs) // 2)
    return {**best, "levels": levels}


def _db_size(db_url: str) -> int:
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("VACUUM")
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    assert row is not None
    return int(row[0])


def _bytes_per_point(db_url: str, baseline: int, found: dict[str, object]) -> float:
    """Growth of the database (points, indexes, runs) per point stored since ``baseline``."""
    levels: list[dict[str, float]] = found["levels"]  # type: ignore[assignment]
    cost: dict[str, float] = found["cost"]  # type: ignore[assignment]
    points = sum(level["points"] for level in levels) + cost["points"]
    return float(_db_size(db_url) - baseline) / max(1, points)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="logging time per level")
    parser.add_argument("--tick", type=float, default=0.5,
                        help="seconds between sends (the shipper's MAX_PAUSE)")
    parser.add_argument("--start", type=int, default=1, help="first number of runs")
    parser.add_argument("--max-runs", type=int, default=128, help="upper bound on runs")
    parser.add_argument("--p99-ms", type=float, default=100.0, help="latency bar")
    parser.add_argument("--setups", default="one,two", help="one (1 server), two (replicas)")
    parser.add_argument("--postgres", default=None, help="admin URL of a PostgreSQL server")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument("--levels", default="",
                        help="comma-separated N to measure, each once, instead of searching")
    parser.add_argument("--cost-only", action="store_true",
                        help="measure only the server CPU per request (no levels)")
    parser.add_argument("--cost-reps", type=int, default=3,
                        help="rounds of the CPU-per-request measurement (median reported)")
    args = parser.parse_args()
    args.levels = [int(n) for n in args.levels.split(",") if n.strip()]
    if any(n < 1 or n > args.max_runs for n in args.levels):
        parser.error(f"--levels: each N must be 1 to --max-runs ({args.max_runs})")
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"{os.cpu_count()} CPUs", flush=True)
    report: dict[str, object] = {"loadavg": load, "cpus": os.cpu_count(),
                                 "seconds": args.seconds, "rate": RATE}
    folder = Path(tempfile.mkdtemp(prefix="runtrack-load-"))
    try:
        with _postgres(args.postgres) as admin:
            for setup in args.setups.split(","):
                replicas = {"one": 1, "two": 2}[setup]
                with _database(admin) as db, _servers(db, replicas, folder) as servers:
                    print(f"{replicas} server(s), 1 worker each, PostgreSQL:", flush=True)
                    baseline = _db_size(db)
                    cost = _cost(*servers[0], args.tick, max(1, args.cost_reps))
                    print(f"  server CPU per request: {cost['fixed_ms']:.1f} ms + "
                          f"{cost['per_point_us']:.2f} us per point; one run at "
                          f"{RATE} points/s in {args.tick:g} s batches costs "
                          f"{cost['cpu_ms_per_run_second']:.1f} ms CPU/s = "
                          f"{cost['runs_per_core']:.0f} runs per busy core", flush=True)
                    if args.cost_only:
                        report[setup] = {"cost": cost}
                        continue
                    found = _search([url for url, _ in servers], args)
                    found["cost"] = cost
                    found["bytes_per_point"] = _bytes_per_point(db, baseline, found)
                    print(f"  database size per stored point: "
                          f"{found['bytes_per_point']:.1f} bytes", flush=True)
                for key, what in (("latency", f"with p99 <= {args.p99_ms:g} ms and 0 lost"),
                                  ("pace", "keeping pace with 0 lost (any latency)")):
                    runs = int(found[key])  # type: ignore[call-overload]
                    print(f"  largest N {what}: {runs} runs = {runs * RATE:,} points/s",
                          flush=True)
                report[setup] = found
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
