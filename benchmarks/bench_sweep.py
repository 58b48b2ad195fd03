"""Sweep overhead: a HyperDrive sweep of a trivial script, runtrack's time per trial.

    python benchmarks/bench_sweep.py [--trials 100] [--concurrent 4]

Each trial logs one metric as its first statement after ``import runtrack``. Two measures
of runtrack's overhead per trial (target: <= 0.2 s, trial start to first metric):

* direct: the time from the trial's run being created (the driver decided to start it)
  to the trial's process being started (its creation time, from the OS), plus the time
  ``Run.get_context()`` takes in the trial minus what it takes in the same script run
  bare (an offline run). What is left between the two, Python's own start-up and
  ``import runtrack``, is the same with or without runtrack's sweep. This measure does not
  depend on how loaded the machine is, beyond what runtrack itself does.
* CPU seconds per trial spent by the sweep's own process (the driver and the trials'
  supervisors) and by each trial script against the bare script's: what runtrack costs
  the machine, whatever the load.
* by difference: the median of "trial created to first metric" minus the median of
  "spawned to first metric" of the same script launched bare (``python train.py``, as
  many at once as the sweep runs trials at once). On a shared machine both medians swing
  by seconds with the load, so this one is noisy; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = """
import os, time


def process_started():
    # the process's start from /proc (to 10 ms): psutil's create_time() adds the boot
    # time, which Linux gives in whole seconds, so it may be off by up to a second
    try:
        with open("/proc/self/stat") as stat:
            ticks = float(stat.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as uptime:
            up = float(uptime.read().split()[0])
        return time.time() - up + ticks / os.sysconf("SC_CLK_TCK")
    except OSError:
        import psutil
        return psutil.Process().create_time()


t0 = float(os.environ.get("BENCH_T0", "0"))
from runtrack import Run
before = time.time()
run = Run.get_context()
run.log("m", 1.0)
context = time.time() - before
run.log("context_seconds", context)
run.log("process_started", process_started())
if t0:
    print(time.time() - t0, context)
"""


def cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def bare(folder: Path, repeat: int, concurrent: int) -> tuple[list[float], list[float], float]:
    """Seconds from spawning the script bare to its first log() returning, and its
    get_context() seconds, with ``concurrent`` scripts running at once as the sweep runs
    its trials; and the wall time per script."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNTRACK_", "AZUREML_"))}
    to_metric: list[float] = []
    context: list[float] = []
    running: list[subprocess.Popen[str]] = []
    started = time.perf_counter()
    launched = 0
    while launched < repeat or running:
        while launched < repeat and len(running) < concurrent:
            env["BENCH_T0"] = repr(time.time())
            running.append(subprocess.Popen([sys.executable, str(folder / "train.py")], env=env,
                                            cwd=folder, stdout=subprocess.PIPE, text=True))
            launched += 1
        proc = running.pop(0)
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"the bare script failed (exit code {proc.returncode})")
        first, ctx = (float(x) for x in out.strip().splitlines()[-1].split())
        to_metric.append(first)
        context.append(ctx)
    return to_metric, context, (time.perf_counter() - started) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--concurrent", type=int, default=4)
    parser.add_argument("--bare-repeat", type=int, default=20)
    args = parser.parse_args()

    from runtrack import Experiment, ScriptRunConfig, Workspace
    from runtrack.sdk.hyperdrive import GridParameterSampling, HyperDriveConfig, choice

    med = statistics.median
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "src"
        folder.mkdir()
        (folder / "train.py").write_text(SCRIPT)
        load_before = os.getloadavg()[0]
        children_before = cpu(resource.RUSAGE_CHILDREN)
        bare_first, bare_context, bare_wall = bare(folder, args.bare_repeat, args.concurrent)
        bare_cpu = (cpu(resource.RUSAGE_CHILDREN) - children_before) / args.bare_repeat
        ws = Workspace(str(Path(tmp) / "ws"))
        config = HyperDriveConfig(
            run_config=ScriptRunConfig(str(folder), "train.py"),
            hyperparameter_sampling=GridParameterSampling({"k": choice(range(args.trials))}),
            primary_metric_name="m", max_concurrent_runs=args.concurrent,
        )
        load_sweep = os.getloadavg()[0]
        started = time.perf_counter()
        own_before, children_before = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
        sweep = Experiment(ws, "bench-sweep").submit(config)
        sweep.wait_for_completion(raise_on_error=False)
        wall = time.perf_counter() - started
        own_cpu = cpu(resource.RUSAGE_SELF) - own_before
        trial_cpu = cpu(resource.RUSAGE_CHILDREN) - children_before
        load_after = os.getloadavg()[0]
        to_metric, launch, context = [], [], []
        for child in sweep.get_children():
            created = ws.store.get_run(child.id).created_time
            metrics = child.get_metrics()
            to_metric.append(ws.store.read_series(child.id, "m").times[0] - created)
            launch.append(float(metrics["process_started"]) - created)
            context.append(float(metrics["context_seconds"]))
        ws.close()
    n = len(to_metric)
    direct = med(launch) + med(context) - med(bare_context)
    print(f"load average (1 min): {load_before:.2f} before the bare runs, {load_sweep:.2f} "
          f"before the sweep, {load_after:.2f} after it, on {os.cpu_count()} CPUs")
    print(f"trials: {n} (concurrency {args.concurrent}), sweep wall {wall:.1f} s, "
          f"{wall / n:.3f} s per trial (bare scripts at the same concurrency: "
          f"{bare_wall:.3f} s per script)")
    print(f"trial run created -> trial process started: median {med(launch):.3f} s, "
          f"p90 {statistics.quantiles(launch, n=10)[-1]:.3f} s")
    print(f"Run.get_context(): median {med(context):.3f} s in a trial, "
          f"{med(bare_context):.3f} s bare")
    print(f"runtrack overhead per trial, direct: {direct:.3f} s (target <= 0.2 s)")
    print(f"CPU seconds per trial: {own_cpu / n:.3f} in the sweep's process (driver and "
          f"supervisors), {trial_cpu / n:.3f} in the trial script (bare: {bare_cpu:.3f})")
    print(f"trial created -> first metric: median {med(to_metric):.3f} s; bare spawned -> first "
          f"metric ({args.bare_repeat} runs, {args.concurrent} at once): {med(bare_first):.3f} s; "
          f"by difference: {med(to_metric) - med(bare_first):.3f} s")


if __name__ == "__main__":
    main()
