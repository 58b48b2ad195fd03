"""``mlflow.search_runs`` over many runs: runtrack server vs MLflow's server, one run.

Both servers run as subprocesses on 127.0.0.1 over SQLite (as in
``bench_mlflow_client.py``). Each gets the same experiment through the real mlflow
client: ``--runs`` runs (default 1,000; ``--full`` = 10,000) with 10 metrics each
(one ``log_batch`` per run, sent from a few threads). Then, timed:

    mlflow.search_runs([exp], filter_string="metrics.m0 > 0.5", order_by=["metrics.m1 DESC"])

which pages through every match (about half the runs) into a DataFrame. The median
of ``--repeat`` searches (default 3) is printed per server with the ratio
MLflow / runtrack (above 1 = runtrack faster). Both answers are checked to list the
same runs in the same order.

    python benchmarks/bench_mlflow_search.py [--runs 1000 | --full] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench_mlflow_client import _free_port, _start, _stop

METRICS = 10
FILTER = "metrics.m0 > 0.5"
ORDER = ["metrics.m1 DESC"]


def _value(run: int, metric: int) -> float:
    return ((run * 7919 + metric * 104729) % 1000) / 1000


def _populate(mlflow: Any, exp_id: str, runs: int) -> list[str]:
    from mlflow.entities import Metric

    client = mlflow.MlflowClient()
    now = int(time.time() * 1000)

    def one(i: int) -> str:
        run = client.create_run(exp_id, run_name=f"run-{i}", start_time=now + i)
        metrics = [Metric(f"m{k}", _value(i, k), now + i, 0) for k in range(METRICS)]
        client.log_batch(run.info.run_id, metrics=metrics, synchronous=True)
        return str(run.info.run_id)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(runs)))


def _measure(url: str, runs: int, repeat: int) -> tuple[list[float], list[str], float]:
    import mlflow

    mlflow.set_tracking_uri(url)
    exp_id = mlflow.create_experiment(f"search-{os.getpid()}-{time.time_ns()}")
    start = time.perf_counter()
    _populate(mlflow, exp_id, runs)
    setup = time.perf_counter() - start
    times, names = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        frame = mlflow.search_runs([exp_id], filter_string=FILTER, order_by=ORDER)
        times.append(time.perf_counter() - start)
        names = list(frame["tags.mlflow.runName"])
    return times, names, setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000)
    parser.add_argument("--full", action="store_true", help="10,000 runs (the issue's size)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = 10_000 if args.full else args.runs
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ["MLFLOW_ENABLE_ASYNC_LOGGING"] = "false"
    folder = Path(tempfile.mkdtemp(prefix="bench-mlflow-search-"))
    try:
        rt_port, ml_port = _free_port(), _free_port()
        servers = [_start(
            [sys.executable, "-m", "runtrack", "server", "--port", str(rt_port),
             "--backend-store-uri", str(folder / "runtrack")],
            f"http://127.0.0.1:{rt_port}", "/api/v1/health", folder / "runtrack.log", wait_s=600,
        )]
        try:
            servers.append(_start(
                [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port",
                 str(ml_port), "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
                 "--artifacts-destination", str(folder / "mlartifacts"), "--workers", "1"],
                f"http://127.0.0.1:{ml_port}", "/health", folder / "mlflow.log", wait_s=600,
            ))
            ours, our_names, our_setup = _measure(f"http://127.0.0.1:{rt_port}", runs,
                                                  args.repeat)
            theirs, their_names, their_setup = _measure(f"http://127.0.0.1:{ml_port}", runs,
                                                        args.repeat)
        finally:
            for server in servers:
                _stop(server)
        if our_names != their_names:
            raise SystemExit("the two servers answered different runs or orders")
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"{runs:,} runs x {METRICS} metrics; search_runs(filter={FILTER!r}, "
              f"order_by={ORDER}) -> {len(our_names):,} runs; median of {args.repeat}")
        print(f"  logging the runs:  runtrack {our_setup:8.2f} s   mlflow {their_setup:8.2f} s")
        print(f"  search_runs:       runtrack {a:8.3f} s   mlflow {b:8.3f} s   "
              f"ratio mlflow/runtrack {b / a:6.1f}x")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
