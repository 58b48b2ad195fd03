"""One run's metric streams from this process: spool writers + shipper + flush.

The thread that opened the spool owns the main writer and logs to it without any
lock (the hot path). Each other thread that logs to the run gets a writer (a stream)
of its own, so no two threads ever share a writer. Interactive runs ship from a
daemon thread in this process; inside a submitted run the supervisor ships (it
outlives the script), and ``flush()`` waits for the store to report each stream's
position.

A ``SpooledMetrics`` that becomes garbage without ``close()`` (a run never completed)
ends its streams, lets its shipper finish in the background and releases the
thread, mappings and file descriptors; open ones are closed at interpreter exit, and
the exit waits for shippers still finishing such streams (bounded; an outage ends it).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from runtrack.errors import StoreUnavailableError
from runtrack.spool import spare as spares
from runtrack.spool.writer import SpareStream, SpoolWriter
from runtrack.store.base import TrackingStore

if TYPE_CHECKING:  # the shipper (reader, numpy decoding) loads with the first spool
    from runtrack.spool.shipper import BackgroundShipper, StreamShipper

log = logging.getLogger("runtrack")

_OPEN: weakref.WeakSet[SpooledMetrics] = weakref.WeakSet()
#: shippers finishing a stream nobody holds; the interpreter waits for them at exit
#: (weak: a shipper's running thread keeps it alive, so a finished one drops out and
#: takes its readers with it)
_FINISHING: weakref.WeakSet[BackgroundShipper] = weakref.WeakSet()
EXIT_DRAIN_SECONDS = 30.0
OUTAGE_GIVE_UP_SECONDS = 10.0  # close() stops waiting once the store failed this long


def new_stream_name() -> str:
    import uuid  # (platform) not at import time

    return f"p{os.getpid()}-{uuid.uuid4().hex[:8]}"


class SpooledMetrics:
    """Owns the spool writers of (run, this process) and whoever ships them."""

    def __init__(
        self,
        store: TrackingStore,
        run_id: str,
        spool_dir: Path,
        *,
        ship_in_process: bool = True,
        stream: str | None = None,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.spool_dir = spool_dir
        self.folder = spool_dir / run_id
        self.lock = threading.Lock()
        self.owner = threading.get_ident()
        # a run shipped from here may take the process's spare folder (spool.spare)
        name = stream or new_stream_name()
        spare = spares.take(spool_dir, self.folder, name) if ship_in_process else None
        self.writer = SpoolWriter(self.folder, name, spare=spare)
        self._writers: dict[int, SpoolWriter] = {self.owner: self.writer}
        self.shipper: BackgroundShipper | None = None
        if ship_in_process:
            from runtrack.spool.shipper import BackgroundShipper

            self.shipper = BackgroundShipper(self._stream_shipper(self.writer))
        self.closed = False
        _OPEN.add(self)
        # garbage without close(): end the streams, free thread, mappings and fds
        holder = [self._writers]
        self._holder = holder
        self._finalizer = weakref.finalize(self, _abandon, holder, self.shipper)
        self._finalizer.atexit = False  # _drain_at_exit closes what is still open

    def _stream_shipper(self, writer: SpoolWriter) -> StreamShipper:
        """The shipper of a stream whose ``writer`` was made just now."""
        from runtrack.spool.shipper import StreamShipper

        shipper = StreamShipper(
            self.store, self.run_id, self.folder, writer.stream, memory=writer.memory, new=True
        )
        writer.shipped_seq = lambda: shipper.shipped  # shipped segments need no checksum
        return shipper

    def writer_for_thread(self) -> SpoolWriter:
        """The calling thread's writer (created on its first use)."""
        ident = threading.get_ident()
        writer = self._writers.get(ident)
        if writer is None:
            with self.lock:
                stream = f"{self.writer.stream}-t{len(self._writers)}"
                writer = SpoolWriter(self.folder, stream)
                self._writers = {**self._writers, ident: writer}
                self._holder[0] = self._writers
                if self.shipper is not None:
                    self.shipper.add(self._stream_shipper(writer))
        return writer

    def _targets(self) -> dict[str, int]:
        return {w.stream: w.seq for w in self._writers.values()}

    def flush(self, timeout: float) -> None:
        """Return once every point written so far is queryable in the store."""
        if self._wait(self._targets(), timeout):
            return
        raise StoreUnavailableError(
            f"could not store the metrics of run {self.run_id} within {timeout:g} s "
            f"({self._last_error()}); they are safe in the spool at {self.folder} and "
            "`runtrack sync` ships them once the store is reachable"
        )

    def _wait(self, targets: dict[str, int], timeout: float) -> bool:
        if self.shipper is not None:
            return self.shipper.wait_for(targets, timeout)
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            try:
                if all(
                    self.store.ingest_position(self.run_id, stream) >= seq
                    for stream, seq in targets.items()
                ):
                    return True
            except Exception as exc:  # store down: keep waiting until the deadline
                log.debug("runtrack: flush is waiting for the store: %s", exc)
            if time.monotonic() > deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def _ship_rest(self, targets: dict[str, int], timeout: float) -> bool:
        """Ship every stream to its end from this thread (after ``take_over``); retry a
        failing store until ``timeout``, or until it has failed for
        ``OUTAGE_GIVE_UP_SECONDS`` in a row (counted from the shipper's first failure)."""
        assert self.shipper is not None
        background = self.shipper
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            try:
                for shipper in background.shippers:
                    shipper.drain()
                return all(background.shipped().get(s, 0) >= seq for s, seq in targets.items())
            except Exception as exc:  # store down: retry, the spool keeps every point
                background.last_error = exc
                now = time.monotonic()
                if background.failing_since is None:
                    background.failing_since = now
                if now - background.failing_since > OUTAGE_GIVE_UP_SECONDS or now > deadline:
                    return False
                log.debug("runtrack: closing run %s waits for the store: %s", self.run_id, exc)
                time.sleep(min(delay, max(deadline - now, 0.0)))
                delay = min(delay * 2, 1.0)

    def _keep_spare(self, shipper: StreamShipper, kept: SpareStream) -> bool:
        """Keep the stream's folder as the process's spare (all of it is stored; the
        one stream's, since only a writer alone keeps its files)."""
        if shipper.wrote_position:
            return False
        shipper.reader.close()
        return spares.keep(self.spool_dir, self.folder, kept)

    def _last_error(self) -> str:
        err = self.shipper.last_error if self.shipper is not None else None
        return f"last error: {err}" if err else "the shipper is behind"

    def close(self, timeout: float) -> None:
        """End the streams: write their END records, ship everything, remove the files."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
            self._finalizer.detach()
            # one stream, shipped from here: its files may become the spare folder
            keep = self.shipper is not None and len(self._writers) == 1
            for writer in self._writers.values():
                writer.close(keep_files=keep)
            targets = self._targets()
        _OPEN.discard(self)
        # shipped by the supervisor, which drains the streams to their END once this
        # process has exited: nothing to wait for here
        if self.shipper is None:
            return
        # the rest ships from this thread: waking the shipper's thread and waiting for
        # it cost a short run two thread hand-offs (most of its wall time on a busy host)
        kept = None
        try:
            self.shipper.take_over()
            for shipper in self.shipper.shippers:
                shipper.record_position = False  # the files are removed once all is stored
            ok = self._ship_rest(targets, timeout)
            kept = self.writer.kept_files()
            for shipper in self.shipper.shippers:
                if ok and shipper.done:
                    if kept is not None and self._keep_spare(shipper, kept):
                        kept = None
                    else:
                        shipper.remove_files()
                else:
                    shipper.reader.close()
        finally:  # the files the writer kept open for the spare, unless it has them now
            if kept is not None:
                kept.close()
            self.writer.release()
        if not ok:
            raise StoreUnavailableError(
                f"could not store the metrics of run {self.run_id} within {timeout:g} s "
                f"({self._last_error()}); they are safe in the spool at {self.folder}: "
                "run `runtrack sync` once the store is reachable"
            )


def _abandon(holder: list[dict[int, SpoolWriter]], shipper: BackgroundShipper | None) -> None:
    """Finalizer of a SpooledMetrics that was never closed (must not reference it)."""
    for writer in holder[0].values():
        try:
            writer.close()
        except Exception as exc:  # a finalizer must not raise
            log.debug("runtrack: closing an abandoned spool stream: %s", exc)
    if shipper is not None:
        _finish_in_background(shipper)


def _finish_in_background(shipper: BackgroundShipper) -> None:
    """Let ``shipper`` finish on its own thread; exit waits for it (a daemon thread
    would otherwise be cut off with points still in the spool)."""
    _FINISHING.add(shipper)
    shipper.finish_in_background(EXIT_DRAIN_SECONDS)


def flush_run(run_id: str, timeout: float) -> None:
    """Flush every open stream of ``run_id`` in this process (reads see all of it)."""
    for spooled in list(_OPEN):
        if spooled.run_id == run_id and not spooled.closed:
            spooled.flush(timeout)


@atexit.register
def _drain_at_exit() -> None:
    for spooled in list(_OPEN):
        try:
            spooled.close(EXIT_DRAIN_SECONDS)
        except Exception as exc:
            log.warning("runtrack: %s", exc)
    deadline = time.monotonic() + EXIT_DRAIN_SECONDS
    for shipper in list(_FINISHING):  # an outage ends the wait early: the spool keeps the rest
        while shipper.running and time.monotonic() < deadline:
            failing = shipper.failing_since
            if failing is not None and time.monotonic() - failing > OUTAGE_GIVE_UP_SECONDS:
                log.warning(
                    "runtrack: the store is unreachable; run %s keeps its unshipped metrics "
                    "in the spool until `runtrack sync`", shipper.run_id,
                )
                break
            shipper.join(0.1)
