"""The lock that says which process settles a run (``spool/owner.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtrack.spool import owner
from runtrack.spool.owner import RunOwnership, lock_held, owner_path, take_lock


@pytest.fixture(autouse=True)
def _no_spare() -> None:
    """Each test starts without a spare lock file of an earlier test's folder."""
    owner._SPARE.drop(exiting=False)


def _spare(spool: Path) -> Path:
    return spool / f".spare-{os.getpid()}.owner"


def test_ownership_makes_the_spool_folder_when_missing_and_holds_the_lock(
    tmp_path: Path,
) -> None:
    """The spool folder is made on demand (the first run of a workspace); later runs
    find it. The lock file is in place, locked, and holds the owner's pid; a settled
    run's file goes, an unsettled one's stays for recovery, unlocked."""
    spool = tmp_path / "not" / "yet"
    first = RunOwnership(spool, "run-1")
    assert first.held and lock_held(owner_path(spool, "run-1")) is True
    assert owner_path(spool, "run-1").read_text() == str(os.getpid())
    second = RunOwnership(spool, "run-2")
    assert second.held and lock_held(owner_path(spool, "run-2")) is True
    first.release(settled=True)
    assert not first.held and not owner_path(spool, "run-1").exists()
    second.release(settled=False)
    assert lock_held(owner_path(spool, "run-2")) is False
    # no temporary left; the settled run's file is the spare, still locked
    assert sorted(p.name for p in spool.iterdir()) == [_spare(spool).name, "run-2.owner"]
    assert lock_held(_spare(spool)) is True
    owner_path(spool, "run-2").unlink()
    again = RunOwnership(spool, "run-2")
    os.unlink(owner_path(spool, "run-2"))  # removed by someone else meanwhile
    again.release(settled=True)
    assert not again.held


def test_no_room_for_the_lock_leaves_the_run_unowned(tmp_path: Path) -> None:
    blocker = tmp_path / "spool"
    blocker.write_text("a file where the spool folder should be")
    ownership = RunOwnership(blocker, "run-1")
    assert not ownership.held
    ownership.release(settled=True)  # nothing to drop


def test_take_lock_leaves_nothing_behind_when_it_fails(tmp_path: Path) -> None:
    folder = tmp_path / "locks"
    with pytest.raises(FileNotFoundError):
        take_lock(folder / "x.lock")
    target = folder / "x.lock"
    target.mkdir(parents=True)  # the rename into place fails: the temporary file goes
    with pytest.raises(OSError):
        take_lock(str(target))
    assert [p.name for p in folder.iterdir()] == ["x.lock"]


def test_a_settled_runs_lock_file_is_the_next_runs(tmp_path: Path) -> None:
    """Settling renames the run's lock file aside (a name recovery skips), still locked;
    the process's next run there renames it into place: locked, holding this pid,
    from the moment it has the run's name. One spare per folder, one per process."""
    spool = tmp_path / "spool"
    first = RunOwnership(spool, "run-1")
    inode = os.stat(owner_path(spool, "run-1")).st_ino
    first.release(settled=True)
    assert not owner_path(spool, "run-1").exists()
    assert os.stat(_spare(spool)).st_ino == inode and lock_held(_spare(spool)) is True
    second, third = RunOwnership(spool, "run-2"), RunOwnership(spool, "run-3")
    assert os.stat(owner_path(spool, "run-2")).st_ino == inode and not _spare(spool).exists()
    assert owner_path(spool, "run-2").read_text() == str(os.getpid())
    assert lock_held(owner_path(spool, "run-2")) is True
    assert lock_held(owner_path(spool, "run-3")) is True
    second.release(settled=True)
    third.release(settled=True)  # a spare already: removed as before
    assert [p.name for p in spool.iterdir()] == [_spare(spool).name]
    other = tmp_path / "other"
    RunOwnership(other, "run-4").release(settled=True)  # the newest folder's spare only
    assert not _spare(spool).exists() and lock_held(_spare(other)) is True
    recovered = RunOwnership(spool, "run-5")  # no spare here: a new file
    assert lock_held(owner_path(spool, "run-5")) is True
    os.unlink(_spare(other))  # removed by someone: the next run makes its own file
    again = RunOwnership(other, "run-6")
    assert again.held and lock_held(owner_path(other, "run-6")) is True
    recovered.release(settled=False)
    again.release(settled=False)


def test_a_forked_child_never_holds_its_parents_spare(tmp_path: Path) -> None:
    """After ``fork`` the child closes its copy of the parent's spare and makes its own
    files, so a run the parent starts later with the spare is not held by the child."""
    spool = tmp_path / "spool"
    RunOwnership(spool, "parent-1").release(settled=True)
    inode = os.stat(_spare(spool)).st_ino
    os.mkfifo(tmp_path / "go")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then wait to be told to go
        try:
            os.close(read)
            child = RunOwnership(spool, "child-1")
            fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
            same = any(
                os.fstat(fd).st_ino == inode for fd in fds if fd != write and _is_file(fd)
            )
            mine = os.stat(owner_path(spool, "child-1")).st_ino != inode
            os.write(write, b"ok" if child.held and mine and not same else b"bad")
            os.read(os.open(tmp_path / "go", os.O_RDONLY), 1)  # alive until told
        finally:
            os._exit(0)
    os.close(write)
    try:
        assert os.read(read, 3) == b"ok"
        later = RunOwnership(spool, "parent-2")  # the spare, held by this process only
        assert os.stat(owner_path(spool, "parent-2")).st_ino == inode
        later.release(settled=False)
        assert lock_held(owner_path(spool, "parent-2")) is False  # the child holds none
    finally:
        with open(tmp_path / "go", "wb") as go:
            go.write(b"x")
        os.waitpid(pid, 0)
        os.close(read)


def _is_file(fd: int) -> bool:
    try:
        return os.path.isfile(f"/proc/self/fd/{fd}")
    except OSError:
        return False


_SETTLE = """if True:
    import os, sys
    from pathlib import Path
    from runtrack.spool.owner import RunOwnership
    RunOwnership(Path(sys.argv[1]), sys.argv[2]).release(settled=True)
    print(os.getpid(), flush=True)
    if sys.argv[3] == "killed":
        os._exit(9)
"""


def test_spares_of_ended_processes_are_removed(tmp_path: Path) -> None:
    """A process removes its spare when it exits; a killed one's stays, unlocked, until
    the next process keeps a spare in that folder."""
    spool = tmp_path / "spool"

    def settle(run_id: str, how: str) -> str:
        done = subprocess.run([sys.executable, "-c", _SETTLE, str(spool), run_id, how],
                              capture_output=True, text=True, timeout=120)
        return f".spare-{done.stdout.strip()}.owner"

    settle("run-1", "exits")
    assert list(spool.iterdir()) == []
    killed = settle("run-2", "killed")
    assert [p.name for p in spool.iterdir()] == [killed]
    assert lock_held(spool / killed) is False
    RunOwnership(spool, "run-3").release(settled=True)
    assert [p.name for p in spool.iterdir()] == [_spare(spool).name]
