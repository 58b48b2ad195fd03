"""Pump a process's output into its log file in the run, live, bytes as they are.

One :class:`LogPump` thread per process reads the process's merged stdout/stderr
pipe and appends to the run's log artifact in blocks: whenever ``FLUSH_BYTES`` are
waiting or ``FLUSH_SECONDS`` passed since the oldest unshipped byte, so a viewer
tailing the file lags by at most about that. Bytes are kept raw (carriage returns,
ANSI colours). The last ``TAIL_BYTES`` are kept in memory to explain a failure.
Store errors never block the pipe: the block is kept and retried (bounded memory:
beyond ``MAX_PENDING`` the oldest unshipped bytes are dropped with a note).
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from typing import BinaryIO

from runtrack.store.base import ArtifactStore

log = logging.getLogger("runtrack.runner")

FLUSH_BYTES = 256 * 1024
FLUSH_SECONDS = 0.2
TAIL_BYTES = 64 * 1024
READ_SIZE = 64 * 1024
MAX_PENDING = 64 * 1024 * 1024


class LogPump(threading.Thread):
    """Reads ``fd`` until EOF into artifact ``path`` of ``run_id``."""

    def __init__(self, fd: int, artifacts: ArtifactStore, run_id: str, path: str) -> None:
        super().__init__(name=f"runtrack-log-{path}", daemon=True)
        self.fd = fd
        self.artifacts = artifacts
        self.run_id = run_id
        self.path = path
        self.total = 0
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._oldest = 0.0
        self._tail = bytearray()

    def run(self) -> None:
        try:
            self._pump()
        finally:
            for attempt in range(5):  # the end of the output matters most: retry a little
                self._flush()
                if not self._pending:
                    break
                time.sleep(0.2 * (attempt + 1))
            os.close(self.fd)

    def _pump(self) -> None:
        while True:
            wait = FLUSH_SECONDS
            if self._pending:
                wait = max(0.0, self._oldest + FLUSH_SECONDS - time.monotonic())
            ready, _, _ = select.select([self.fd], [], [], wait)
            if ready:
                try:
                    data = os.read(self.fd, READ_SIZE)
                except OSError:
                    data = b""
                if not data:
                    return
                self._add(data)
            if self._pending and (
                self._pending_size >= FLUSH_BYTES
                or time.monotonic() - self._oldest >= FLUSH_SECONDS
            ):
                self._flush()

    def _add(self, data: bytes) -> None:
        if not self._pending:
            self._oldest = time.monotonic()
        self._pending.append(data)
        self._pending_size += len(data)
        self.total += len(data)
        self._tail += data
        if len(self._tail) > 2 * TAIL_BYTES:
            del self._tail[:-TAIL_BYTES]
        if self._pending_size > MAX_PENDING:
            dropped = self._pending_size - MAX_PENDING
            joined = b"".join(self._pending)[dropped:]
            note = f"\n[runtrack: {dropped} bytes of output dropped: the store is unreachable]\n"
            self._pending = [note.encode(), joined]
            self._pending_size = len(joined) + len(note)

    def _flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        try:
            self.artifacts.append(self.run_id, self.path, data)
        except Exception as exc:  # keep the bytes, retry on the next flush
            log.warning("runtrack: cannot ship %s yet: %s", self.path, exc)
            self._pending = [data]
            self._oldest = time.monotonic()
            return
        self._pending.clear()
        self._pending_size = 0

    def tail(self) -> str:
        """The last output of the process, decoded leniently."""
        return bytes(self._tail[-TAIL_BYTES:]).decode("utf-8", "replace")


class FolderMirror:
    """Keeps a local folder (the run's ``./logs``) mirrored into the run's artifacts.

    ``sync()`` ships what changed since the last call: bytes appended to a file are
    appended to its artifact; a file rewritten in place (its shipped head or last
    shipped bytes changed, or it shrank) is uploaded whole again.
    """

    _PROBE = 256

    def __init__(self, folder: str, artifacts: ArtifactStore, run_id: str, prefix: str) -> None:
        self.folder = folder
        self.artifacts = artifacts
        self.run_id = run_id
        self.prefix = prefix.rstrip("/")
        self._shipped: dict[str, tuple[int, bytes, bytes]] = {}

    def sync(self) -> int:
        """Ship changes; return how many files were touched. Errors are logged."""
        touched = 0
        if not os.path.isdir(self.folder):
            return 0
        for base, _dirs, files in os.walk(self.folder):
            for name in files:
                path = os.path.join(base, name)
                rel = os.path.relpath(path, self.folder).replace(os.sep, "/")
                try:
                    touched += self._sync_file(path, f"{self.prefix}/{rel}")
                except Exception as exc:  # a vanished file or an unreachable store
                    log.debug("runtrack: cannot mirror %s: %s", path, exc)
        return touched

    def _sync_file(self, path: str, name: str) -> int:
        size = os.path.getsize(path)
        known = self._shipped.get(name)
        if known is not None and known[0] == size:
            return 0
        with open(path, "rb") as fh:
            head = fh.read(self._PROBE)
            if known is not None and size > known[0] and head.startswith(known[1]):
                fh.seek(max(0, known[0] - self._PROBE))
                before = fh.read(min(self._PROBE, known[0]))
                if before == known[2]:
                    data = fh.read(size - known[0])
                    self.artifacts.append(self.run_id, name, data)
                    self._remember(name, known[0] + len(data), head, fh)
                    return 1
            fh.seek(0)
            data = fh.read(size)
        self.artifacts.put(self.run_id, name, data, overwrite=True)
        with open(path, "rb") as fh:
            self._remember(name, len(data), data[: self._PROBE], fh)
        return 1

    def _remember(self, name: str, size: int, head: bytes, fh: BinaryIO) -> None:
        fh.seek(max(0, size - self._PROBE))
        last = fh.read(min(self._PROBE, size))
        self._shipped[name] = (size, head[: min(self._PROBE, size)], last)
