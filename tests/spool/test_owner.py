"""The lock that says which process settles a run (``spool/owner.py``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runtrack.spool.owner import RunOwnership, lock_held, owner_path, take_lock


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
    assert sorted(p.name for p in spool.iterdir()) == ["run-2.owner"]  # no temporary left
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
