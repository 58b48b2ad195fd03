"""CPU cost of the system-metrics sampler at its default interval.

    python benchmarks/bench_sysmetrics.py [--samples 200] [--procs 4] [--interval 10]

Samples a process tree of ``--procs`` sleeping children ``--samples`` times (psutil
figures, plus NVML when nvidia-ml-py and a GPU are present) and stores each sample into
a SQLite store, exactly as the supervisor's sampler thread does, timing the CPU the
sampling thread uses (``time.thread_time``). The cost at the interval is that CPU time
per sample divided by the interval. Target (issue #18): <= 0.5% of one core at 10 s.
Prints one JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runtrack.model import NewRun, RunStatus
from runtrack.runner import sysmetrics
from runtrack.store.sql import SqlStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--procs", type=int, default=4)
    parser.add_argument("--interval", type=float, default=10.0)
    args = parser.parse_args()
    children = [
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        for _ in range(args.procs)
    ]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = SqlStore(f"sqlite:///{Path(tmp) / 'bench.db'}")
            exp = store.get_or_create_experiment("bench")
            store.create_run(NewRun(exp.id, "r", display_name="r", run_type="script",
                             status=RunStatus.RUNNING))
            ranks = {i: c.pid for i, c in enumerate(children)}
            nvml = sysmetrics.load_nvml()
            sampler = sysmetrics.SystemSampler(
                store, "r", sysmetrics.Probe(lambda: ranks, 0, nvml), args.interval
            )
            costs = []
            for _ in range(args.samples):
                start = time.thread_time()
                sampler.sample_once()
                costs.append(time.thread_time() - start)
            series = len(store.list_series("r"))
            store.close()
    finally:
        for child in children:
            child.kill()
            child.wait()
    per_sample = statistics.median(costs)
    percent = per_sample / args.interval * 100
    print(f"{series} series, {args.procs} ranks, GPU: {'yes' if nvml else 'no'}")
    print(f"CPU per sample: median {per_sample * 1000:.2f} ms "
          f"(p90 {sorted(costs)[int(len(costs) * 0.9)] * 1000:.2f} ms)")
    print(f"cost at a {args.interval:g} s interval: {percent:.4f}% of one core (target <= 0.5%)")
    print(json.dumps({"series": series, "ranks": args.procs, "gpu": bool(nvml),
                      "cpu_ms_per_sample": round(per_sample * 1000, 3),
                      "percent_of_core": round(percent, 5)}))


if __name__ == "__main__":
    main()
