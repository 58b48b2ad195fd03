"""Pausing the cyclic garbage collector while a bulk read builds its values.

A listing turns tens of thousands of rows into model values (50,000 series summaries
for a 5,000-run MLflow search). Each allocation counts towards the collector's
thresholds, so such a read sets off many collections, and every full one walks the
whole heap again, the rows built so far included: measured on a 10,000-run store,
building the summaries took twice as long as with the collector paused. The values
built hold no reference cycles (strings, numbers, dicts and lists of them), so the
paused collector has nothing of theirs to free; it runs again as soon as the last
bulk read in the process ends.

Reference counting still frees everything at once; only the search for cycles waits.
Nested and concurrent reads share one pause, and a collector the application had
disabled stays disabled.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_active = 0  # bulk reads running now (all threads)
_resume = False  # whether the last one to end re-enables the collector


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector paused (see the module doc)."""
    global _active, _resume
    with _lock:
        if _active == 0:
            _resume = gc.isenabled()
            gc.disable()
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _resume:
                gc.enable()
