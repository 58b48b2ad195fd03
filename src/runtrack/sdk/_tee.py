"""Copy what the program prints into a run's log file while the run is a context."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import Any, TextIO

from runtrack.store.base import ArtifactStore

FLUSH_BYTES = 64 * 1024
FLUSH_SECONDS = 1.0


class _TeeStream:
    def __init__(self, original: TextIO, sink: OutputTee) -> None:
        self._original = original
        self._sink = sink

    def write(self, text: str) -> int:
        self._sink.add(text)
        return self._original.write(text)

    def flush(self) -> None:
        self._original.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


class OutputTee:
    """Tees sys.stdout and sys.stderr into artifact ``path`` (appended in blocks)."""

    def __init__(self, artifacts: ArtifactStore, run_id: str, path: str) -> None:
        self._artifacts = artifacts
        self._run_id = run_id
        self._path = path
        self._buffer: list[str] = []
        self._size = 0
        self._last = time.monotonic()
        self._lock = threading.Lock()
        self._stdout, self._stderr = sys.stdout, sys.stderr
        sys.stdout = _TeeStream(self._stdout, self)  # type: ignore[assignment]
        sys.stderr = _TeeStream(self._stderr, self)  # type: ignore[assignment]

    def add(self, text: str) -> None:
        with self._lock:
            self._buffer.append(text)
            self._size += len(text)
            due = self._size >= FLUSH_BYTES or time.monotonic() - self._last > FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            data = "".join(self._buffer).encode("utf-8", "replace")
            self._buffer.clear()
            self._size = 0
            self._last = time.monotonic()
        if data:
            # printing must never fail because of the tracker
            with contextlib.suppress(Exception):
                self._artifacts.append(self._run_id, self._path, data)

    def stop(self) -> None:
        if isinstance(sys.stdout, _TeeStream):
            sys.stdout = self._stdout
        if isinstance(sys.stderr, _TeeStream):
            sys.stderr = self._stderr
        self.flush()
