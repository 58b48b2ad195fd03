"""Move committed spool records into a TrackingStore, exactly once.

The store applies batches idempotently by sequence number, so the shipper may
always resend: after a crash, after a timeout, or when two shippers race. The
acknowledged position is also written next to the segments (``<stream>.ack``) so
a restart need not re-read what the store already has, and fully shipped segments
are deleted.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import threading
import time
from pathlib import Path

from runtrack.model import MetricBatch
from runtrack.spool.reader import Position, SpoolReader
from runtrack.spool.starter import STARTER
from runtrack.spool.writer import lock_path, segment_path
from runtrack.store.base import TrackingStore

log = logging.getLogger("runtrack.spool")

BATCH_POINTS = 100_000  # = limits.MAX_BATCH_RECORDS: a batch's fixed cost is ~10 ms
IDLE_SLEEP = 0.05
MAX_PAUSE = 0.5  # while points stream in, wait up to this long to fill a batch
MAX_BACKOFF = 5.0


def ack_path(folder: Path, stream: str) -> Path:
    return folder / f"{stream}.ack"


def load_position(folder: Path, stream: str) -> Position | None:
    try:
        return Position.from_json(ack_path(folder, stream).read_text())
    except (OSError, ValueError, KeyError):
        return None


class StreamShipper:
    """Ships one stream of one run; ``step()`` does one bounded unit of work."""

    def __init__(
        self,
        store: TrackingStore,
        run_id: str,
        folder: Path,
        stream: str,
        *,
        memory: dict[int, mmap.mmap] | None = None,
        new: bool = False,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.folder = folder
        self.stream = stream
        self.memory = memory  # the writer's in-memory segments (same process only)
        # ``new``: the stream's writer (in this process) has just made it: no position
        start = None if new else load_position(folder, stream)
        #: whether ``<stream>.ack`` may exist (found at the start, or written since)
        self._ack_file = start is not None
        self.reader = SpoolReader(folder, stream, start, memory=memory, own=new)
        self.shipped = self.reader.pos.seq
        self.behind = False  # the last read was cut at BATCH_POINTS: more is waiting
        #: record each acknowledged position in ``<stream>.ack`` and delete the segments
        #: before it; off while a closing run ships its rest (its files go right after,
        #: and a crash before that only makes recovery resend what the store skips)
        self.record_position = True
        self._pending: MetricBatch | None = None
        self._pending_end: Position | None = None

    @property
    def done(self) -> bool:
        """The writer closed the stream and every point is in the store."""
        return self.reader.finished and self._pending is None

    def step(self) -> int:
        """Send at most one batch; return the number of points the store accepted.

        Raises whatever the store raises; the batch is kept and resent next time.
        """
        if self._pending is None:
            chunk = self.reader.read(BATCH_POINTS)
            self.behind = len(chunk.records) >= BATCH_POINTS
            if not chunk.records and not chunk.descriptions:
                # points skipped as undecodable count as handled (flush() waits for them)
                self.shipped = chunk.end.seq + self.reader.skipped
                self._acknowledge(chunk.end)
                return 0
            if chunk.columns is not None:
                self._pending = MetricBatch.from_columns(
                    self.stream, chunk.first_seq, chunk.columns, chunk.descriptions
                )
            else:
                self._pending = MetricBatch(
                    self.stream, chunk.first_seq, chunk.records, chunk.descriptions
                )
            self._pending_end = chunk.end
        batch, end = self._pending, self._pending_end
        assert batch is not None and end is not None
        self.store.ingest(self.run_id, batch)
        self._pending = self._pending_end = None
        self.shipped = batch.first_seq + len(batch.records) + self.reader.skipped
        self._acknowledge(end)
        return len(batch.records)

    def _acknowledge(self, end: Position) -> None:
        if self.memory:
            for number in [n for n in self.memory if n < end.segment]:
                del self.memory[number]  # shipped: the writer may use the room again
        if not self.record_position:
            return
        path = ack_path(self.folder, self.stream)
        tmp = path.with_suffix(".ack.tmp")
        try:
            self._ack_file = True
            tmp.write_text(end.to_json())
            os.replace(tmp, path)
        except OSError as exc:  # full disk: keep the segments, a restart resends them
            log.debug("runtrack: cannot record the spool position: %s", exc)
            return
        for number in range(end.segment - 1, -1, -1):
            old = segment_path(self.folder, self.stream, number)
            if not old.exists():
                break
            old.unlink(missing_ok=True)  # another shipper of the stream may be first

    def drain(self) -> int:
        """Ship until nothing is left to read now; return points shipped."""
        total = 0
        while True:
            n = self.step()
            total += n
            if n == 0 and self._pending is None:
                return total

    @property
    def wrote_position(self) -> bool:
        """Whether the stream has a position file (``.ack``) next to its segments."""
        return self._ack_file

    def remove_files(self) -> None:
        """Delete the stream's files (only once it is ``done``), and the run's folder
        when nothing else is left in it.

        The files a stream leaves are known (its segments up to the reader's, its lock
        and position files), so they are removed by name; only a folder that is still
        not empty then (other streams, or a crash's leftovers) is searched."""
        self.reader.close()
        for number in range(self.reader.pos.segment, -1, -1):
            try:
                os.unlink(segment_path(self.folder, self.stream, number))
            except FileNotFoundError:
                if number < self.reader.pos.segment:
                    break  # the ones before were removed as they were acknowledged
        paths = [lock_path(self.folder, self.stream)]
        if self._ack_file:  # a closing run's shipper usually wrote none
            paths.append(ack_path(self.folder, self.stream))
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        try:
            self.folder.rmdir()
        except OSError:
            for path in self.folder.glob(f"{self.stream}.*"):
                path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                self.folder.rmdir()


def _pause(shipped: int, since: float) -> float:
    """How long to wait after shipping ``shipped`` points gathered over ``since``
    seconds: long enough that the next batch is about half full, so a hot training
    loop pays a batch's fixed cost (SQL statements, a transaction) rarely and keeps the
    GIL to itself in between. A ``flush()`` wakes the shipper at once."""
    if shipped <= 0 or since <= 0:
        return IDLE_SLEEP
    return min(MAX_PAUSE, max(IDLE_SLEEP, 0.5 * BATCH_POINTS * since / shipped))


class BackgroundShipper:
    """A daemon thread that ships the streams of one run as they are written.

    The thread starts once the run has lasted ``MAX_PAUSE`` (through
    :data:`runtrack.spool.starter.STARTER`: a run that ends sooner ships once, from
    ``complete()``, and starts no thread), or
    at once when something waits for it (``wait_for``, ``finish_in_background``);
    ``take_over`` before that means it never starts.

    Store errors never reach the training code: they are logged (once per kind of
    error) and retried with back-off while the spool keeps everything on disk.
    """

    def __init__(self, shipper: StreamShipper) -> None:
        self.shippers = [shipper]
        self.run_id = shipper.run_id
        self.last_error: BaseException | None = None
        self.failing_since: float | None = None  # monotonic time of the first error in a row
        self._remove_when_done = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._progress = threading.Condition()
        self._stop_deadline = 0.0
        #: held while the thread steps; whoever sets ``_halted`` under it owns the streams
        self._step_lock = threading.Lock()
        self._halted = False
        #: made when started (a short run, taken over before, never makes one)
        self._thread: threading.Thread | None = None
        #: set once the thread was started, or will never be (taken over first)
        self._launched = threading.Event()
        STARTER.add(self, time.monotonic() + MAX_PAUSE)

    def __repr__(self) -> str:
        return f"the shipper of run {self.run_id}"

    def start(self) -> None:
        """Start the thread now, unless it runs already or the shipper was taken over."""
        if self._launched.is_set():
            return
        with self._step_lock:
            if not self._launched.is_set():
                if not self._halted:
                    self._thread = threading.Thread(
                        target=self._loop, name=f"runtrack-shipper-{self.run_id}", daemon=True
                    )
                    self._thread.start()
                self._launched.set()

    def add(self, shipper: StreamShipper) -> None:
        """Ship one more stream of the run (another thread's writer)."""
        self.shippers = [*self.shippers, shipper]

    def _step_all(self) -> int:
        return sum(shipper.step() for shipper in self.shippers)

    def _loop(self) -> None:
        try:
            self._ship()
        finally:
            if self._remove_when_done:  # abandoned: nobody else will clean up
                for shipper in self.shippers:
                    if shipper.done:
                        shipper.remove_files()
                    shipper.reader.close()

    def _ship(self) -> None:
        # started MAX_PAUSE into the run, or by a wait: ship at once
        self._wake.clear()
        backoff = 0.05
        last = time.monotonic()
        while True:
            # a stop seen before the read: the writers were closed before it was set, so
            # an empty read then means the end. One set during the read may have come with
            # the last points after the read looked: read once more before ending.
            stopping = self._stop.is_set()
            try:
                with self._step_lock:
                    if self._halted:
                        return
                    n = self._step_all()
            except Exception as exc:  # the training process must never die of this
                if type(exc) is not type(self.last_error):
                    log.warning("runtrack: cannot ship metrics yet (%s); will retry", exc)
                self.last_error = exc
                if self.failing_since is None:
                    self.failing_since = time.monotonic()
                with self._progress:
                    self._progress.notify_all()
                if self._stop.is_set() and self._stop_deadline < time.monotonic():
                    return
                self._wake.wait(backoff)
                self._wake.clear()
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            if self.last_error is not None:
                log.info("runtrack: shipping metrics again")
            self.last_error = None
            self.failing_since = None
            backoff = 0.05
            with self._progress:
                self._progress.notify_all()
            if n and (self._stop.is_set() or any(s.behind for s in self.shippers)):
                continue  # a backlog: ship the next full batch right away
            if stopping:
                return
            self._wake.wait(_pause(n, time.monotonic() - last))
            last = time.monotonic()
            self._wake.clear()

    def shipped(self) -> dict[str, int]:
        return {s.stream: s.shipped for s in self.shippers}

    def wait_for(self, targets: dict[str, int], timeout: float) -> bool:
        """Block until the store holds every point below ``targets[stream]`` of each
        stream; False on timeout."""
        deadline = time.monotonic() + timeout
        self.start()

        def reached() -> bool:
            done = self.shipped()
            return all(done.get(stream, 0) >= seq for stream, seq in targets.items())

        with self._progress:
            while not reached():
                self._wake.set()
                left = deadline - time.monotonic()
                if left <= 0 or not self.running:
                    return reached()
                self._progress.wait(min(left, 0.1))
        return True

    def take_over(self) -> None:
        """End the thread's shipping without waiting for it: it finishes the step it is
        in (if any) and ships nothing more, so the caller may drive ``shippers`` itself
        (one shipper per stream at a time). Ending a run this way costs no thread
        hand-off: the caller ships the rest, the thread exits when it next wakes."""
        with self._step_lock:
            self._halted = True
            self._launched.set()  # not started by now: never
        self._wake.set()

    def finish_in_background(self, timeout: float) -> None:
        """Ship what is readable for up to ``timeout`` s, remove finished streams' files
        and end the thread, without waiting for it (for a run nobody holds any more)."""
        self._remove_when_done = True
        self._stop_deadline = time.monotonic() + timeout
        self._stop.set()
        self._wake.set()
        self.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` s for the thread to end (after a stop or finish)."""
        deadline = time.monotonic() + timeout
        thread = self._thread if self._launched.wait(max(timeout, 0.0)) else None
        if thread is not None:
            thread.join(max(deadline - time.monotonic(), 0.0))
