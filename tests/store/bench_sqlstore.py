"""Timings of SqlStore's hot paths (not collected by pytest; timed asserts don't belong
in the suite). Run: ``PYTHONPATH=src python tests/store/bench_sqlstore.py``."""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path

from runtrack.model import MetricBatch, NewRun, RunStatus
from runtrack.store.sql import SqlStore


def _best(fn: object, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    store = SqlStore(f"sqlite:///{folder / 'bench.db'}")
    exp = store.get_or_create_experiment("bench")
    store.create_run(NewRun(exp.id, "big", display_name="big", run_type="script",
                     status=RunStatus.RUNNING))
    n = 1_000_000
    for start in range(0, n, 100_000):
        records = [("m", "scalar", i, 1e9 + i, math.sin(i / 1000)) for i in
                   range(start, start + 100_000)]
        store.ingest("big", MetricBatch("s", start, records))
    read = _best(lambda: store.read_series("big", "m"))
    down = _best(lambda: store.downsample("big", "m", 2000))
    down_step = _best(lambda: store.downsample("big", "m", 2000, x="step"))
    down_coarse = _best(lambda: store.downsample("big", "m", 50))
    seq = [0]

    def ingest_100k() -> None:
        run_id = f"r{seq[0]}"
        seq[0] += 1
        store.create_run(NewRun(exp.id, run_id, display_name="x", run_type="script",
                         status=RunStatus.RUNNING))
        records = [(f"m{k}", "scalar", i, 1e9 + i, i * 0.5) for k in range(10)
                   for i in range(10_000)]
        start = time.perf_counter()
        store.ingest(run_id, MetricBatch("s", 0, records))
        timings.append(time.perf_counter() - start)

    timings: list[float] = []
    for _ in range(5):
        ingest_100k()
    numpy = "numpy" in sys.modules
    print(f"read_series 1M float points:      {read * 1000:7.1f} ms")
    print(f"downsample 1M -> 2000 (index):    {down * 1000:7.1f} ms  (numpy={numpy})")
    print(f"downsample 1M -> 2000 (step):     {down_step * 1000:7.1f} ms")
    print(f"downsample 1M -> 50 (index):      {down_coarse * 1000:7.1f} ms")
    print(f"ingest 100k points (10 x 10k):    {min(timings) * 1000:7.1f} ms")
    store.close()


if __name__ == "__main__":
    main()
