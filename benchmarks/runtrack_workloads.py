"""runtrack's side of ``benchmarks/run.py``: each workload prints one JSON line.

Run alone: ``python benchmarks/runtrack_workloads.py calls|ingest|rss|read|lifecycle
[--reps N]``; ``lifecycle-steps [--runs N]`` splits the lifecycle into its steps.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from runtrack import Experiment, Workspace

NAMES = [f"metric_{k}" for k in range(10)]


def _workspace() -> Workspace:
    return Workspace(tempfile.mkdtemp(prefix="rt-bench-"))


def calls(reps: int) -> dict[str, object]:
    """Cost of ``run.log(name, float, step=i)`` with the shipper running alongside:
    1,000,000 calls per repetition, timed in blocks of 100,000 calls. Also per CPU
    second of the logging thread (``time.thread_time``): the steadier figure on a
    shared machine, without the time the shipper holds the GIL."""
    ws = _workspace()
    exp = Experiment(ws, "calls")
    block_rates: list[float] = []
    cpu_rates: list[float] = []
    rep_rates: list[float] = []
    for _ in range(reps):
        run = exp.start_logging()
        for name in NAMES:
            run.log(name, 0.0, step=0)  # names known: the fast path from the first block on
        start = time.perf_counter()
        for block in range(10):
            t0, c0 = time.perf_counter(), time.thread_time()
            for i in range(block * 10_000 + 1, block * 10_000 + 10_001):
                for name in NAMES:
                    run.log(name, 0.5, step=i)  # as training code writes it
            block_rates.append(100_000 / (time.perf_counter() - t0))
            cpu_rates.append(100_000 / max(time.thread_time() - c0, 1e-9))
        rep_rates.append(1_000_000 / (time.perf_counter() - start))
        run.complete()
    ws.close()
    return {
        "workload": "calls",
        "calls_per_s_median_block": statistics.median(block_rates),
        "calls_per_s_median_rep": statistics.median(rep_rates),
        "us_per_call": 1e6 / statistics.median(block_rates),
        "calls_per_cpu_s_logging_thread": statistics.median(cpu_rates),
        "reps": reps,
        "logger": _logger(),
        **_floor(),
    }


def _floor() -> dict[str, float]:
    """What this interpreter on this machine allows the same loop: an empty function
    with ``log``'s signature. Calls per second, best of 5 blocks of 100,000 calls."""

    def empty(name: str, value: object, description: str = "", step: object = None) -> None:
        return None

    best = 0.0
    for _ in range(5):
        t0 = time.perf_counter()
        for i in range(10_000):
            for name in NAMES:
                empty(name, 0.5, step=i)
        best = max(best, 100_000 / (time.perf_counter() - t0))
    return {"floor_empty_calls_per_s": best}


def _logger() -> str:
    """Which scalar logger ``run.log`` is here: the C cursor or its Python twin."""
    from runtrack.spool import logger

    return "python" if logger.CCursor is None else "C"


def ingest(reps: int) -> dict[str, object]:
    """100,000 points (10 metrics x 10,000 steps), first call until ``complete()``
    returns with everything queryable. A short untimed run first loads what a process
    loads once (numpy for the shipper's reader, the store's statements)."""
    ws = _workspace()
    exp = Experiment(ws, "ingest")
    warm = exp.start_logging()
    for i in range(100):
        for name in NAMES:
            warm.log(name, 0.5, step=i)
    warm.complete()
    rates: list[float] = []
    for _ in range(reps):
        run = exp.start_logging()
        start = time.perf_counter()
        for i in range(10_000):
            for name in NAMES:
                run.log(name, i * 0.5, step=i)  # as training code writes it
        run.complete()
        rates.append(100_000 / (time.perf_counter() - start))
        counts = {s.name: s.count for s in ws.store.list_series(run.id)}
        assert all(counts[name] == 10_000 for name in NAMES), counts
    ws.close()
    return {"workload": "ingest", "points_per_s": statistics.median(rates), "reps": reps}


