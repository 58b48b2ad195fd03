"""Tail a run's log files into the search index, and watch them for tracebacks.

:class:`LogIndexer` reads what was appended to each log artifact of a run since its
last call (the files stay the source of truth: it reads them back through the
:class:`~runtrack.store.base.ArtifactStore`, so it never slows the pipe that writes
them), splits it into cleaned lines (:mod:`runtrack.runner.logscan`), feeds each
file's :class:`~runtrack.runner.logscan.TracebackScanner` and hands the lines to the
store's optional ``index_log_lines`` (see ``store.base``; a store without it only gets
the tracebacks scanned). :class:`IndexerThread` calls it every second in the
background: the supervisor runs one per submitted run, an interactive run one per
``with run:`` block.

Everything is bounded: at most :data:`STEP_BYTES` read per call, at most
:data:`MAX_PENDING_LINES` lines kept for retry while the store is unreachable (older
ones are then left out of the index, never out of the files).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from runtrack.runner.logscan import LineSplitter, TracebackScanner
from runtrack.store.base import ArtifactStore, LogSearchStore, TrackingStore

log = logging.getLogger("runtrack.runner")

LOG_FOLDERS = ("user_logs", "system_logs", "logs", "azureml-logs")
READ_BYTES = 1 << 20
STEP_BYTES = 16 << 20
MAX_PENDING_LINES = 200_000
BATCH_LINES = 20_000


@dataclass
class _File:
    path: str
    offset: int = 0
    next_line: int = 1  # number of the next line the splitter produces
    splitter: LineSplitter = field(default_factory=LineSplitter)
    scanner: TracebackScanner = field(init=False)
    pending_from: int = 1
    pending: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.scanner = TracebackScanner(self.path)


class LogIndexer:
    """Incremental reader of one run's log files (see the module doc)."""

    def __init__(self, store: TrackingStore, artifacts: ArtifactStore, run_id: str) -> None:
        self.run_id = run_id
        self._artifacts = artifacts
        self._index = store.index_log_lines if isinstance(store, LogSearchStore) else None
        self.files: dict[str, _File] = {}

    def step(self, final: bool = False) -> int:
        """Read what is new (all of it when ``final``); return how many bytes were read."""
        read = 0
        for path, size in self._list():
            f = self.files.get(path)
            if f is None:
                f = self.files[path] = _File(path)
            while f.offset < size and (final or read < STEP_BYTES):
                try:
                    data = self._artifacts.read_range(self.run_id, path, f.offset, READ_BYTES)
                except Exception as exc:  # vanished or unreachable: try again next time
                    log.debug("runtrack: cannot read %s for the log index: %s", path, exc)
                    break
                if not data:
                    break
                f.offset += len(data)
                read += len(data)
                self._lines(f, f.splitter.feed(data))
            if final:
                self._lines(f, f.splitter.flush())
            self._ship(f)
        return read

    def tracebacks(self) -> list[TracebackScanner]:
        """The scanners of files that showed a traceback, by path."""
        return [f.scanner for _, f in sorted(self.files.items()) if f.scanner.count]

    def _list(self) -> list[tuple[str, int]]:
        found: list[tuple[str, int]] = []
        for folder in LOG_FOLDERS:
            try:
                found += [(a.path, a.size) for a in self._artifacts.list(self.run_id, folder)]
            except Exception as exc:
                log.debug("runtrack: cannot list %s/ for the log index: %s", folder, exc)
        return found

    def _lines(self, f: _File, lines: list[str]) -> None:
        for line in lines:
            f.scanner.feed(f.next_line, line)
            f.next_line += 1
        if self._index is None:
            return
        f.pending += lines
        if len(f.pending) > MAX_PENDING_LINES:  # the store is away: keep the newest
            dropped = len(f.pending) - MAX_PENDING_LINES
            del f.pending[:dropped]
            f.pending_from += dropped

    def _ship(self, f: _File) -> None:
        if self._index is None:
            return
        while f.pending:
            part = f.pending[:BATCH_LINES]
            try:
                self._index(self.run_id, f.path, f.pending_from, part)
            except Exception as exc:  # kept; retried on the next step
                log.debug("runtrack: cannot index %s yet: %s", f.path, exc)
                return
            del f.pending[: len(part)]
            f.pending_from += len(part)


class IndexerThread(threading.Thread):
    """Calls :meth:`LogIndexer.step` every ``every`` seconds until :meth:`stop`."""

    def __init__(self, indexer: LogIndexer, every: float = 1.0) -> None:
        super().__init__(name=f"runtrack-logindex-{indexer.run_id}", daemon=True)
        self.indexer = indexer
        self.every = every
        self._stop_event = threading.Event()
        self._lock = threading.Lock()

    def run(self) -> None:
        while not self._stop_event.wait(self.every):
            with self._lock:
                try:
                    self.indexer.step()
                except Exception as exc:  # never take the run down with the index
                    log.debug("runtrack: log index step failed: %s", exc)

    def stop(self) -> LogIndexer:
        """Stop, read everything left, and return the indexer (for its tracebacks)."""
        self._stop_event.set()
        if self.is_alive():
            self.join(30.0)
        with self._lock:
            try:
                self.indexer.step(final=True)
            except Exception as exc:
                log.warning("runtrack: the log index missed the end of the logs: %s", exc)
        return self.indexer
