"""The process's spare stream folder (``spool/spare.py``): a short run's spool folder
kept, zeroed, for the next run instead of removed and made again."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from runtrack import Experiment, Workspace
from runtrack.spool import spare
from runtrack.spool.owner import lock_held
from runtrack.spool.reader import list_streams
from runtrack.spool.spare import SPARE_FOLDER
from runtrack.spool.sync import pending_streams, ship_leftovers
from runtrack.spool.writer import FIRST_SEGMENT


@pytest.fixture(autouse=True)
def _no_spare() -> None:
    """Each test starts without a spare folder of an earlier test's workspace."""
    SPARE_FOLDER.drop(exiting=False)


def _spare(ws: Workspace) -> Path:
    return ws.settings.spool_dir / f".spare-{os.getpid()}.stream"


def _entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_short_runs_folder_becomes_the_spare_zeroed_and_locked(
    ws: Workspace, exp: Experiment
) -> None:
    run = exp.start_logging(snapshot_directory=None)
    for i in range(50):
        run.log("loss", float(i), step=i)
    (stream,) = list_streams(ws.settings.spool_dir / run.id)
    run.complete()
    assert ws.store.read_series(run.id, "loss").values == [float(i) for i in range(50)]
    spare = _spare(ws)
    assert not (ws.settings.spool_dir / run.id).exists()
    assert _entries(spare) == [f"{stream}.000000.seg", f"{stream}.lock"]
    assert (spare / f"{stream}.000000.seg").read_bytes() == bytes(FIRST_SEGMENT)
    assert lock_held(spare / f"{stream}.lock") is True


def test_the_next_run_takes_the_spare_under_a_new_stream_name(
    ws: Workspace, exp: Experiment
) -> None:
    first = exp.start_logging(snapshot_directory=None)
    first.log("x", 1.0)
    (old,) = list_streams(ws.settings.spool_dir / first.id)
    first.complete()
    inode = os.stat(_spare(ws)).st_ino
    second = exp.start_logging(snapshot_directory=None)
    second.log("x", 2.0)
    folder = ws.settings.spool_dir / second.id
    assert os.stat(folder).st_ino == inode and not _spare(ws).exists()
    (new,) = list_streams(folder)
    assert new != old
    assert lock_held(folder / f"{new}.lock") is True
    second.complete()
    assert ws.store.read_series(second.id, "x").values == [2.0]
    assert ws.store.read_series(first.id, "x").values == [1.0]


def test_a_run_that_logs_again_after_complete_loses_nothing(
    ws: Workspace, exp: Experiment
) -> None:
    """Its second spool takes the spare its first stream left: under the same stream
    name the store would skip the new points as ones it already has."""
    a = exp.start_logging(snapshot_directory=None)
    a.log("x", 1.0, step=0)
    a.complete()
    b = exp.start_logging(snapshot_directory=None)
    b.log("x", 10.0, step=0)
    b.complete()
    for i in (1, 2):  # each time a's new spool takes the spare
        a.log("x", float(i + 1), step=i)
        a.flush()
    assert ws.store.read_series(a.id, "x").values == [1.0, 2.0, 3.0]
    assert ws.store.read_series(b.id, "x").values == [10.0]


def test_a_folder_with_anything_else_in_it_is_not_kept(
    ws: Workspace, exp: Experiment
) -> None:
    """Another thread's stream, or a file nobody here made: the run's files are removed
    by name as before, the folder with the other file stays, no spare is kept."""
    run = exp.start_logging(snapshot_directory=None)
    run.log("x", 1.0)
    folder = ws.settings.spool_dir / run.id
    (folder / "someone-else.lock").write_text("")
    run.complete()
    assert _entries(folder) == ["someone-else.lock"]
    assert not _spare(ws).exists()
    threaded = exp.start_logging(snapshot_directory=None)
    threaded.log("x", 1.0)
    worker = threading.Thread(target=lambda: threaded.log("y", 2.0))
    worker.start()
    worker.join()
    threaded.complete()
    assert not (ws.settings.spool_dir / threaded.id).exists() and not _spare(ws).exists()
    assert ws.store.read_series(threaded.id, "y").values == [2.0]


