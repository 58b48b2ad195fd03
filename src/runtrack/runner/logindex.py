"""Tail a run's log files into the search index, and watch them for tracebacks.

:class:`LogIndexer` reads what was appended to each log artifact of a run (the files
stay the source of truth: it reads them back through the
:class:`~runtrack.store.base.ArtifactStore`, so it never slows the pipe that writes
them) in two independent passes, each with its own position in each file:

* :meth:`LogIndexer.scan` splits the new bytes into cleaned lines
  (:mod:`runtrack.runner.logscan`) and feeds each file's
  :class:`~runtrack.runner.logscan.TracebackScanner` (cheap: a million lines in well
  under a second);
* :meth:`LogIndexer.index` reads, splits and hands lines to the store's optional
  ``index_log_lines`` (see ``store.base``), :data:`BATCH_LINES` per call (one
  transaction each), reading only as fast as the store takes them: nothing piles up in
  memory when the store is slow or away (a batch that failed is retried first).

:class:`IndexerThread` runs the two passes in two threads (the index one at a lower
CPU priority), so traceback scanning never waits for the index: the supervisor runs
one per submitted run and ends the run as soon as its processes ended and their logs
are stored and scanned (the error is explained from the tracebacks); the index
catches up shortly after, before the supervisor process exits. An interactive run
runs one per ``with run:`` block and waits for the index at its end.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import dataclass, field

from runtrack.runner.logscan import LineSplitter, TracebackScanner
from runtrack.store.base import ArtifactStore, LogSearchStore, TrackingStore

log = logging.getLogger("runtrack.runner")

LOG_FOLDERS = ("user_logs", "system_logs", "logs", "azureml-logs")
READ_BYTES = 1 << 20
#: bytes a pass reads per file per call, unless it is the final one
STEP_BYTES = 16 << 20
BATCH_LINES = 20_000
#: what LogIndexer.index returns
CAUGHT_UP, MORE, FAILED = "caught up", "more", "failed"
#: added to the index thread's nice value (Linux)
WRITER_NICENESS = 10


@dataclass
class _Pass:
    """One pass's position in one file."""

    offset: int = 0
    next_line: int = 1  # number of the next line the splitter produces
    splitter: LineSplitter = field(default_factory=LineSplitter)

    def lines(self, data: bytes) -> tuple[int, list[str]]:
        """The complete lines ``data`` ends (after what came before) and the number of
        the first of them."""
        self.offset += len(data)
        return self._numbered(self.splitter.feed(data))

    def rest(self) -> tuple[int, list[str]]:
        """The unterminated last line, when the file is complete."""
        return self._numbered(self.splitter.flush())

    def _numbered(self, lines: list[str]) -> tuple[int, list[str]]:
        first = self.next_line
        self.next_line += len(lines)
        return first, lines


@dataclass
class _File:
    path: str
    scanned: _Pass = field(default_factory=_Pass)
    indexed: _Pass = field(default_factory=_Pass)
    scanner: TracebackScanner = field(init=False)
    pending_from: int = 1  # lines read by the index pass, not yet in the index
    pending: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.scanner = TracebackScanner(self.path)


