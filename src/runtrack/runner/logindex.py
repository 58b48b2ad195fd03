"""Tail a run's log files into the search index, and watch them for tracebacks.

:class:`LogIndexer` reads what was appended to each log artifact of a run since its
last call (the files stay the source of truth: it reads them back through the
:class:`~runtrack.store.base.ArtifactStore`, so it never slows the pipe that writes
them), splits it into cleaned lines (:mod:`runtrack.runner.logscan`), feeds each
file's :class:`~runtrack.runner.logscan.TracebackScanner` and queues the lines for the
store's optional ``index_log_lines`` (see ``store.base``; a store without it only gets
the tracebacks scanned), which takes them :data:`BATCH_LINES` per call (one
transaction each).

:class:`IndexerThread` reads every second in the background and writes to the index
from a second thread, so reading and traceback scanning never wait for the index:
the supervisor runs one per submitted run and ends the run as soon as its processes
ended and their logs are stored and read (the error is explained from the
tracebacks); the index catches up shortly after, before the supervisor process exits.
An interactive run runs one per ``with run:`` block and waits for the index at its end.

Everything is bounded: at most :data:`STEP_BYTES` read per call, at most
:data:`MAX_PENDING_LINES` lines per file queued (while the store is unreachable or
slower than the logs, older ones are then left out of the index, never out of the
files).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import dataclass, field

from runtrack.runner.logscan import LineSplitter, TracebackScanner
from runtrack.store.base import ArtifactStore, TrackingStore

log = logging.getLogger("runtrack.runner")

LOG_FOLDERS = ("user_logs", "system_logs", "logs", "azureml-logs")
READ_BYTES = 1 << 20
STEP_BYTES = 16 << 20
MAX_PENDING_LINES = 200_000
BATCH_LINES = 20_000
#: added to the writer thread's nice value (Linux)
WRITER_NICENESS = 10


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
    """Incremental reader of one run's log files (see the module doc).

    :meth:`read` (reading, splitting, traceback scanning: cheap) and :meth:`ship`
    (the index writes: the costly part) may run in two threads, so the reader never
    waits for the store; :meth:`step` does both in the caller's thread.
    """

    def __init__(self, store: TrackingStore, artifacts: ArtifactStore, run_id: str) -> None:
        self.run_id = run_id
        self._artifacts = artifacts
        self._index = getattr(store, "index_log_lines", None)
        self.files: dict[str, _File] = {}
        self._lock = threading.Lock()  # guards each file's pending lines

    def step(self, final: bool = False) -> int:
        """:meth:`read` then :meth:`ship`; return how many bytes were read."""
        read = self.read(final)
        self.ship()
        return read

    def read(self, final: bool = False) -> int:
        """Read what is new (all of it when ``final``), scan it, queue its lines for the
        index; return how many bytes were read."""
        read = 0
        for path, size in self._list():
            f = self.files.get(path)
            if f is None:
                with self._lock:
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
        return read

    @property
    def pending(self) -> int:
        """Lines read but not in the index yet."""
        with self._lock:
            return sum(len(f.pending) for f in self.files.values())

    def ship(self) -> int:
        """Write the queued lines to the index, :data:`BATCH_LINES` per call (one
        transaction each); return how many were written. Stops at the first failure
        (the lines stay queued for the next call)."""
        if self._index is None:
            return 0
        shipped = 0
        with self._lock:
            files = list(self.files.values())
        for f in files:
            while True:
                with self._lock:
                    first, part = f.pending_from, f.pending[:BATCH_LINES]
                if not part:
                    break
                try:
                    self._index(self.run_id, f.path, first, part)
                except Exception as exc:  # kept; retried on the next call
                    log.debug("runtrack: cannot index %s yet: %s", f.path, exc)
                    return shipped
                shipped += len(part)
                with self._lock:  # the reader may have dropped old lines meanwhile
                    done = first + len(part) - f.pending_from
                    if done > 0:
                        del f.pending[:done]
                        f.pending_from += done
        return shipped

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
        f.scanner.feed_lines(f.next_line, lines)
        f.next_line += len(lines)
        if self._index is None or not lines:
            return
        with self._lock:
            f.pending += lines
            if len(f.pending) > MAX_PENDING_LINES:  # the store is away: keep the newest
                dropped = len(f.pending) - MAX_PENDING_LINES
                del f.pending[:dropped]
                f.pending_from += dropped


class IndexerThread(threading.Thread):
    """Reads the logs every ``every`` seconds (:meth:`LogIndexer.read`) while a second
    thread, at a lower CPU priority where the OS allows it, writes what was read to the
    index (:meth:`LogIndexer.ship`).

    At the end of a run, :meth:`stop_reading` reads what is left and returns the
    indexer (its tracebacks are complete then) without waiting for the index;
    :meth:`wait_indexed` then waits for the writes. :meth:`stop` does both.
    """

    def __init__(self, indexer: LogIndexer, every: float = 1.0) -> None:
        super().__init__(name=f"runtrack-logindex-{indexer.run_id}", daemon=True)
        self.indexer = indexer
        self.every = every
        self._stop_event = threading.Event()
        self._closing = threading.Event()  # no more lines will come: write and end
        self._work = threading.Event()
        self._give_up = threading.Event()  # wait_indexed timed out: stop retrying
        self._lock = threading.Lock()
        self._writer = threading.Thread(
            target=self._write, name=f"runtrack-logindex-write-{indexer.run_id}", daemon=True
        )

    def start(self) -> None:
        super().start()
        self._writer.start()

    def run(self) -> None:
        while not self._stop_event.wait(self.every):
            with self._lock:
                try:
                    if self.indexer.read():
                        self._work.set()
                except Exception as exc:  # never take the run down with the index
                    log.debug("runtrack: log index step failed: %s", exc)

    def _write(self) -> None:
        _lower_priority()
        while True:
            closing = self._closing.is_set()
            self._work.wait(self.every)
            self._work.clear()
            try:
                self.indexer.ship()
            except Exception as exc:
                log.debug("runtrack: log index write failed: %s", exc)
            if (closing and not self.indexer.pending) or self._give_up.is_set():
                return

    def stop_reading(self) -> LogIndexer:
        """Stop reading, read everything left, and return the indexer (for its
        tracebacks); the index writes go on (see :meth:`wait_indexed`)."""
        self._stop_event.set()
        if self.is_alive():
            self.join(30.0)
        with self._lock:
            try:
                self.indexer.read(final=True)
            except Exception as exc:
                log.warning("runtrack: the log index missed the end of the logs: %s", exc)
        self._closing.set()
        self._work.set()
        return self.indexer

    def wait_indexed(self, timeout: float) -> bool:
        """After :meth:`stop_reading`: wait up to ``timeout`` seconds for every line read
        to be in the index; False (lines left out, logged) if the store did not take them."""
        if self._writer.is_alive():
            self._writer.join(timeout)
        self._give_up.set()
        left = self.indexer.pending
        if left:
            log.warning("runtrack: %d log lines of run %s were left out of the search index "
                        "(the log files hold them)", left, self.indexer.run_id)
        return not left

    def stop(self, timeout: float = 60.0) -> LogIndexer:
        """Stop, read and index everything left, and return the indexer."""
        indexer = self.stop_reading()
        self.wait_indexed(timeout)
        return indexer


def _lower_priority() -> None:
    """Give the calling thread a lower CPU priority (Linux: per thread), so the index
    writes yield to the run's own processes on a busy machine."""
    if sys.platform.startswith("linux"):
        try:
            tid = threading.get_native_id()
            nice = os.getpriority(os.PRIO_PROCESS, tid)
            os.setpriority(os.PRIO_PROCESS, tid, min(19, nice + WRITER_NICENESS))
        except (AttributeError, OSError) as exc:
            log.debug("runtrack: cannot lower the log index writer's priority: %s", exc)
