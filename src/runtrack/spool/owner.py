"""Who owns a run in this process, and its final status while the store is away.

A process that starts an interactive (or child) run holds an exclusive ``flock`` on
``<spool_dir>/<run_id>/run.lock`` until it settles the run's status, so recovery
(:func:`runtrack.spool.sync.ship_leftovers`) knows the run's owner is gone when that
lock can be taken — whatever happened: killed before the first metric, killed
inside ``complete()``, or exited without completing. When ``complete()`` or
``fail()`` cannot reach the store, the final status is queued next to the spool in
``final.json`` and recovery applies it once the metrics are in.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

from runtrack.model import ErrorInfo, RunStatus

LOCK_NAME = "run.lock"
FINAL_NAME = "final.json"


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
        self.folder = spool_dir / run_id
        self._fd = -1
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._fd = take_lock(self.folder / LOCK_NAME)
        except OSError:
            self._fd = -1  # no room to mark ownership: recovery falls back to the spool

    @property
    def held(self) -> bool:
        return self._fd >= 0

    def queue_final(self, final: FinalStatus) -> Path:
        """Write the final status for recovery to apply (the store is unreachable)."""
        path = self.folder / FINAL_NAME
        tmp = path.with_suffix(".tmp")
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp.write_text(final.to_json())
        os.replace(tmp, path)
        return path

    def release(self, *, settled: bool) -> None:
        """Drop the lock; when the run is ``settled`` in the store, remove the lock file
        (and the run's spool folder if nothing else is left in it)."""
        if self._fd >= 0:
            if settled:
                (self.folder / LOCK_NAME).unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = -1
            if settled:
                with contextlib.suppress(OSError):
                    self.folder.rmdir()


def take_lock(path: Path) -> int:
    """An fd holding an exclusive flock on ``path``. The lock is taken on a temporary
    name and renamed into place, so whoever sees the file sees it locked."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, str(os.getpid()).encode())
        os.replace(tmp, path)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
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


def read_final(folder: Path) -> FinalStatus | None:
    try:
        return FinalStatus.from_json((folder / FINAL_NAME).read_text())
    except (OSError, ValueError, KeyError):
        return None
