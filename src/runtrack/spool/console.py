"""The console (stdout/stderr) of a run, spooled like its metrics.

What the program prints is appended to ``<spool_dir>/<run_id>.console-<pid>-<id>.log``
as it is printed, and shipped from there to the run's log artifact in blocks; the
file remembers (in ``.json`` next to it) how much of it the artifact store holds.
A failed append keeps everything for the next try, so an outage of the store loses
no output and never merges or reorders lines. Whatever is left when the process
ends — killed, or the store still away — is shipped by recovery
(:func:`ship_console_leftovers`, from ``runtrack sync`` and ``Workspace()``). The
writer holds a ``flock`` on its file, so recovery never ships a live console.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from pathlib import Path

from runtrack.spool.owner import lock_held, take_lock
from runtrack.store.base import ArtifactStore

log = logging.getLogger("runtrack.spool")


class ConsoleSpool:
    """Append-only console bytes of one process, shipped to ``path`` of ``run_id``."""

    def __init__(
        self, artifacts: ArtifactStore, run_id: str, path: str, spool_dir: Path
    ) -> None:
        import uuid  # (platform) not at import time

        self.artifacts = artifacts
        self.run_id = run_id
        self.path = path
        self.file = spool_dir / f"{run_id}.console-{os.getpid()}-{uuid.uuid4().hex[:8]}.log"
        self.written = 0
        self.shipped = 0
        self._memory = bytearray()  # used only when the file cannot be written
        self._lock = threading.Lock()
        self._ship_lock = threading.Lock()
        self._fd = -1
        try:
            spool_dir.mkdir(parents=True, exist_ok=True)
            self._fd = take_lock(self.file, note=False)
            self._save_position()
        except OSError as exc:
            log.debug("runtrack: console output kept in memory: %s", exc)

    def add(self, data: bytes) -> None:
        with self._lock:
            if self._fd >= 0:
                try:
                    os.write(self._fd, data)
                except OSError:  # disk full: keep it in memory from now on
                    self._memory += self._read(self.shipped, self.written - self.shipped)
                    self._close_file(remove=False)
                    self._memory += data
            else:
                self._memory += data
            self.written += len(data)

    def _read(self, start: int, size: int) -> bytes:
        if self._fd < 0:
            offset = start - (self.written - len(self._memory))
            return bytes(self._memory[offset : offset + size])
        return os.pread(self._fd, size, start)

    def ship(self) -> bool:
        """Append what is not shipped yet; False (everything kept) when that fails."""
        with self._ship_lock:
            with self._lock:
                start, end = self.shipped, self.written
                data = self._read(start, end - start) if end > start else b""
            if not data:
                return True
            try:
                self.artifacts.append(self.run_id, self.path, data)
            except Exception as exc:  # printing must never fail because of the tracker
                log.debug("runtrack: console output not shipped yet: %s", exc)
                return False
            with self._lock:
                self.shipped = end
                if self._fd < 0:
                    del self._memory[: len(data)]
                else:
                    self._save_position()
            return True

    def _save_position(self) -> None:
        with contextlib.suppress(OSError):
            _position_path(self.file).write_text(
                json.dumps({"run_id": self.run_id, "path": self.path, "shipped": self.shipped})
            )

    def close(self) -> bool:
        """Ship the rest; remove the files if all of it is stored (True), else leave
        them for recovery (False)."""
        ok = self.ship()
        with self._lock:
            self._close_file(remove=ok)
        return ok

    def _close_file(self, *, remove: bool) -> None:
        if self._fd < 0:
            return
        if remove:
            self.file.unlink(missing_ok=True)
            _position_path(self.file).unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = -1


def _position_path(file: Path) -> Path:
    return file.with_suffix(".json")


def ship_console_leftovers(artifacts: ArtifactStore, spool_dir: Path) -> int:
    """Ship the unshipped part of every console file in ``spool_dir`` whose writer is
    gone; return the bytes shipped. Failures leave the file for next time."""
    total = 0
    for file in sorted(spool_dir.glob("*.console-*.log")):
        if lock_held(file) is not False:
            continue
        try:
            meta = json.loads(_position_path(file).read_text())
            data = file.read_bytes()[int(meta["shipped"]) :]
            if data:
                artifacts.append(str(meta["run_id"]), str(meta["path"]), data)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("runtrack: cannot ship console output %s yet: %s", file, exc)
            continue
        total += len(data)
        file.unlink(missing_ok=True)
        _position_path(file).unlink(missing_ok=True)
    return total
