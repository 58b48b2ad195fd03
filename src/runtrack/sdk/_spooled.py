"""One run's metric streams from this process: spool writers + shipper + flush.

The thread that opened the spool owns the main writer and logs to it without any
lock (the hot path). Each other thread that logs to the run gets a writer (a stream)
of its own, so no two threads ever share a writer. Interactive runs ship from a
daemon thread in this process; inside a submitted run the supervisor ships (it
outlives the script), and ``flush()`` waits for the store to report each stream's
position.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import uuid
import weakref
from pathlib import Path

from runtrack.errors import StoreUnavailableError
from runtrack.spool.shipper import BackgroundShipper, StreamShipper
from runtrack.spool.writer import SpoolWriter
from runtrack.store.base import TrackingStore

log = logging.getLogger("runtrack")

_OPEN: weakref.WeakSet[SpooledMetrics] = weakref.WeakSet()
EXIT_DRAIN_SECONDS = 30.0


def new_stream_name() -> str:
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
        self.folder = spool_dir / run_id
        self.lock = threading.Lock()
        self.owner = threading.get_ident()
        self.writer = SpoolWriter(self.folder, stream or new_stream_name())
        self._writers: dict[int, SpoolWriter] = {self.owner: self.writer}
        self.shipper: BackgroundShipper | None = None
        if ship_in_process:
            self.shipper = BackgroundShipper(
                StreamShipper(store, run_id, self.folder, self.writer.stream)
            )
        self.closed = False
        _OPEN.add(self)

    def writer_for_thread(self) -> SpoolWriter:
        """The calling thread's writer (created on its first use)."""
        ident = threading.get_ident()
        writer = self._writers.get(ident)
        if writer is None:
            with self.lock:
                stream = f"{self.writer.stream}-t{len(self._writers)}"
                writer = SpoolWriter(self.folder, stream)
                self._writers = {**self._writers, ident: writer}
                if self.shipper is not None:
                    self.shipper.add(StreamShipper(self.store, self.run_id, self.folder, stream))
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

    def _last_error(self) -> str:
        err = self.shipper.last_error if self.shipper is not None else None
        return f"last error: {err}" if err else "the shipper is behind"

    def close(self, timeout: float) -> None:
        """End the streams: write their END records, ship everything, remove the files."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
            for writer in self._writers.values():
                writer.close()
            targets = self._targets()
        _OPEN.discard(self)
        ok = self._wait(targets, timeout)
        if self.shipper is not None:
            self.shipper.stop(timeout=1.0 if ok else 0.0)
            if ok:
                for shipper in self.shipper.shippers:
                    shipper.drain()
                    if shipper.done:
                        shipper.remove_files()
        if not ok:
            raise StoreUnavailableError(
                f"could not store the metrics of run {self.run_id} within {timeout:g} s "
                f"({self._last_error()}); they are safe in the spool at {self.folder}: "
                "run `runtrack sync` once the store is reachable"
            )


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
