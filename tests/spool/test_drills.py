"""Durability drills with real processes and a real SQLite file (no timed assertions).

* kill -9 at random moments while a child logs at full speed; after recovery the
  stored series are gap-free prefixes holding every acknowledged value;
* the store locked by another process, and read-only: logging goes on, nothing is
  lost, and nothing is doubled once the store is back;
* ``runtrack sync`` ships leftover spools exactly once and says what it shipped.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runtrack import Experiment, Workspace

ACK_EVERY = 500
WAIT = 60.0  # bound on every wait for a child

CHILD = textwrap.dedent(
    """
    import sys
    from runtrack import Experiment, Workspace
    from runtrack.spool.writer import SpoolWriter
    # small segments, so kills land around segment rolls too
    SpoolWriter.__init__.__kwdefaults__["segment_size"] = 256 * 1024
    ws = Workspace(sys.argv[1])
    run = Experiment(ws, "drill").start_logging()
    print(run.id, flush=True)
    log = run.log
    i = 0
    while True:
        log("x", float(i), step=i)
        log("n", i)
        if i % {every} == 0:
            print(i, flush=True)  # every value up to i has been acknowledged
        i += 1
    """
).format(every=ACK_EVERY)


def _child(args: list[str], **kwargs: Any) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTRACK_")}
    return subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, text=True, env=env, **kwargs
    )


def _lines(proc: subprocess.Popen[str]) -> Iterator[str]:
    assert proc.stdout is not None
    deadline = time.monotonic() + WAIT
    for line in proc.stdout:
        yield line.strip()
        if time.monotonic() > deadline:
            raise AssertionError("the child ran past the drill's time bound")


def _runtrack(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtrack", *args],
        capture_output=True, text=True, timeout=WAIT, check=True,
    )


def _check_prefix(ws: Workspace, run_id: str, acknowledged: int) -> int:
    """The stored series of ``run_id`` are exactly 0..k-1 with k > acknowledged."""
    xs = ws.store.read_series(run_id, "x")
    ns = ws.store.read_series(run_id, "n")
    k = len(xs.values)
    assert k > acknowledged, f"lost acknowledged points: stored {k}, acknowledged {acknowledged}"
    assert xs.values == [float(i) for i in range(k)], "x is not a gap-free prefix"
    assert xs.steps == list(range(k))
    # "n" is logged right after "x": it holds k or k - 1 points, also a prefix.
    assert ns.values == list(range(len(ns.values))) and len(ns.values) in (k - 1, k)
    assert len(ns.values) > acknowledged
    assert all(type(v) is int for v in ns.values[:5])
    return k


def test_kill_9_at_random_moments_loses_nothing_acknowledged(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    rng = random.Random(1234)
    kills = 10
    for round_no in range(kills):
        proc = _child([str(script), str(folder)])
        lines = _lines(proc)
        try:
            run_id = next(lines)
            wanted = rng.randint(1, 60)  # up to 60k records: ~10 segments
            acknowledged = -1
            for count, line in enumerate(lines, 1):
                acknowledged = int(line)
                if count >= wanted:
                    break
            time.sleep(rng.uniform(0, 0.02))
        finally:
            proc.send_signal(signal.SIGKILL)
            rest, _ = proc.communicate(timeout=WAIT)
        acknowledged = max([acknowledged, *(int(x) for x in rest.split())])
        if round_no % 2:
            out = _runtrack("sync", "--uri", str(folder))
            assert f"run {run_id}: shipped" in out.stdout
            ws = Workspace(str(folder))
        else:
            ws = Workspace(str(folder))  # opening the workspace recovers leftovers
        try:
            _check_prefix(ws, run_id, acknowledged)
            assert ws.store.get_run(run_id).status.value == "Failed"
            assert not (folder / "spool" / run_id).exists()
        finally:
            ws.close()
    again = _runtrack("sync", "--uri", str(folder))
    assert "nothing to sync" in again.stdout


LOCK_HOLDER = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    sys.stdin.readline()
    conn.execute("COMMIT")
    """
)