def test_recovery_skips_a_live_spare(ws: Workspace, exp: Experiment) -> None:
    run = exp.start_logging(snapshot_directory=None)
    run.log("x", 1.0)
    run.complete()
    assert _spare(ws).exists()
    assert pending_streams(ws.settings.spool_dir, include_live=True) == []
    assert ship_leftovers(ws.store, ws.settings.spool_dir) == []
    assert _spare(ws).exists()


_LEAVE_SPARE = """if True:
    import os, sys
    from runtrack import Experiment, Workspace
    ws = Workspace(sys.argv[1])
    run = Experiment(ws, "spare").start_logging(snapshot_directory=None)
    run.log("x", 1.0)
    run.complete()
    print(os.getpid(), flush=True)
    if sys.argv[2] == "killed":
        os._exit(9)
    ws.close()
"""


def test_a_spare_is_removed_at_exit_and_a_killed_processs_by_recovery(
    tmp_path: Path,
) -> None:
    root = tmp_path / "ws"

    def leave(how: str) -> str:
        done = subprocess.run([sys.executable, "-c", _LEAVE_SPARE, str(root), how],
                              capture_output=True, text=True, timeout=120, check=how == "exits")
        return f".spare-{done.stdout.strip()}.stream"

    spool = root / "spool"
    leave("exits")
    assert not [p for p in spool.iterdir() if p.name.endswith(".stream")]
    killed = leave("killed")
    assert (spool / killed).is_dir()
    ws = Workspace(str(root))  # opening the workspace ships leftovers: the spare goes
    try:
        ship_leftovers(ws.store, ws.settings.spool_dir)
        assert not (spool / killed).exists()
    finally:
        ws.close()


def test_a_forked_child_forgets_its_parents_spare(ws: Workspace, exp: Experiment) -> None:
    run = exp.start_logging(snapshot_directory=None)
    run.log("x", 1.0)
    run.complete()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            os.write(write, b"ok" if spare.take(
                ws.settings.spool_dir, ws.settings.spool_dir / "child", "c") is None else b"bad")
        finally:
            os._exit(0)
    os.close(write)
    try:
        assert os.read(read, 3) == b"ok"
    finally:
        os.waitpid(pid, 0)
        os.close(read)
    assert _spare(ws).exists()  # the child neither took nor removed it
    later = exp.start_logging(snapshot_directory=None)
    later.log("x", 2.0)
    assert not _spare(ws).exists()
    later.complete()


def test_a_run_closed_after_the_exit_hook_keeps_no_spare(ws: Workspace, exp: Experiment) -> None:
    """The spare is removed at exit, and a spool the exit's drain closes after that
    removes its files: no spare is left that only the next process would sweep."""
    run = exp.start_logging(snapshot_directory=None)
    run.log("x", 1.0)
    SPARE_FOLDER.drop()  # what the exit hook does
    try:
        run.complete()
        assert not _spare(ws).exists() and not (ws.settings.spool_dir / run.id).exists()
        assert ws.store.read_series(run.id, "x").values == [1.0]
    finally:
        SPARE_FOLDER.drop(exiting=False)


def test_a_spare_removed_by_someone_else_is_not_missed(ws: Workspace, exp: Experiment) -> None:
    """The spool folder wiped while the process holds a spare: the next run makes its
    folder and files as usual and loses nothing."""
    import shutil

    first = exp.start_logging(snapshot_directory=None)
    first.log("x", 1.0)
    first.complete()
    shutil.rmtree(ws.settings.spool_dir)
    second = exp.start_logging(snapshot_directory=None)
    second.log("x", 2.0)
    (stream,) = list_streams(ws.settings.spool_dir / second.id)
    assert lock_held(ws.settings.spool_dir / second.id / f"{stream}.lock") is True
    second.complete()
    assert ws.store.read_series(second.id, "x").values == [2.0]
    assert _entries(_spare(ws)) == [f"{stream}.000000.seg", f"{stream}.lock"]
