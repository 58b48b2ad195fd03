"""The mlflow client logging into runtrack vs into MLflow's own server, same workload.

Both servers run as subprocesses on 127.0.0.1 over SQLite (``runtrack server`` with
one worker; ``mlflow server --backend-store-uri sqlite:///…``). The client is the
real ``mlflow`` package, unchanged; only the tracking URI differs. Workloads, each
on a fresh run, timed from the first call until the last request has answered:

* ``batch``: ``MlflowClient.log_batch`` with 1,000 metric points per request
  (MLflow's limit), 100 requests = 100,000 points;
* ``steps``: ``mlflow.log_metrics({"loss", "acc"}, step=i)`` for 1,000 steps
  (one request per step, the usual training-loop call);
* ``params``: ``log_param`` x 200 then ``get_run`` + ``search_runs`` once.

Each is repeated ``--repeat`` times (default 3); medians and the ratio
runtrack / MLflow are printed (below 1 = runtrack faster).

    python benchmarks/bench_mlflow_client.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

BATCH_POINTS, BATCH_SIZE = 100_000, 1_000
STEPS = 1_000
PARAMS = 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(
    cmd: list[str], url: str, probe: str, log: Path, wait_s: float = 180
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{cmd[:4]} exited early:\n{log.read_text()[-3000:]}")
        try:
            httpx.get(url + probe, timeout=2.0)
            return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{cmd[:4]} did not answer within {wait_s:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)


def _workloads(mlflow: Any) -> dict[str, Callable[[str], float]]:
    from mlflow.entities import Metric

    def batch(exp_id: str) -> float:
        client = mlflow.MlflowClient()
        run = client.create_run(exp_id)
        now = int(time.time() * 1000)
        chunks = [
            [Metric(f"m{i % 10}", i * 0.5, now + i, i // 10) for i in range(s, s + BATCH_SIZE)]
            for s in range(0, BATCH_POINTS, BATCH_SIZE)
        ]
        start = time.perf_counter()
        for chunk in chunks:
            client.log_batch(run.info.run_id, metrics=chunk, synchronous=True)
        elapsed = time.perf_counter() - start
        client.set_terminated(run.info.run_id)
        return elapsed

    def steps(exp_id: str) -> float:
        with mlflow.start_run(experiment_id=exp_id):
            start = time.perf_counter()
            for step in range(STEPS):
                mlflow.log_metrics({"loss": 1.0 / (step + 1), "acc": step / STEPS}, step=step)
            return time.perf_counter() - start

    def params(exp_id: str) -> float:
        with mlflow.start_run(experiment_id=exp_id) as run:
            start = time.perf_counter()
            for i in range(PARAMS):
                mlflow.log_param(f"p{i}", i)
            mlflow.MlflowClient().get_run(run.info.run_id)
            mlflow.search_runs([exp_id], max_results=100)
            return time.perf_counter() - start

    return {"batch": batch, "steps": steps, "params": params}


def _measure(url: str, repeat: int, label: str) -> dict[str, list[float]]:
    import mlflow

    mlflow.set_tracking_uri(url)
    exp_id = mlflow.create_experiment(f"bench-{label}-{os.getpid()}-{time.time_ns()}")
    results: dict[str, list[float]] = {}
    for name, work in _workloads(mlflow).items():
        results[name] = [work(exp_id) for _ in range(repeat)]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ["MLFLOW_ENABLE_ASYNC_LOGGING"] = "false"
    folder = Path(tempfile.mkdtemp(prefix="bench-mlflow-"))
    try:
        rt_port, ml_port = _free_port(), _free_port()
        runtrack = _start(
            [sys.executable, "-m", "runtrack", "server", "--port", str(rt_port),
             "--backend-store-uri", str(folder / "runtrack")],
            f"http://127.0.0.1:{rt_port}", "/api/v1/health", folder / "runtrack.log",
        )
        theirs = _start(
            [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port",
             str(ml_port), "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
             "--artifacts-destination", str(folder / "mlartifacts"), "--workers", "1"],
            f"http://127.0.0.1:{ml_port}", "/health", folder / "mlflow.log",
        )
        try:
            ours = _measure(f"http://127.0.0.1:{rt_port}", args.repeat, "runtrack")
            mine = _measure(f"http://127.0.0.1:{ml_port}", args.repeat, "mlflow")
        finally:
            _stop(runtrack)
            _stop(theirs)
        what = {
            "batch": f"log_batch, {BATCH_POINTS:,} points in requests of {BATCH_SIZE:,}",
            "steps": f"log_metrics x {STEPS:,} steps (2 metrics each)",
            "params": f"log_param x {PARAMS} + get_run + search_runs",
        }
        print(f"median of {args.repeat}, seconds (runtrack / mlflow server; <1 = runtrack faster)")
        for name, label in what.items():
            a, b = statistics.median(ours[name]), statistics.median(mine[name])
            print(f"{label:<50} runtrack {a:8.3f}  mlflow {b:8.3f}  ratio {a / b:5.2f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
