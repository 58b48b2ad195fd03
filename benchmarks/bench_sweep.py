"""Sweep overhead: a HyperDrive sweep of a trivial script, runtrack's time per trial.

    python benchmarks/bench_sweep.py [--trials 100] [--concurrent 4]

Each trial logs one metric as its first statement after ``import runtrack``. Per trial,
"start to first metric" is the time from the trial's run being created (the driver
decided to start it) to that metric's timestamp. The same script launched bare
(``python script.py``, an offline run, no supervisor) gives the part that is Python's own
start-up and imports; the difference of the medians is runtrack's overhead per trial
(snapshot, run creation, supervisor, process launch, driver polling).
Target: ≤ 0.2 s per trial.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = """
import time
t0 = float(__import__("os").environ.get("BENCH_T0", "0"))
from runtrack import Run
run = Run.get_context()
run.log("m", 1.0)
if t0:
    print(time.time() - t0)
"""


def bare(folder: Path, repeat: int) -> float:
    """Median seconds from spawning the script bare to its first log() returning."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNTRACK_", "AZUREML_"))}
    times = []
    for _ in range(repeat):
        env["BENCH_T0"] = repr(time.time())
        done = subprocess.run([sys.executable, str(folder / "train.py")], env=env, cwd=folder,
                              capture_output=True, text=True, check=True)
        times.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--concurrent", type=int, default=4)
    parser.add_argument("--bare-repeat", type=int, default=10)
    args = parser.parse_args()

    from runtrack import Experiment, ScriptRunConfig, Workspace
    from runtrack.sdk.hyperdrive import GridParameterSampling, HyperDriveConfig, choice

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "src"
        folder.mkdir()
        (folder / "train.py").write_text(SCRIPT)
        baseline = bare(folder, args.bare_repeat)
        ws = Workspace(str(Path(tmp) / "ws"))
        config = HyperDriveConfig(
            run_config=ScriptRunConfig(str(folder), "train.py"),
            hyperparameter_sampling=GridParameterSampling({"k": choice(range(args.trials))}),
            primary_metric_name="m", max_concurrent_runs=args.concurrent,
        )
        started = time.perf_counter()
        sweep = Experiment(ws, "bench-sweep").submit(config)
        sweep.wait_for_completion(raise_on_error=False)
        wall = time.perf_counter() - started
        to_metric = []
        for child in sweep.get_children():
            info = ws.store.get_run(child.id)
            first = ws.store.read_series(child.id, "m").times[0]
            to_metric.append(first - info.created_time)
        ws.close()
    median = statistics.median(to_metric)
    print(f"trials: {len(to_metric)} (concurrency {args.concurrent}), sweep wall {wall:.1f} s, "
          f"{wall / len(to_metric):.3f} s per trial")
    print(f"bare script, spawn to first metric (median of {args.bare_repeat}): {baseline:.3f} s")
    print(f"trial created to first metric: median {median:.3f} s, "
          f"p90 {statistics.quantiles(to_metric, n=10)[-1]:.3f} s")
    print(f"runtrack overhead per trial (median difference): {median - baseline:.3f} s "
          f"(target <= 0.2 s); ratio to bare {median / baseline:.2f}")


if __name__ == "__main__":
    main()
