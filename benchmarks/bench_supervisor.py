"""Output capture overhead: a script printing 1,000,000 lines, alone vs under the supervisor.

    python benchmarks/bench_supervisor.py [--lines N] [--repeat R]

The script times itself (from its first to its last line), so the figure is how much
slower the *script* runs while the supervisor pumps its output into the run's log
file and indexes it for log search; the whole submit → Completed time is printed too,
and the time until the run's log index is complete (its supervisor process exits
then: the run is Completed first, the index catches up after). Runs alternate (alone,
supervised) to share the machine's noise. "Alone" writes to a file with the same
PYTHONUNBUFFERED=1 the supervisor sets, and also block-buffered for reference.
Target: median ratio ≤ 1.2.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runtrack.logsearch import LogQuery

SCRIPT = """
import sys, time
n = int(sys.argv[1])
start = time.perf_counter()
for i in range(n):
    print(i)
open(sys.argv[2], "w").write(repr(time.perf_counter() - start))
"""


def alone(folder: Path, lines: int, unbuffered: bool) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTRACK_")}
    env.pop("PYTHONUNBUFFERED", None)
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    timing = folder / "alone.txt"
    with open(folder / "alone.log", "wb") as out:
        subprocess.run(
            [sys.executable, str(folder / "src" / "printer.py"), str(lines), str(timing)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            check=True,
        )
    return float(timing.read_text())


def _wait_exit(pid: int) -> None:
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)


def supervised(exp: object, folder: Path, lines: int) -> tuple[float, float, float]:
    from runtrack import ScriptRunConfig
    from runtrack.runner.spec import SUPERVISOR_PROPERTY

    timing = folder / "supervised.txt"
    config = ScriptRunConfig(str(folder / "src"), "printer.py", arguments=[lines, str(timing)])
    start = time.perf_counter()
    run = exp.submit(config)  # type: ignore[attr-defined]
    run.wait_for_completion(timeout_seconds=600)
    total = time.perf_counter() - start
    _wait_exit(json.loads(run.get_properties()[SUPERVISOR_PROPERTY])["pid"])
    indexed = time.perf_counter() - start
    size = run.experiment.workspace.artifacts.list(run.id, "user_logs")[0].size
    expected = sum(len(str(i)) + 1 for i in range(lines))
    assert size == expected, f"log holds {size} bytes, expected {expected}"
    store = exp.workspace.store  # type: ignore[attr-defined]
    middle = lines // 2  # (a run's index keeps its first MAX_INDEXED_LOG_LINES_PER_RUN lines)
    found = store.search_logs(LogQuery(str(middle), run_id=run.id))
    assert [h.line_no for h in found] == [middle + 1], "the run's lines are not in the index"
    return float(timing.read_text()), total, indexed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from runtrack import Experiment, Workspace

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "src").mkdir()
        (folder / "src" / "printer.py").write_text(SCRIPT)
        ws = Workspace(str(folder / "ws"))
        exp = Experiment(ws, "bench-supervisor")
        base, buffered, inside, totals, indexed = [], [], [], [], []
        for i in range(args.repeat):
            base.append(alone(folder, args.lines, unbuffered=True))
            buffered.append(alone(folder, args.lines, unbuffered=False))
            script, total, index = supervised(exp, folder, args.lines)
            inside.append(script)
            totals.append(total)
            indexed.append(index)
            print(
                f"round {i + 1}: alone {base[-1]:.2f}s (buffered {buffered[-1]:.2f}s), "
                f"supervised {script:.2f}s (submit→Completed {total:.2f}s, "
                f"index complete {index:.2f}s)", flush=True
            )
        ws.close()
    m_base, m_in = statistics.median(base), statistics.median(inside)
    print(f"\n{args.lines:,} lines, median of {args.repeat}:")
    print(f"  alone, unbuffered       {m_base:.2f} s")
    print(f"  alone, block-buffered   {statistics.median(buffered):.2f} s")
    print(f"  under the supervisor    {m_in:.2f} s   ratio {m_in / m_base:.2f}x (target ≤ 1.20)")
    print(f"  submit → Completed      {statistics.median(totals):.2f} s")
    print(f"  submit → index complete {statistics.median(indexed):.2f} s")


if __name__ == "__main__":
    main()
