"""``mlflow.search_runs`` over many runs: runtrack server vs MLflow's server, one run.

Both servers run as subprocesses on 127.0.0.1 over SQLite (as in
``bench_mlflow_client.py``). Each gets the same experiment through the real mlflow
client: ``--runs`` runs (default 1,000; ``--full`` = 10,000) with 10 metrics each
(one ``log_batch`` per run, sent from a few threads). Then, timed:

    mlflow.search_runs([exp], filter_string="metrics.m0 > 0.5", order_by=["metrics.m1 DESC"])

which pages through every match (about half the runs) into a DataFrame. The median
of ``--repeat`` searches (default 3, after one untimed) is printed per server with the ratio
MLflow / runtrack (above 1 = runtrack faster). Both answers are checked to list the
same runs in the same order.

Where the time goes is printed under it, per server: the ``runs/search`` requests the
client makes (count, bytes, seconds for the raw HTTP exchange), and the client's own
share (``mlflow.search_runs`` again, against a stub that replays the saved pages at
once: JSON and protobuf parsing plus the DataFrame, which both servers' users pay).

Logging 10,000 runs takes minutes per server, so the stores can be kept and re-timed:
``--keep DIR`` populates into DIR and leaves it there; ``--reuse DIR`` starts both
servers on DIR's stores and only times the searches (the servers are whatever code is
importable now, so a change to runtrack's route is re-timed in seconds).

    python benchmarks/bench_mlflow_search.py [--runs 1000 | --full] [--repeat 3]
    python benchmarks/bench_mlflow_search.py --full --keep /tmp/search10k
    python benchmarks/bench_mlflow_search.py --reuse /tmp/search10k [--only runtrack]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from bench_mlflow_client import _free_port, _start, _stop

METRICS = 10
FILTER = "metrics.m0 > 0.5"
ORDER = ["metrics.m1 DESC"]
SERVERS = ("runtrack", "mlflow")
#: what ``mlflow.search_runs`` asks per page (NUM_RUNS_PER_PAGE_PANDAS)
PAGE = 10_000


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


def _fill(url: str, runs: int) -> tuple[str, float]:
    import mlflow

    mlflow.set_tracking_uri(url)
    exp_id = mlflow.create_experiment(f"search-{os.getpid()}-{time.time_ns()}")
    start = time.perf_counter()
    _populate(mlflow, exp_id, runs)
    return exp_id, time.perf_counter() - start


def _search(url: str, exp_id: str, repeat: int) -> tuple[list[float], list[str]]:
    import mlflow

    mlflow.set_tracking_uri(url)
    mlflow.search_runs([exp_id], filter_string=FILTER, order_by=ORDER)  # warm-up, untimed
    times, names = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        frame = mlflow.search_runs([exp_id], filter_string=FILTER, order_by=ORDER)
        times.append(time.perf_counter() - start)
        names = list(frame["tags.mlflow.runName"])
    return times, names


def _split(url: str, exp_id: str) -> dict[str, float]:
    """The raw ``runs/search`` exchanges the client makes (same body, same paging),
    then the client's own share: ``mlflow.search_runs`` against a stub server on
    127.0.0.1 that answers each page with the saved bytes at once."""
    bodies: list[bytes] = []
    token: str | None = None
    start = time.perf_counter()
    with httpx.Client(timeout=600) as client:
        while True:
            body: dict[str, Any] = {"experiment_ids": [exp_id], "filter": FILTER,
                                    "order_by": ORDER, "max_results": PAGE,
                                    "run_view_type": "ACTIVE_ONLY"}
            if token:
                body["page_token"] = token
            answer = client.post(f"{url}/api/2.0/mlflow/runs/search", json=body)
            answer.raise_for_status()
            bodies.append(answer.content)
            token = answer.json().get("next_page_token")
            if not token:
                break
    http = time.perf_counter() - start
    return {"requests": len(bodies), "bytes": sum(map(len, bodies)), "http_s": http,
            "client_s": _replayed(bodies, exp_id)}


def _replayed(bodies: list[bytes], exp_id: str) -> float:
    """Seconds ``mlflow.search_runs`` takes when every page is served instantly."""
    import mlflow

    tokens = [json.loads(b).get("next_page_token") for b in bodies]
    pages = {token: i + 1 for i, token in enumerate(tokens) if token}

    class Replay(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            raw = bodies[pages.get(asked.get("page_token"), 0)]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Replay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        mlflow.set_tracking_uri(f"http://127.0.0.1:{server.server_address[1]}")
        start = time.perf_counter()
        mlflow.search_runs([exp_id], filter_string=FILTER, order_by=ORDER)
        return time.perf_counter() - start
    finally:
        server.shutdown()
        server.server_close()


def _servers(folder: Path, only: list[str]) -> dict[str, tuple[Any, str]]:
    started: dict[str, tuple[Any, str]] = {}
    try:
        if "runtrack" in only:
            port = _free_port()
            url = f"http://127.0.0.1:{port}"
            started["runtrack"] = (_start(
                [sys.executable, "-m", "runtrack", "server", "--port", str(port),
                 "--backend-store-uri", str(folder / "runtrack")],
                url, "/api/v1/health", folder / "runtrack.log", wait_s=600), url)
        if "mlflow" in only:
            port = _free_port()
            url = f"http://127.0.0.1:{port}"
            started["mlflow"] = (_start(
                [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port",
                 str(port), "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
                 "--artifacts-destination", str(folder / "mlartifacts"), "--workers", "1"],
                url, "/health", folder / "mlflow.log", wait_s=600), url)
    except BaseException:
        for process, _ in started.values():
            _stop(process)
        raise
    return started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000)
    parser.add_argument("--full", action="store_true", help="10,000 runs (the issue's size)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="populate into this folder and keep it")
    parser.add_argument("--reuse", type=Path, help="re-time the stores a --keep run left")
    parser.add_argument("--only", choices=SERVERS, action="append",
                        help="time only this server (with --reuse; repeatable)")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ["MLFLOW_ENABLE_ASYNC_LOGGING"] = "false"
    only = args.only or list(SERVERS)
    if args.reuse:
        folder = args.reuse
        saved = json.loads((folder / "bench.json").read_text())
        runs, exp_ids, setup = saved["runs"], saved["experiments"], saved["setup_s"]
    else:
        if args.only:
            raise SystemExit("--only needs --reuse (both servers are populated together)")
        runs = 10_000 if args.full else args.runs
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=False)
        folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-mlflow-search-"))
        exp_ids, setup = {}, {}
    try:
        started = _servers(folder, only)
        try:
            if not args.reuse:
                for name in SERVERS:
                    exp_ids[name], setup[name] = _fill(started[name][1], runs)
                if args.keep:
                    (folder / "bench.json").write_text(json.dumps(
                        {"runs": runs, "experiments": exp_ids, "setup_s": setup}))
            timed = {name: _search(started[name][1], exp_ids[name], args.repeat)
                     for name in only}
            split = {name: _split(started[name][1], exp_ids[name]) for name in only}
        finally:
            for process, _ in started.values():
                _stop(process)
        if len(timed) == 2 and timed["runtrack"][1] != timed["mlflow"][1]:
            raise SystemExit("the two servers answered different runs or orders")
        found = len(next(iter(timed.values()))[1])
        print(f"{runs:,} runs x {METRICS} metrics; search_runs(filter={FILTER!r}, "
              f"order_by={ORDER}) -> {found:,} runs; median of {args.repeat}")
        if not args.reuse:
            print(f"  logging the runs:  runtrack {setup['runtrack']:8.2f} s   "
                  f"mlflow {setup['mlflow']:8.2f} s")
        medians = {name: statistics.median(times) for name, (times, _) in timed.items()}
        for name, median in medians.items():
            parts = split[name]
            print(f"  search_runs {name:9s} {median:8.3f} s  ({parts['requests']} request(s), "
                  f"{parts['bytes'] / 1e6:.1f} MB, raw HTTP {parts['http_s']:.3f} s; the client "
                  f"alone on replayed pages {parts['client_s']:.3f} s)")
        if len(medians) == 2:
            print(f"  ratio mlflow/runtrack {medians['mlflow'] / medians['runtrack']:6.1f}x")
    finally:
        if not (args.keep or args.reuse):
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
