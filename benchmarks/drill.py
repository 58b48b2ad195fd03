"""Durability drills, one command, figures printed (see docs/reliability.md).

    python benchmarks/drill.py                 # 20 kill -9 rounds, 16 writers x 20,000 points
    python benchmarks/drill.py --rounds 5 --writers 4 --points 5000
    python benchmarks/drill.py --only race    # one drill (kill or race)

* kill -9: a child logs two metrics at full speed and prints how far it got; it is
  killed at a random moment; recovery (alternately `runtrack sync` and opening the
  workspace) must store a gap-free prefix holding every acknowledged point, and
  mark the run Failed (ProcessDied).
* writers + recovery race: N processes each log P points into their own run while
  another process reopens the workspace (which runs recovery) in a loop; every run
  must end Completed with exactly its P points.

Bounded by design: every child and wait has a time limit. Prints one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

WAIT = 120.0

KILL_CHILD = textwrap.dedent(
    """
    import sys
    from runtrack import Experiment, Workspace
    from runtrack.spool.writer import SpoolWriter
    SpoolWriter.__init__.__kwdefaults__["segment_size"] = 256 * 1024
    ws = Workspace(sys.argv[1])
    run = Experiment(ws, "drill").start_logging()
    print(run.id, flush=True)
    i = 0
    while True:
        run.log("x", float(i), step=i)
        run.log("n", i)
        if i % 500 == 0:
            print(i, flush=True)
        i += 1
    """
)

WRITER = textwrap.dedent(
    """
    import sys
    from runtrack import Experiment, Workspace
    from runtrack.spool.writer import SpoolWriter
    SpoolWriter.__init__.__kwdefaults__["segment_size"] = 64 * 1024
    ws = Workspace(sys.argv[1])
    run = Experiment(ws, "writers").start_logging()
    print(run.id, flush=True)
    for i in range(int(sys.argv[2])):
        run.log("x", float(i), step=i)
    run.complete()
    """
)

REOPEN = textwrap.dedent(
    """
    import sys
    from runtrack import Workspace
    while True:  # until the drill ends it
        Workspace(sys.argv[1]).close()
        print("reopened", flush=True)
    """
)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("RUNTRACK_")}


def kill_drill(folder: Path, rounds: int, seed: int) -> dict[str, int]:
    from runtrack import Workspace

    rng = random.Random(seed)
    acknowledged_total = lost = doubled = not_failed = 0
    for round_no in range(rounds):
        proc = subprocess.Popen([sys.executable, "-c", KILL_CHILD, str(folder)],
                                stdout=subprocess.PIPE, text=True, env=_env(), cwd=folder.parent)
        assert proc.stdout is not None
        run_id = proc.stdout.readline().strip()
        acknowledged = -1
        deadline = time.monotonic() + WAIT
        for count, line in enumerate(proc.stdout, 1):
            acknowledged = int(line)
            if count >= rng.randint(1, 60) or time.monotonic() > deadline:
                break
        time.sleep(rng.uniform(0, 0.02))
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate(timeout=WAIT)
        acknowledged = max([acknowledged, *(int(x) for x in rest.split())]) + 1
        if round_no % 2:
            subprocess.run([sys.executable, "-m", "runtrack", "sync", "--uri", str(folder)],
                           capture_output=True, timeout=WAIT, env=_env(), check=True)
        ws = Workspace(str(folder))
        try:
            for name in ("x", "n"):
                values = ws.store.read_series(run_id, name).values
                want = [float(i) if name == "x" else i for i in range(len(values))]
                doubled += sum(1 for a, b in zip(values, want, strict=True) if a != b)
                lost += max(0, acknowledged - len(values))
            acknowledged_total += 2 * acknowledged
            not_failed += ws.store.get_run(run_id).status.value != "Failed"
        finally:
            ws.close()
    return {"rounds": rounds, "acknowledged_points": acknowledged_total, "lost": lost,
            "out_of_order_or_doubled": doubled, "runs_not_marked_failed": not_failed}


def writers_drill(folder: Path, writers: int, points: int) -> dict[str, int]:
    from runtrack import Workspace

    Workspace(str(folder)).close()
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(folder), str(points)],
                              stdout=subprocess.PIPE, text=True, env=_env(), cwd=folder.parent)
             for _ in range(writers)]
    reopen = subprocess.Popen([sys.executable, "-c", REOPEN, str(folder)],
                              stdout=subprocess.PIPE, text=True, env=_env(), cwd=folder.parent)
    ids = []
    crashed = 0  # writers that failed before creating their run
    for proc in procs:
        out, _ = proc.communicate(timeout=WAIT * 4)
        if out.split():
            ids.append(out.split()[0])
        else:
            crashed += 1
    reopen.terminate()
    reopens = reopen.communicate(timeout=WAIT)[0].count("reopened")
    ws = Workspace(str(folder))
    wrong_status = lost = doubled = 0
    try:
        for run_id in ids:
            values = ws.store.read_series(run_id, "x").values
            lost += max(0, points - len(values))
            doubled += max(0, len(values) - points)
            doubled += sum(1 for i, v in enumerate(values) if v != float(i))
            wrong_status += ws.store.get_run(run_id).status.value != "Completed"
    finally:
        ws.close()
    return {"writers": writers, "points": writers * points, "workspace_reopens": reopens,
            "writers_crashed_before_logging": crashed, "lost": lost, "doubled": doubled,
            "runs_not_completed": wrong_status}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--only", choices=["kill", "race"], default=None)
    args = parser.parse_args()
    kill: dict[str, int] = {}
    race: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "race":
            kill = kill_drill(Path(tmp) / "kill", args.rounds, args.seed)
            print(f"kill -9: {kill}", flush=True)
        if args.only != "kill":
            race = writers_drill(Path(tmp) / "race", args.writers, args.points)
            print(f"writers + recovery race: {race}", flush=True)
    print(json.dumps({"kill_9": kill, "writers_race": race}))


if __name__ == "__main__":
    main()
