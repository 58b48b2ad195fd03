"""Log search: index R runs x L lines, then time searches (median of repeats).

    python benchmarks/bench_logsearch.py                 # 200 runs x 2,000 lines (400k lines)
    python benchmarks/bench_logsearch.py --runs 1000 --lines 1000
    python benchmarks/bench_logsearch.py --full          # the issue's 10,000 x 10,000 (100M
                                                         # lines: hours and ~15 GB of disk)
    python benchmarks/bench_logsearch.py --postgres postgresql://user@host/db

Lines look like training output (epochs, losses, warnings, paths); one run in 50
prints a CUDA out-of-memory traceback. Indexing goes through the store's
``index_log_lines`` in 10,000-line batches, as the runner sends them. Searches: a rare
phrase, a phrase in every run, a common word with a status filter, and a word that is
nowhere. Target (issue #18): a search answers in <= 200 ms at 10,000 x 10,000.
Prints one JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from runtrack.logsearch import LogQuery
from runtrack.model import NewRun, RunStatus
from runtrack.store.sql import SqlStore

_TEXT = (
    "loss accuracy batch epoch step learning rate warmup gradient norm checkpoint saved "
    "validation train eval tokens throughput samples per second memory allocated "
    "dataloader worker shard node rank optimizer scheduler"
)
WORDS = tuple(_TEXT.split())
OOM = [
    "Traceback (most recent call last):",
    '  File "/workspace/train.py", line 212, in <module>',
    "    loss.backward()",
    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB "
    "(GPU 0; 79.15 GiB total capacity)",
]


def _line(rng: random.Random, run: int, i: int) -> str:
    kind = i % 97
    if kind == 0:
        return f"WARNING: gradient norm {rng.random() * 100:.2f} clipped at step {i}"
    if kind == 1:
        return f"saved checkpoint to /checkpoints/run{run}/step_{i}.pt"
    words = " ".join(rng.choice(WORDS) for _ in range(6))
    return f"epoch {i // 500} step {i} loss {rng.random():.4f} {words}"


def build(store: SqlStore, runs: int, lines: int, batch: int = 10_000) -> float:
    rng = random.Random(7)
    exp = store.get_or_create_experiment("bench-logs")
    started = time.perf_counter()
    for r in range(runs):
        run_id = f"bench-{r}"
        failed = r % 50 == 0
        store.create_run(NewRun(exp.id, run_id, display_name=run_id, run_type="script",
                         status=RunStatus.RUNNING))
        body = [_line(rng, r, i) for i in range(lines)]
        if failed:
            body[-len(OOM):] = OOM
        for first in range(0, lines, batch):
            store.index_log_lines(run_id, "user_logs/std_log.txt", first + 1,
                                  body[first : first + batch])
        store.set_status(run_id, RunStatus.FAILED if failed else RunStatus.COMPLETED)
    return time.perf_counter() - started


def timed(store: SqlStore, query: LogQuery, repeat: int) -> tuple[float, int]:
    times, found = [], 0
    for _ in range(repeat):
        t = time.perf_counter()
        found = len(store.search_logs(query))
        times.append(time.perf_counter() - t)
    return statistics.median(times), found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--lines", type=int, default=2_000)
    parser.add_argument("--full", action="store_true", help="10,000 runs x 10,000 lines")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL instead of SQLite")
    args = parser.parse_args()
    runs, lines = (10_000, 10_000) if args.full else (args.runs, args.lines)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{Path(tmp) / 'bench.db'}"
        store = SqlStore(url)
        seconds = build(store, runs, lines)
        total = runs * lines
        print(f"indexed {total:,} lines of {runs:,} runs in {seconds:.1f} s "
              f"({total / seconds:,.0f} lines/s)")
        queries = {
            "rare phrase": LogQuery("CUDA out of memory"),
            "phrase in every run": LogQuery("saved checkpoint to"),
            "common word, Failed only": LogQuery("loss", status=[RunStatus.FAILED]),
            "absent word": LogQuery("zebra"),
            "rare phrase, one run": LogQuery("CUDA out of memory", run_id="bench-0"),
        }
        result: dict[str, object] = {"runs": runs, "lines": lines,
                                     "backend": "postgresql" if args.postgres else "sqlite",
                                     "index_lines_per_s": round(total / seconds)}
        for label, query in queries.items():
            median, found = timed(store, query, args.repeat)
            print(f"{label:<28} {median * 1000:8.1f} ms  ({found} hits)")
            result[label] = round(median * 1000, 2)
        store.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