class LogIndexer:
    """Incremental reader of one run's log files (see the module doc).

    :meth:`scan` and :meth:`index` may run in two threads at once (each touches only
    its own pass); :meth:`step` runs both in the caller's thread.
    """

    def __init__(self, store: TrackingStore, artifacts: ArtifactStore, run_id: str) -> None:
        self.run_id = run_id
        self._artifacts = artifacts
        self._index = store.index_log_lines if isinstance(store, LogSearchStore) else None
        self.files: dict[str, _File] = {}
        self._files_lock = threading.Lock()

    def step(self, final: bool = False) -> int:
        """:meth:`scan` then :meth:`index`; return how many bytes were scanned."""
        read = self.scan(final)
        self.index(final)
        return read

    def scan(self, final: bool = False) -> int:
        """Scan what is new for tracebacks (all of it when ``final``: the files are
        complete); return how many bytes were read."""
        read = 0
        for f, size in self._files():
            while f.scanned.offset < size and (final or read < STEP_BYTES):
                data = self._read(f, f.scanned.offset)
                if not data:
                    break
                read += len(data)
                f.scanner.feed_lines(*f.scanned.lines(data))
            if final:
                f.scanner.feed_lines(*f.scanned.rest())
        return read

    def index(self, final: bool = False) -> str:
        """Put what is new in the index (all of it when ``final``). Returns
        :data:`CAUGHT_UP` (as far as the files were listed), :data:`MORE` (it stopped
        after :data:`STEP_BYTES` of a file) or :data:`FAILED` (the store refused a
        batch; it is retried first on the next call)."""
        if self._index is None:
            return CAUGHT_UP
        for f, size in self._files():
            read = 0
            while True:
                if not self._ship(f):
                    return FAILED
                if f.indexed.offset >= size:
                    break
                if read >= STEP_BYTES and not final:
                    return MORE
                data = self._read(f, f.indexed.offset)
                if not data:
                    break
                read += len(data)
                self._queue(f, *f.indexed.lines(data))
            if final:
                self._queue(f, *f.indexed.rest())
                if not self._ship(f):
                    return FAILED
        return CAUGHT_UP

    def tracebacks(self) -> list[TracebackScanner]:
        """The scanners of files that showed a traceback, by path."""
        with self._files_lock:
            files = sorted(self.files.items())
        return [f.scanner for _, f in files if f.scanner.count]

    def _files(self) -> list[tuple[_File, int]]:
        found: list[tuple[_File, int]] = []
        for folder in LOG_FOLDERS:
            try:
                listed = self._artifacts.list(self.run_id, folder)
            except Exception as exc:
                log.debug("runtrack: cannot list %s/ for the log index: %s", folder, exc)
                continue
            for a in listed:
                with self._files_lock:
                    f = self.files.get(a.path)
                    if f is None:
                        f = self.files[a.path] = _File(a.path)
                found.append((f, a.size))
        return found

    def _read(self, f: _File, offset: int) -> bytes:
        try:
            return self._artifacts.read_range(self.run_id, f.path, offset, READ_BYTES)
        except Exception as exc:  # vanished or unreachable: try again next time
            log.debug("runtrack: cannot read %s for the log index: %s", f.path, exc)
            return b""

    @staticmethod
    def _queue(f: _File, first: int, lines: list[str]) -> None:
        if not f.pending:
            f.pending_from = first
        f.pending += lines

    def _ship(self, f: _File) -> bool:
        """Write ``f``'s pending lines; False (they stay pending) if the store failed."""
        assert self._index is not None
        while f.pending:
            part = f.pending[:BATCH_LINES]
            try:
                self._index(self.run_id, f.path, f.pending_from, part)
            except Exception as exc:
                log.debug("runtrack: cannot index %s yet: %s", f.path, exc)
                return False
            del f.pending[: len(part)]
            f.pending_from += len(part)
        return True


class IndexerThread(threading.Thread):
    """Scans the logs every ``every`` seconds (:meth:`LogIndexer.scan`) while a second
    thread, at a lower CPU priority where the OS allows it, keeps the index up with
    them (:meth:`LogIndexer.index`).

    At the end of a run, :meth:`stop_reading` scans what is left and returns the
    indexer (its tracebacks are complete then) without waiting for the index;
    :meth:`wait_indexed` then waits for it. :meth:`stop` does both.
    """

    def __init__(
        self, indexer: LogIndexer, every: float = 1.0, lower_priority: bool = True
    ) -> None:
        super().__init__(name=f"runtrack-logindex-{indexer.run_id}", daemon=True)
        self.indexer = indexer
        self.every = every
        #: False in a process whose store serves many runs: a writer thread holding the
        #: store's write lock at a lower priority would stall every other run's writes
        self.lower_priority = lower_priority
        self._stop_event = threading.Event()
        self._closing = threading.Event()  # the files are complete: index all, then end
        self._give_up = threading.Event()  # wait_indexed timed out: stop retrying
        self._done = False
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
                    self.indexer.scan()
                except Exception as exc:  # never take the run down with the index
                    log.debug("runtrack: log scan failed: %s", exc)

    def _write(self) -> None:
        if self.lower_priority:
            _lower_priority()
        state = CAUGHT_UP
        while not self._give_up.is_set():
            if state == FAILED:  # the store is away: retry after a pause
                self._give_up.wait(self.every)
            elif state == CAUGHT_UP:  # wait for more lines (MORE: go on at once)
                self._closing.wait(self.every)
            closing = self._closing.is_set()
            try:
                state = self.indexer.index(final=closing)
            except Exception as exc:
                log.debug("runtrack: log index write failed: %s", exc)
                state = FAILED
            if closing and state == CAUGHT_UP:
                self._done = True
                return

    def stop_reading(self) -> LogIndexer:
        """Stop, scan everything left, and return the indexer (for its tracebacks); the
        index goes on (see :meth:`wait_indexed`)."""
        self._stop_event.set()
        if self.is_alive():
            self.join(30.0)
        with self._lock:
            try:
                self.indexer.scan(final=True)
            except Exception as exc:
                log.warning("runtrack: the log scan missed the end of the logs: %s", exc)
        return self.indexer

    def wait_indexed(self, timeout: float) -> bool:
        """After :meth:`stop_reading`, once nothing more will be written to the logs (the
        supervisor's own last lines included): wait up to ``timeout`` seconds for the
        index to hold every line of them; False (logged) if the store did not take them."""
        self._closing.set()
        if self._writer.is_alive():
            self._writer.join(timeout)
        self._give_up.set()
        if not self._done and self._writer.ident is not None:
            log.warning("runtrack: the search index of run %s misses some of its log lines "
                        "(the log files hold them all)", self.indexer.run_id)
        return self._done

    def stop(self, timeout: float = 60.0) -> LogIndexer:
        """Stop, scan and index everything left, and return the indexer."""
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
            log.debug("runtrack: cannot lower the log index thread's priority: %s", exc)
