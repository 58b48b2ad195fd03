"""Hot-path ingest through a tracking server, beside MLflow's own server.

Workload: one run logs 10 metrics x 10,000 steps (100,000 points) with the SDK against
``Workspace("http://127.0.0.1:PORT")`` of a ``runtrack server`` with one worker
(SQLite); timed from the first ``log()`` until ``run.complete()`` returns (every point
is in the server's database). MLflow: the same points through ``MlflowClient.log_batch``
(1,000 metrics per request, MLflow's own limit and its fastest path) against
``mlflow server`` on SQLite. Each side is run ``--repeat`` times; medians are printed
with the ratio.

    python benchmarks/bench_server.py [--repeat 5] [--no-mlflow]
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
from pathlib import Path

import httpx

METRICS, STEPS = 10, 10_000
POINTS = METRICS * STEPS


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early: {process.args}")
        try:
            httpx.get(url, timeout=2.0)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("RUNTRACK_", "MLFLOW_"))}


def bench_runtrack(folder: Path, repeat: int) -> list[float]:
    from runtrack import Experiment, Workspace

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "runtrack", "server", "--backend-store-uri",
         str(folder / "server"), "--port", str(port), "--workers", "1"],
        env=_env(),
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait(f"{url}/api/v1/health", server)
        os.environ["RUNTRACK_SPOOL_DIR"] = str(folder / "spool")
        ws = Workspace(url)
        exp = Experiment(ws, "bench")
        names = [f"metric_{k}" for k in range(METRICS)]
        times = []
        for _ in range(repeat):
            run = exp.start_logging(outputs=False)
            start = time.perf_counter()
            for step in range(STEPS):
                for name in names:
                    run.log(name, step * 0.001, step=step)
            run.complete()
            times.append(time.perf_counter() - start)
            series = ws.store.list_series(run.id)
            assert sum(s.count for s in series) == POINTS, "points missing on the server"
        ws.close()
        return times
    finally:
        server.terminate()
        server.wait(timeout=30)


def bench_mlflow(folder: Path, repeat: int) -> list[float] | None:
    try:
        from mlflow.entities import Metric
        from mlflow.tracking import MlflowClient
    except ImportError:
        print("mlflow is not installed: pip install mlflow (skipping its side)")
        return None
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri",
         f"sqlite:///{folder / 'mlflow.db'}", "--default-artifact-root",
         str(folder / "mlartifacts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait(f"{url}/health", server)
        client = MlflowClient(tracking_uri=url)
        exp_id = client.create_experiment("bench")
        names = [f"metric_{k}" for k in range(METRICS)]
        times = []
        for _ in range(repeat):
            run = client.create_run(exp_id)
            start = time.perf_counter()
            now = int(time.time() * 1000)
            batch: list[Metric] = []
            for step in range(STEPS):
                for name in names:
                    batch.append(Metric(name, step * 0.001, now, step))
                    if len(batch) == 1000:
                        client.log_batch(run.info.run_id, metrics=batch)
                        batch = []
            if batch:
                client.log_batch(run.info.run_id, metrics=batch)
            client.set_terminated(run.info.run_id)
            times.append(time.perf_counter() - start)
        return times
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-server-"))
    try:
        ours = bench_runtrack(folder, args.repeat)
        ours_median = statistics.median(ours)
        print(f"runtrack server: {POINTS} points, median {ours_median:.3f} s "
              f"= {POINTS / ours_median:,.0f} points/s (runs: "
              + ", ".join(f"{t:.3f}" for t in ours) + ")")
        theirs = None if args.no_mlflow else bench_mlflow(folder, args.repeat)
        if theirs:
            theirs_median = statistics.median(theirs)
            print(f"mlflow server:   {POINTS} points, median {theirs_median:.3f} s "
                  f"= {POINTS / theirs_median:,.0f} points/s (runs: "
                  + ", ".join(f"{t:.3f}" for t in theirs) + ")")
            print(f"ratio: runtrack is {theirs_median / ours_median:.1f}x faster")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
