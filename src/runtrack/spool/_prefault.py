"""Make a spool segment's next pages writable before the writer reaches them.

The first store into each 4 KiB page of a file mapping traps into the kernel (a page
fault: the page is found or made in the page cache and marked dirty). At one 40-byte
point per ``run.log()`` call that is one fault every ~100 calls, about a tenth of the
call's time. One daemon thread per process takes those faults instead: the writer hands
it the next chunk of its segment (:meth:`Prefaulter.ahead`, once per ``CHUNK`` bytes
written) and the thread asks the kernel to populate it (``madvise(MADV_POPULATE_WRITE)``,
Linux 5.14+) through ctypes, which releases the GIL for the call, so the work runs on
another core while the training loop goes on.

Nothing is written into the mapping: a chunk that is populated late, twice, or never
only changes who takes the faults. Where the call is missing (another OS, an older
kernel, no ctypes) the first failure turns the prefaulter off for the process.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtrack.spool.writer import SpoolWriter

log = logging.getLogger("runtrack.spool")

#: bytes populated per request; the writer asks for the chunk after the one it enters
CHUNK = 1024 * 1024
#: chunks handed over ahead of the one the writer is in: the thread must get the GIL
#: to start a request, which can take a switch interval (5 ms) while the loop runs
LEAD = 2
_MADV_POPULATE_WRITE = 23  # linux/mman.h


class Prefaulter:
    """The process's prefault thread (started by the first request)."""

    def __init__(self) -> None:
        self.enabled = sys.platform.startswith("linux")
        self._requests: queue.SimpleQueue[tuple[SpoolWriter, int, int, int]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._madvise: Any = None
        self._lock = threading.Lock()
        self.served = 0  # requests taken off the queue (done, skipped or failed)

    def ahead(self, writer: SpoolWriter, segment: int, start: int, end: int) -> None:
        """Populate bytes ``start`` to ``end`` of ``writer``'s mapping of ``segment``
        (skipped if the writer has moved on by then)."""
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._serve, name="runtrack-prefault", daemon=True
                    )
                    self._thread.start()
        self._requests.put((writer, segment, start, end))

    def _serve(self) -> None:
        try:
            self._madvise = _madvise_function()
        except (ImportError, OSError, AttributeError) as exc:
            self._off(f"no madvise through ctypes ({exc})")
        while True:
            writer, segment, start, end = self._requests.get()
            try:
                if not self.enabled:
                    continue
                writer.populate(segment, start, end, self._madvise)
            except OSError as exc:
                self._off(f"madvise(MADV_POPULATE_WRITE) failed: {exc}")
            except Exception:  # never let this thread die: the writer does not need it
                log.debug("runtrack: spool prefault failed", exc_info=True)
            finally:
                self.served += 1
                del writer  # a closed writer is not kept while the thread waits

    def _off(self, why: str) -> None:
        self.enabled = False
        log.debug("runtrack: spool pages are not prefaulted: %s", why)


def _madvise_function() -> Any:
    """``madvise(addr, length, advice) -> None`` raising OSError, with the GIL released."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    fn = libc.madvise
    fn.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    fn.restype = ctypes.c_int

    def madvise(mm: Any, start: int, end: int) -> None:
        view = ctypes.c_char.from_buffer(mm)  # an export of the mapping: released below
        try:
            address = ctypes.addressof(view)
        finally:
            del view
        if fn(address + start, end - start, _MADV_POPULATE_WRITE) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))

    return madvise


PREFAULTER = Prefaulter()


def _reset_after_fork() -> None:
    global PREFAULTER
    PREFAULTER = Prefaulter()  # the parent's thread does not exist in the child


os.register_at_fork(after_in_child=_reset_after_fork)
