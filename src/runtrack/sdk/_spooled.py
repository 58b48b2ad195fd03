"""One run's metric stream from this process: spool writer + shipper + flush.

Interactive runs ship from a daemon thread in this process; inside a submitted run
the supervisor ships (it outlives the script), and ``flush()`` waits for the store
to report the stream's position.
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
    """Owns the spool writer of (run, this process) and whoever ships it."""

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
        self.writer = SpoolWriter(self.folder, stream or new_stream_name())
        self.shipper: BackgroundShipper | None = None
        if ship_in_process:
            self.shipper = BackgroundShipper(
                StreamShipper(store, run_id, self.folder, self.writer.stream)
            )
        self.closed = False
        _OPEN.add(self)

    def flush(self, timeout: float) -> None:
        """Return once every point written so far is queryable in the store."""
        with self.lock:
            target = self.writer.seq
        if self._wait(target, timeout):
            return
        raise StoreUnavailableError(
            f"could not store the metrics of run {self.run_id} within {timeout:g} s "
            f"({self._last_error()}); they are safe in the spool at {self.folder} and "
            "`runtrack sync` ships them once the store is reachable"
        )

    def _wait(self, target: int, timeout: float) -> bool:
        if self.shipper is not None:
            return self.shipper.wait_for(target, timeout)
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            try:
                if self.store.ingest_position(self.run_id, self.writer.stream) >= target:
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
        """End the stream: write its END record, ship everything, remove the files."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
            self.writer.close()
            target = self.writer.seq
        _OPEN.discard(self)
        ok = self._wait(target, timeout)
        if self.shipper is not None:
            self.shipper.stop(timeout=1.0 if ok else 0.0)
            if ok and self.shipper.shipper.drain() == 0 and self.shipper.shipper.done:
                self.shipper.shipper.remove_files()
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