def test_logging_goes_on_while_another_process_locks_the_database(exp: Experiment) -> None:
    ws = exp.workspace
    run = exp.start_logging()
    run.log("x", -1.0)
    run.flush()
    db = ws.settings.tracking_uri[len("sqlite:///") :]
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, db],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        done = threading.Event()

        def train() -> None:
            for i in range(200_000):
                run.log("x", float(i), step=i)
            done.set()

        worker = threading.Thread(target=train)
        worker.start()
        worker.join(WAIT)
        # Every log() returned while the lock was still held: none waited on the store.
        assert done.is_set() and holder.poll() is None
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=WAIT)
    run.complete()
    data = ws.store.read_series(run.id, "x")
    assert data.values == [-1.0, *(float(i) for i in range(200_000))]


READ_ONLY_CHILD = textwrap.dedent(
    """
    import dataclasses, json, os, sys
    from runtrack import Experiment, Run, Workspace, config
    from runtrack.errors import StoreUnavailableError
    folder, run_id = sys.argv[1], sys.argv[2]
    settings = config.resolve(folder)
    db = settings.tracking_uri[len("sqlite:///"):]
    ro = dataclasses.replace(settings, tracking_uri=f"sqlite:///file:{db}?mode=ro&uri=true")
    ws = Workspace(_settings=ro)
    info = ws.store.get_run(run_id)
    experiment = ws.store.get_experiment(info.experiment_id)
    run = Run(Experiment(ws, experiment.name, _info=experiment), run_id, _info=info)
    for i in range(50_000):
        run.log("x", float(i), step=i)
    try:
        run.flush(timeout_seconds=0.5)
        outcome = "stored"
    except StoreUnavailableError as exc:
        outcome = "unavailable: " + str(exc)
    print(json.dumps({"outcome": outcome}), flush=True)
    os._exit(0)  # leave the spool behind, as a process that ends offline would
    """
)


def test_read_only_store_keeps_everything_for_sync_exactly_once(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    with Workspace(str(folder)) as ws:
        run = Experiment(ws, "offline").start_logging()
        run.log("x", -1.0)
        run._close_spool()  # this process is done with the run; a child logs next
        run_id = run.id
    proc = _child(["-c", READ_ONLY_CHILD, str(folder), run_id])
    out, _ = proc.communicate(timeout=WAIT)
    assert proc.returncode == 0
    outcome = json.loads(out.strip().splitlines()[-1])["outcome"]
    assert outcome.startswith("unavailable:") and "runtrack sync" in outcome
    spool = folder / "spool" / run_id
    assert list(spool.glob("*.seg"))
    first = _runtrack("sync", "--uri", str(folder), "--json")
    report = json.loads(first.stdout)
    shipped = [r for r in report if r["run_id"] == run_id]
    assert sum(r["points"] for r in shipped) == 50_000
    assert not spool.exists()
    second = _runtrack("sync", "--uri", str(folder))
    assert "nothing to sync" in second.stdout
    with Workspace(str(folder)) as ws:
        data = ws.store.read_series(run_id, "x")
        assert data.values == [-1.0, *(float(i) for i in range(50_000))]
        assert data.steps == [None, *range(50_000)]


WRITE_AND_DIE = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from runtrack.spool.writer import SpoolWriter
    writer = SpoolWriter(Path(sys.argv[1]), "crashed")
    nid = writer.intern("x", "scalar")
    for i in range(300_000):  # 12 MB of records: above the progress bar's threshold
        writer.write_float(nid, i, 1.0, float(i))
    os._exit(0)  # a crash: no END record
    """
)


def test_sync_ships_a_large_crashed_spool_with_progress(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from runtrack.cli import main

    folder = tmp_path / "ws"
    with Workspace(str(folder)) as ws:
        run = Experiment(ws, "big").start_logging()
        run_id = run.id
        run._close_spool()
        assert run._ending.ownership is not None
        run._ending.ownership.release(settled=False)  # the run's owner is the process that dies
    proc = _child(["-c", WRITE_AND_DIE, str(folder / "spool" / run_id)])
    proc.communicate(timeout=WAIT)
    assert proc.returncode == 0
    result = CliRunner().invoke(main, ["sync", "--uri", str(folder)])
    assert result.exit_code == 0, result.output
    assert f"run {run_id}: shipped 300000 points from crashed" in result.output
    assert "marked Failed" in result.output
    with Workspace(str(folder)) as ws:
        data = ws.store.read_series(run_id, "x")
        assert data.values == [float(i) for i in range(300_000)]
