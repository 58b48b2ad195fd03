"""Listing many runs: runtrack's bulk calls vs ``mlflow.search_runs``, one process each.

Both tools get the same experiment in a local SQLite store: ``--runs`` runs (default
1,000), each with 5 tags and 5 metrics x 100 steps, completed. Then, timed (median of
``--repeat``, default 5, after one untimed warm-up call that pays imports):

* runtrack ``exp.search_runs()``: one row per run with last/min/max of every metric,
  properties and tags (a pandas DataFrame);
* runtrack's v1 loop ``for r in exp.get_runs(): r.get_metrics()`` (every point);
* MLflow ``mlflow.search_runs([exp_id])`` (a DataFrame with the latest metric values,
  params and tags) against a ``sqlite:///`` tracking URI.

Each side runs in a fresh subprocess; wall and CPU medians are printed (CPU: the
calling process's, which a loaded machine's wall time overstates), and ratios MLflow /
runtrack (above 1 = runtrack faster). Needs ``pip install 'runtrack[bench]'`` for the MLflow side.

    python benchmarks/bench_listing.py [--runs 1000] [--repeat 5] [--no-mlflow]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

METRICS, STEPS, TAGS = 5, 100, 5


def _timed(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median wall and median CPU time (this process) of ``call``: on a loaded machine
    the CPU time is what a quiet machine's wall time approaches."""
    call()  # warm-up: imports, caches
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def runtrack_side(runs: int, repeat: int, folder: Path) -> dict[str, Any]:
    from runtrack import Experiment, Workspace

    ws = Workspace(str(folder))
    exp = Experiment(ws, "listing")
    start = time.perf_counter()
    for i in range(runs):
        run = exp.start_logging(snapshot_directory=None)
        run.set_tags({f"tag{k}": f"value-{i % (k + 2)}" for k in range(TAGS)})
        for step in range(STEPS):
            for k in range(METRICS):
                run.log(f"m{k}", ((i * 7919 + k * 104729 + step) % 1000) / 1000, step=step)
        run.complete()
    setup = time.perf_counter() - start

    def loop() -> None:
        total = 0
        for r in exp.get_runs():
            total += len(r.get_metrics())
        assert total == runs * METRICS, total

    def table() -> None:
        frame = exp.search_runs()
        assert len(frame) == runs and f"metrics_max.m{METRICS - 1}" in frame.columns

    table_s, table_cpu_s = _timed(table, repeat)
    loop_s, loop_cpu_s = _timed(loop, repeat)
    result = {"setup_s": setup, "table_s": table_s, "table_cpu_s": table_cpu_s,
              "loop_s": loop_s, "loop_cpu_s": loop_cpu_s}
    ws.close()
    return result


def mlflow_side(runs: int, repeat: int, folder: Path) -> dict[str, Any]:
    from mlflow.entities import Metric, RunTag

    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{folder / 'mlflow.db'}")
    client = mlflow.MlflowClient()
    exp_id = client.create_experiment("listing", artifact_location=str(folder / "artifacts"))
    start = time.perf_counter()
    for i in range(runs):
        run_id = client.create_run(exp_id).info.run_id
        now = int(time.time() * 1000)
        metrics = [Metric(f"m{k}", ((i * 7919 + k * 104729 + step) % 1000) / 1000, now, step)
                   for step in range(STEPS) for k in range(METRICS)]
        tags = [RunTag(f"tag{k}", f"value-{i % (k + 2)}") for k in range(TAGS)]
        client.log_batch(run_id, metrics=metrics, tags=tags)
        client.set_terminated(run_id)
    setup = time.perf_counter() - start

    def search() -> None:
        frame = mlflow.search_runs([exp_id], max_results=runs)
        assert len(frame) == runs, len(frame)

    search_s, search_cpu_s = _timed(search, repeat)
    return {"setup_s": setup, "search_s": search_s, "search_cpu_s": search_cpu_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--side", choices=["runtrack", "mlflow"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        folder = Path(tempfile.mkdtemp(prefix=f"bench-listing-{args.side}-"))
        try:
            measure = runtrack_side if args.side == "runtrack" else mlflow_side
            print(json.dumps(measure(args.runs, args.repeat, folder)))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    results: dict[str, dict[str, Any]] = {}
    for side in ["runtrack"] if args.no_mlflow else ["runtrack", "mlflow"]:
        proc = subprocess.run(
            [sys.executable, __file__, "--side", side, "--runs", str(args.runs),
             "--repeat", str(args.repeat)], capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0:
            raise SystemExit(f"the {side} side failed:\n{proc.stderr[-2000:]}")
        results[side] = json.loads(proc.stdout.strip().splitlines()[-1])
    ours = results["runtrack"]
    print(f"{args.runs:,} runs x {TAGS} tags x {METRICS} metrics x {STEPS} steps; "
          f"median of {args.repeat}")
    print(f"  logging the runs:           runtrack {ours['setup_s']:8.2f} s", end="")
    theirs = results.get("mlflow")
    print(f"   mlflow {theirs['setup_s']:8.2f} s" if theirs else "")
    print(f"  exp.search_runs():          runtrack {_ms(ours, 'table')}")
    print(f"  get_runs() + get_metrics(): runtrack {_ms(ours, 'loop')}")
    if theirs:
        print(f"  mlflow.search_runs():       mlflow   {_ms(theirs, 'search')}")
        for clock in ("s", "cpu_s"):
            search = theirs[f"search_{clock}"]
            print(f"  ratio ({'wall' if clock == 's' else 'CPU'}) mlflow.search_runs / "
                  f"exp.search_runs: {search / ours[f'table_{clock}']:6.1f}x; "
                  f"/ v1 loop: {search / ours[f'loop_{clock}']:6.1f}x")


def _ms(side: dict[str, Any], name: str) -> str:
    return (f"{side[f'{name}_s'] * 1000:8.1f} ms wall, "
            f"{side[f'{name}_cpu_s'] * 1000:8.1f} ms CPU")


if __name__ == "__main__":
    main()
