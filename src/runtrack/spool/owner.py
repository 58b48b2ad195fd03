"""Who owns a run in this process, and its final status while the store is away.

A process that starts an interactive (or child) run holds an exclusive ``flock`` on
``<spool_dir>/<run_id>.owner`` until it settles the run's status, so recovery
(:func:`runtrack.spool.sync.ship_leftovers`) knows the run's owner is gone when that
lock can be taken — whatever happened: killed before the first metric, killed
inside ``complete()``, or exited without completing. When ``complete()`` or
``fail()`` cannot reach the store, the final status is queued next to the spool in
``<spool_dir>/<run_id>.final.json`` and recovery applies it once the metrics are in.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import weakref
from dataclasses import dataclass
from pathlib import Path

from runtrack.model import ErrorInfo, RunStatus

OWNER_SUFFIX = ".owner"
FINAL_SUFFIX = ".final.json"


def owner_path(spool_dir: Path, run_id: str) -> Path:
    return spool_dir / f"{run_id}{OWNER_SUFFIX}"


def final_path(spool_dir: Path, run_id: str) -> Path:
    return spool_dir / f"{run_id}{FINAL_SUFFIX}"


@dataclass(frozen=True)
class FinalStatus:
    status: RunStatus
    error: ErrorInfo | None

    def to_json(self) -> str:
        error = None if self.error is None else self.error.to_json()
        return json.dumps({"status": self.status.value, "error": error})

    @classmethod
    def from_json(cls, text: str) -> FinalStatus:
        data = json.loads(text)
        error = data.get("error")
        return cls(RunStatus(data["status"]), None if error is None else ErrorInfo.from_json(error))


class RunOwnership:
    """The lock that says "this process will settle the run"; ``release()`` drops it."""

    def __init__(self, spool_dir: Path, run_id: str) -> None:
        self.spool_dir = spool_dir
        self.run_id = run_id
        self._path = os.path.join(spool_dir, f"{run_id}{OWNER_SUFFIX}")
        self._fd = -1
        try:
            try:
                self._fd = take_lock(self._path)
            except FileNotFoundError:  # no spool folder yet (made once, not per run)
                spool_dir.mkdir(parents=True, exist_ok=True)
                self._fd = take_lock(self._path)
        except OSError:
            self._fd = -1  # no room to mark ownership: recovery falls back to the spool
        # a Run dropped without complete(): its owner is gone, recovery may settle it
        self._finalizer = weakref.finalize(self, _close_quietly, self._fd)

    @property
    def held(self) -> bool:
        return self._fd >= 0

    def queue_final(self, final: FinalStatus) -> Path:
        """Write the final status for recovery to apply (the store is unreachable)."""
        path = final_path(self.spool_dir, self.run_id)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(final.to_json())
        os.replace(tmp, path)
        return path

    def release(self, *, settled: bool) -> None:
        """Drop the lock; when the run is ``settled`` in the store, remove the lock file."""
        if self._fd >= 0:
            if settled:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._path)
            self._finalizer.detach()
            os.close(self._fd)
            self._fd = -1


def _close_quietly(fd: int) -> None:
    if fd >= 0:
        with contextlib.suppress(OSError):
            os.close(fd)


def take_lock(path: Path | str, *, note: bool = True) -> int:
    """An fd (opened for appending) holding an exclusive flock on ``path``, which
    holds this process's id when ``note``. The lock is taken on a temporary name and
    renamed into place, so whoever sees the file sees it locked."""
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if note:
            os.write(fd, str(os.getpid()).encode())
        os.replace(tmp, path)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return fd


def lock_held(path: Path) -> bool | None:
    """Whether some open file (in any process, this one included) holds the flock on
    ``path``; None when there is no such file."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock we took
    return False


def read_final(spool_dir: Path, run_id: str) -> FinalStatus | None:
    try:
        return FinalStatus.from_json(final_path(spool_dir, run_id).read_text())
    except (OSError, ValueError, KeyError):
        return None
