"""The short-run path: who ships a run's last points, and what its first segment costs."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from runtrack import Experiment, Workspace
from runtrack.spool import shipper as shipper_module
from runtrack.spool import starter as starter_module
from runtrack.spool.shipper import BackgroundShipper, StreamShipper
from runtrack.spool.writer import FIRST_SEGMENT, SpoolWriter


def test_complete_ships_the_rest_from_the_calling_thread(
    ws: Workspace, exp: Experiment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """complete() does not hand its last batch to the shipper's thread and wait: it
    ships it itself (no thread hand-off), and returns with every point stored."""
    threads: list[int] = []
    real = ws.store.ingest

    def ingest(run_id: str, batch: Any) -> int:
        threads.append(threading.get_ident())
        return real(run_id, batch)

    monkeypatch.setattr(ws.store, "ingest", ingest)
    monkeypatch.setattr(shipper_module, "_pause", lambda shipped, since: 3600.0)
    run = exp.start_logging(snapshot_directory=None)
    run.log("x", 0.0, step=0)
    run.flush()  # shipped by the shipper's thread, which then sleeps until woken
    assert threads[-1] != threading.get_ident()
    for i in range(1, 50):
        run.log("x", float(i), step=i)
    folder = ws.settings.spool_dir / run.id
    (first,) = folder.glob("*.000000.seg")
    assert first.stat().st_size == FIRST_SEGMENT  # a short run reserves a small file
    run.complete()
    assert threads and threads[-1] == threading.get_ident()
    assert ws.store.read_series(run.id, "x").values == [float(i) for i in range(50)]
    assert not folder.exists()  # shipped streams leave no files behind


def test_a_taken_over_shipper_ships_nothing_more(ws: Workspace, exp: Experiment,
                                                 tmp_path: Path) -> None:
    run = exp.start_logging(snapshot_directory=None)
    folder = tmp_path / "spool"
    writer = SpoolWriter(folder, "s")
    background = BackgroundShipper(StreamShipper(ws.store, run.id, folder, "s"))
    background.take_over()
    nid = writer.intern("y", "scalar")
    for i in range(10):
        writer.write_float(nid, i, 1.0, float(i))
    writer.close()
    background.join(30.0)
    assert not background.running
    assert ws.store.ingest_position(run.id, "s") == 0  # the thread left the stream alone
    (stream,) = background.shippers
    assert stream.drain() == 10 and stream.done
    assert ws.store.read_series(run.id, "y").values == [float(i) for i in range(10)]
    run.complete()


def test_complete_records_no_position_for_files_it_removes(
    ws: Workspace, exp: Experiment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rest that complete() ships goes with no ``.ack`` file written (the stream's
    files are removed right after; a crash before that only makes recovery resend what
    the store already has)."""
    import os

    replaced: list[str] = []
    real = os.replace

    def replace(src: Any, dst: Any) -> None:
        replaced.append(str(dst))
        real(src, dst)

    # complete()'s own shipping is what is looked at: a loaded machine that stalls this
    # test past MAX_PAUSE must not start the background thread, which records positions
    monkeypatch.setattr(shipper_module, "MAX_PAUSE", 3600.0)
    run = exp.start_logging(snapshot_directory=None)
    for i in range(20):
        run.log("x", float(i), step=i)
    monkeypatch.setattr(os, "replace", replace)
    run.complete()
    # (another test's run, still shipping from its thread in this process, may be
    # writing .ack files of its own meanwhile: only this run's folder counts)
    mine = str(ws.settings.spool_dir / run.id)
    assert not [name for name in replaced if name.startswith(mine) and name.endswith(".ack")]
    assert ws.store.read_series(run.id, "x").values == [float(i) for i in range(20)]
    assert not (ws.settings.spool_dir / run.id).exists()


