"""One command for runtrack's performance figures, with MLflow measured in the same run.

    python benchmarks/run.py            # everything (a few minutes on 2 cores)
    python benchmarks/run.py --quick    # 1M instead of 10M points for the memory run

Each workload runs in a fresh process (so imports and memory of one tool never weigh
on the other); figures are medians of ``--reps`` repetitions (default 3). MLflow needs
``pip install 'runtrack[bench]'``; without it only runtrack's figures are printed.
See docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _run(script: str, *args: str) -> dict[str, Any] | None:
    proc = subprocess.run(
        [sys.executable, str(HERE / script), *args], capture_output=True, text=True
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        print(f"  ! {script} {' '.join(args)} failed: {' | '.join(tail)}", file=sys.stderr)
        return None
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:,.0f}x" if a and b else "n/a"


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "s":
        return f"{value * 1000:,.1f} ms"
    if unit == "MB":
        return f"{value:,.1f} MB"
    return f"{value:,.0f} {unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1M points for the memory run")
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args()
    reps = str(args.reps)
    load = os.getloadavg()[0]
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, load {load:.2f}")
    print("running runtrack workloads ...", flush=True)
    calls = _run("runtrack_workloads.py", "calls", "--reps", reps) or {}
    ingest = _run("runtrack_workloads.py", "ingest", "--reps", reps) or {}
    read = _run("runtrack_workloads.py", "read", "--reps", str(max(args.reps, 5))) or {}
    points = "1000000" if args.quick else "10000000"
    rss = _run("runtrack_workloads.py", "rss", "--points", points) or {}
    life = _run("runtrack_workloads.py", "lifecycle", "--reps", reps) or {}
    ml: dict[str, Any] = {}
    if not args.no_mlflow:
        print("running MLflow workloads ...", flush=True)
        ml = _run("mlflow_workloads.py", "--reps", reps) or {}
    rows = [
        ("log() calls/s, shipping active (median of 100k-call blocks)",
         calls.get("calls_per_s_median_block"), "/s",
         ml.get("async_points_logged_per_s"), "MLflow async log_metrics, points/s"),
        ("  (this machine's floor, same loop: an empty Python function)",
         calls.get("floor_empty_calls_per_s"), "/s", None, ""),
        ("ingest 100k points, first call to complete()",
         ingest.get("points_per_s"), "pts/s",
         ml.get("log_batch_points_per_s"), "MLflow log_batch 1,000/call"),
        ("  (same, against MLflow async end to end)",
         ingest.get("points_per_s"), "pts/s",
         ml.get("async_points_per_s"), "MLflow async log_metrics"),
        ("read 1M-point metric, get_metrics()",
         read.get("get_metrics_s"), "s", None, ""),
        ("read 1M-point metric, get_metric_array()",
         read.get("get_metric_array_s"), "s", None, ""),
        ("downsample 1M -> 2,000 buckets",
         read.get("downsample_2000_s"), "s", None, ""),
        (f"RSS above baseline, {int(points):,}-point run",
         rss.get("rss_above_baseline_mb"), "MB", None, ""),
        ("  (that run's throughput, first call to complete())",
         rss.get("points_per_s"), "pts/s", None, ""),
    ]
    print()
    print(f"{'workload':62} {'runtrack':>16} {'MLflow':>14}  ratio")
    for label, mine, unit, theirs, note in rows:
        line = f"{label:62} {_fmt(mine, unit):>16} "
        line += f"{_fmt(theirs, 'pts/s') if theirs else '':>14}"
        if theirs:
            line += f"  {_ratio(mine, theirs)}  ({note})"
        print(line)
    if read.get("get_metrics_s") and ml.get("read_points_per_s"):
        ours = 1_000_000 / read["get_metrics_s"]
        print(f"{'read points/s, get_metrics() vs get_metric_history':62} "
              f"{_fmt(ours, 'pts/s'):>16} {_fmt(ml['read_points_per_s'], 'pts/s'):>14}  "
              f"{_ratio(ours, ml['read_points_per_s'])}")
    if life.get("s_per_run"):
        theirs = ml.get("lifecycle_s_per_run")
        line = (f"{'run lifecycle: create, 5 tags, 500 points, complete (per run)':62} "
                f"{_fmt(life['s_per_run'], 's'):>16} {_fmt(theirs, 's') if theirs else '':>14}")
        if theirs:
            line += f"  {theirs / life['s_per_run']:,.1f}x faster  (MLflow log_batch)"
        print(line)
        if life.get("cpu_s_per_run"):
            print(f"{'  same, CPU time of the process (all threads) per run':62} "
                  f"{_fmt(life['cpu_s_per_run'], 's'):>16}")
    if calls.get("logger"):
        print(f"\nrun.log is the {calls['logger']} scalar logger "
              "(runtrack/spool/_scalar.c, or its Python twin where that is not built).")
    if ml:
        print(f"\nMLflow {ml.get('version')} on SQLite; medians of {reps} repetitions.")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print(json.dumps({"calls": calls, "ingest": ingest, "read": read, "rss": rss,
                      "lifecycle": life, "mlflow": ml}))


if __name__ == "__main__":
    main()