def rss(points: int) -> dict[str, object]:
    """Peak resident memory above the baseline while logging ``points`` points
    (10 metrics) and completing the run."""
    import psutil

    proc = psutil.Process()
    ws = _workspace()
    exp = Experiment(ws, "rss")
    warm = exp.start_logging()
    warm.log("x", 1.0)
    warm.complete()  # imports, numpy, the shipper path: all loaded before the baseline
    baseline = proc.memory_info().rss
    peak = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], proc.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    run = exp.start_logging()
    start = time.perf_counter()
    for i in range(points // len(NAMES)):
        for name in NAMES:
            run.log(name, 0.25, step=i)
    logged = time.perf_counter() - start
    run.complete()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    peak[0] = max(peak[0], proc.memory_info().rss)
    ws.close()
    return {
        "workload": "rss",
        "points": points,
        "rss_above_baseline_mb": (peak[0] - baseline) / 2**20,
        "points_per_s": points / elapsed,
        "calls_per_s": points / logged,
    }


def read(reps: int) -> dict[str, object]:
    """One 1,000,000-point metric: full history as list and as numpy; 2,000-bucket
    downsample."""
    ws = _workspace()
    run = Experiment(ws, "read").start_logging()
    for i in range(1_000_000):
        run.log("loss", math.sin(i / 1000.0), step=i)
    run.complete()

    def median_time(fn: object) -> float:
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()  # type: ignore[operator]
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    values = run.get_metrics("loss")["loss"]
    assert len(values) == 1_000_000
    result = {
        "workload": "read",
        "get_metrics_s": median_time(lambda: run.get_metrics("loss")),
        "get_metric_array_s": median_time(lambda: run.get_metric_array("loss")),
        "downsample_2000_s": median_time(lambda: ws.store.downsample(run.id, "loss", 2000)),
        "reps": reps,
    }
    ws.close()
    return result


def lifecycle(reps: int, runs: int) -> dict[str, object]:
    """Whole short runs: ``start_logging()``, 5 tags, 5 metrics x 100 steps, ``complete()``,
    ``runs`` of them per repetition; milliseconds per run (median repetition).

    ``snapshot_directory=None``: the default ``start_logging()`` also copies the working
    directory into the run (Azure ML's behaviour), which is a file copy, not tracking.
    System metrics stay on (the default): each run samples once when it ends."""
    ws = _workspace()
    exp = Experiment(ws, "lifecycle")
    names = NAMES[:5]
    per_run: list[float] = []
    cpu_per_run: list[float] = []  # all threads of this process: steadier on a busy host
    for _ in range(reps):
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(runs):
            run = exp.start_logging(snapshot_directory=None)
            for t in range(5):
                run.tag(f"tag_{t}", "value")
            for i in range(100):
                for name in names:
                    run.log(name, i * 0.5, step=i)
            run.complete()
        per_run.append((time.perf_counter() - start) / runs)
        cpu_per_run.append((time.process_time() - cpu) / runs)
    last = ws.store.list_series(run.id)
    assert sorted((s.name, s.count) for s in last if s.name in names) == [(n, 100) for n in names]
    ws.close()
    return {"workload": "lifecycle", "s_per_run": statistics.median(per_run),
            "cpu_s_per_run": statistics.median(cpu_per_run), "runs": runs, "reps": reps}


def lifecycle_steps(runs: int) -> dict[str, object]:
    """The lifecycle workload split into its steps: CPU milliseconds of the process (all
    threads) per step, median over ``runs`` runs (after 5 warm-up runs)."""
    ws = _workspace()
    exp = Experiment(ws, "lifecycle-steps")
    names = NAMES[:5]
    steps: dict[str, list[float]] = {"start_logging": [], "tags": [], "logs": [],
                                     "complete": [], "total": []}
    for n in range(runs + 5):
        t0 = time.process_time()
        run = exp.start_logging(snapshot_directory=None)
        t1 = time.process_time()
        for t in range(5):
            run.tag(f"tag_{t}", "value")
        t2 = time.process_time()
        for i in range(100):
            for name in names:
                run.log(name, i * 0.5, step=i)
        t3 = time.process_time()
        run.complete()
        t4 = time.process_time()
        if n >= 5:
            for key, spent in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0),
                                  strict=True):
                steps[key].append(spent * 1000)
    ws.close()
    return {"workload": "lifecycle-steps", "runs": runs,
            **{f"{key}_cpu_ms": statistics.median(v) for key, v in steps.items()}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "workload", choices=["calls", "ingest", "rss", "read", "lifecycle", "lifecycle-steps"]
    )
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=200, help="runs per lifecycle repetition")
    args = parser.parse_args()
    if args.workload == "rss":
        out = rss(args.points)
    elif args.workload == "lifecycle":
        out = lifecycle(args.reps, args.runs)
    elif args.workload == "lifecycle-steps":
        out = lifecycle_steps(args.runs)
    else:
        out = {"calls": calls, "ingest": ingest, "read": read}[args.workload](args.reps)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    main()
