"""MLflow's side of ``benchmarks/run.py`` (SQLite backend); prints one JSON line.

Point counts are smaller than runtrack's, so the whole benchmark stays within minutes;
everything is reported per second. Run alone:
``python benchmarks/mlflow_workloads.py [--reps N]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import statistics
import tempfile
import time
import warnings

BATCH_STEPS = 1_000  # x 10 metrics = 10,000 points per log_batch repetition
ASYNC_STEPS = 100  # x 10 metrics = 1,000 points per async repetition
READ_POINTS = 10_000
LIFECYCLE_RUNS = 50  # per repetition: create, 5 tags, 5 metrics x 100 steps, terminate
NAMES = [f"metric_{k}" for k in range(10)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    from mlflow.entities import Metric

    import mlflow
    from mlflow import MlflowClient

    folder = tempfile.mkdtemp(prefix="mlflow-bench-")
    uri = f"sqlite:///{os.path.join(folder, 'mlflow.db')}"
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    exp_id = client.create_experiment("bench", artifact_location=os.path.join(folder, "art"))

    batch_rates: list[float] = []
    for _ in range(args.reps):
        run_id = client.create_run(exp_id).info.run_id
        now = int(time.time() * 1000)
        metrics = [Metric(n, i * 0.5, now, i) for i in range(BATCH_STEPS) for n in NAMES]
        start = time.perf_counter()
        for k in range(0, len(metrics), 1000):
            client.log_batch(run_id, metrics=metrics[k : k + 1000])
        client.set_terminated(run_id)
        batch_rates.append(len(metrics) / (time.perf_counter() - start))

    async_rates: list[float] = []
    async_call_rates: list[float] = []
    mlflow.set_experiment(experiment_id=exp_id)
    for _ in range(args.reps):
        with mlflow.start_run():
            start = time.perf_counter()
            for i in range(ASYNC_STEPS):
                mlflow.log_metrics({n: i * 0.5 for n in NAMES}, step=i, synchronous=False)
            calls = time.perf_counter() - start
        mlflow.flush_async_logging()
        points = ASYNC_STEPS * len(NAMES)
        async_rates.append(points / (time.perf_counter() - start))
        async_call_rates.append(ASYNC_STEPS / calls)

    lifecycle_times: list[float] = []
    for _ in range(args.reps):
        start = time.perf_counter()
        for _ in range(LIFECYCLE_RUNS):
            run_id = client.create_run(exp_id).info.run_id
            for t in range(5):
                client.set_tag(run_id, f"tag_{t}", "value")
            now = int(time.time() * 1000)
            points = [Metric(n, i * 0.5, now, i) for i in range(100) for n in NAMES[:5]]
            client.log_batch(run_id, metrics=points)  # MLflow's fastest way in: one call
            client.set_terminated(run_id)
        lifecycle_times.append((time.perf_counter() - start) / LIFECYCLE_RUNS)

    run_id = client.create_run(exp_id).info.run_id
    now = int(time.time() * 1000)
    series = [Metric("loss", math.sin(i / 1000.0), now, i) for i in range(READ_POINTS)]
    for k in range(0, READ_POINTS, 1000):
        client.log_batch(run_id, metrics=series[k : k + 1000])
    read_times = []
    for _ in range(args.reps):
        start = time.perf_counter()
        history = client.get_metric_history(run_id, "loss")
        read_times.append(time.perf_counter() - start)
        assert len(history) == READ_POINTS

    print(
        json.dumps(
            {
                "workload": "mlflow",
                "version": mlflow.__version__,
                "log_batch_points_per_s": statistics.median(batch_rates),
                "async_points_per_s": statistics.median(async_rates),
                "async_calls_per_s": statistics.median(async_call_rates),
                "async_points_logged_per_s": statistics.median(async_call_rates) * len(NAMES),
                "read_points_per_s": READ_POINTS / statistics.median(read_times),
                "lifecycle_s_per_run": statistics.median(lifecycle_times),
                "reps": args.reps,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
