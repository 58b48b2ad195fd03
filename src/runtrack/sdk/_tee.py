"""Copy what the program prints into a run's log file while the run is a context.

Printed text goes to the original stream and, unchanged, into a console spool
(:class:`runtrack.spool.console.ConsoleSpool`), which ships it to the log artifact
in blocks and keeps it through an outage of the store.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from runtrack.spool.console import ConsoleSpool
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
    """Tees sys.stdout and sys.stderr into artifact ``path`` through a console spool
    in ``spool_dir``."""

    def __init__(self, artifacts: ArtifactStore, run_id: str, path: str, spool_dir: Path) -> None:
        self._spool = ConsoleSpool(artifacts, run_id, path, spool_dir)
        self._size = 0
        self._last = time.monotonic()
        self._lock = threading.Lock()
        self._stdout, self._stderr = sys.stdout, sys.stderr
        sys.stdout = _TeeStream(self._stdout, self)  # type: ignore[assignment]
        sys.stderr = _TeeStream(self._stderr, self)  # type: ignore[assignment]

    def add(self, text: str) -> None:
        data = text.encode("utf-8", "replace")
        with self._lock:
            self._spool.add(data)
            self._size += len(data)
            due = self._size >= FLUSH_BYTES or time.monotonic() - self._last > FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            self._size = 0
            self._last = time.monotonic()
        self._spool.ship()

    def stop(self) -> bool:
        """Restore the streams and ship the rest; False when some output is left in the
        spool for recovery (the store is unreachable)."""
        if isinstance(sys.stdout, _TeeStream):
            sys.stdout = self._stdout
        if isinstance(sys.stderr, _TeeStream):
            sys.stderr = self._stderr
        return self._spool.close()