def test_complete_removes_only_files_that_exist(
    ws: Workspace, exp: Experiment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A short run's stream wrote no ``.ack`` file: removing its files tries no unlink
    of one (each failing call is a syscall a short run paid for nothing)."""
    import os

    missing: list[str] = []
    real = os.unlink

    def unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        try:
            os.stat(path, dir_fd=kwargs.get("dir_fd"), follow_symlinks=False)
        except FileNotFoundError:
            missing.append(str(path))
        real(path, *args, **kwargs)

    run = exp.start_logging(snapshot_directory=None)
    run.log("x", 1.0, step=0)
    monkeypatch.setattr(os, "unlink", unlink)
    run.complete()
    assert missing == []
    assert not (ws.settings.spool_dir / run.id).exists()


def test_a_short_run_starts_no_shipper_thread(ws: Workspace, exp: Experiment) -> None:
    """A run that ends within ``MAX_PAUSE`` ships once, from complete(), and never
    starts a shipper thread of its own."""
    started: list[str] = []
    real = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        started.append(thread.name)
        real(thread)

    run = exp.start_logging(snapshot_directory=None)
    try:
        threading.Thread.start = start  # type: ignore[method-assign]
        run.log("x", 1.0, step=0)
        run.complete()
    finally:
        threading.Thread.start = real  # type: ignore[method-assign]
    assert not [name for name in started if name == f"runtrack-shipper-{run.id}"]
    assert ws.store.read_series(run.id, "x").values == [1.0]


def test_a_longer_run_ships_from_its_thread_without_a_flush(
    ws: Workspace, exp: Experiment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shipper_module, "MAX_PAUSE", 0.05)
    run = exp.start_logging(snapshot_directory=None)
    run.log("x", 1.0, step=0)
    deadline = time.monotonic() + 60  # bounded wait, not a timing assertion
    while ws.store.ingest_position(run.id, _stream_of(run)) < 1:
        assert time.monotonic() < deadline, "the shipper thread never shipped"
        time.sleep(0.02)
    shipper = run._metrics.spooled.shipper  # type: ignore[union-attr]
    assert shipper is not None and shipper.running  # started by the starter, not by a wait
    run.complete()
    assert ws.store.read_series(run.id, "x").values == [1.0]


def _stream_of(run: Any) -> str:
    return str(run._metrics.spooled.writer.stream)


def test_a_forked_child_gets_a_fresh_starter(ws: Workspace, exp: Experiment) -> None:
    """The starter's lock may be held by its thread when the process forks; the child
    starts with its own (else its first run would wait on the lock forever)."""
    import os

    run = exp.start_logging(snapshot_directory=None)
    run.log("x", 1.0)  # the starter thread exists in this process now
    parent_cond = starter_module.STARTER._cond
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, never run the test's teardown
        fresh = starter_module.STARTER._cond is not parent_cond
        os.write(write, b"1" if fresh and starter_module.STARTER._thread is None else b"0")
        os._exit(0)
    os.close(write)
    got = os.read(read, 1)
    os.close(read)
    os.waitpid(pid, 0)
    assert got == b"1"
    run.complete()


def test_the_starter_starts_deadlines_close_together_in_one_wake() -> None:
    """Objects due within ``SLACK`` of each other start in one wake of the starter's
    thread, each no earlier than its deadline (a loop of short runs hands it two
    deadlines per run: one wake each cost as much as the rest of their thread work)."""
    starter = starter_module.Starter()
    done = threading.Event()
    started: list[tuple[int, float, float]] = []

    class Target:
        def __init__(self, k: int, at: float) -> None:
            self.k, self.at = k, at

        def start(self) -> None:
            started.append((self.k, self.at, time.monotonic()))
            if len(started) == 5:
                done.set()

    base = time.monotonic() + 0.2
    targets = [Target(k, base + k * 0.004) for k in range(5)]  # within SLACK: 16 ms
    for target in reversed(targets):  # the earliest last: each add moves the first deadline
        starter.add(target, target.at)
    assert done.wait(60), "the starter never started its targets"
    assert sorted(k for k, _, _ in started) == [0, 1, 2, 3, 4]
    assert all(when >= at for _, at, when in started)
    assert starter.wakes == 1


def test_short_runs_leave_no_reference_cycles(exp: Experiment) -> None:
    """Whole short runs leave nothing for the cyclic garbage collector: a shipper made
    its thread object up front (a cycle through its bound method; a short run never
    starts it), ~65 objects per run for the collector to find."""
    import gc

    def short_run() -> None:
        run = exp.start_logging(snapshot_directory=None, outputs=False)
        run.tag("t", "v")
        for i in range(20):
            run.log("loss", 1.0 / (i + 1), step=i)
        run.complete()

    short_run()  # imports, caches and the spare folder: once per process
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(3):
            short_run()
        gc.collect()
        found = [type(o).__qualname__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert found == []
