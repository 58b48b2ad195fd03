"""One daemon thread per process that starts other threads later, when they are due.

A short run should not pay for threads it never needs: starting one (and the hand-offs
around it) cost more wall time than the rest of a short run's lifecycle. So the threads
of a run that only matter once it has lasted a while — its shipper
(:class:`runtrack.spool.shipper.BackgroundShipper`, after ``MAX_PAUSE``) and its
system-metrics sampler (:class:`runtrack.runner.sysmetrics.SystemSampler`, before its
first sample) — are handed to :data:`STARTER` with a deadline. A run that ends sooner
tells its object so, and the object's ``start()`` then does nothing.

The thread wakes at most once per :data:`SLACK` for deadlines that close together: it
waits until the earliest deadline plus the slack and then starts everything due. A loop
of short runs hands it two deadlines per run; waking for each cost about as much as
the rest of a short run's thread work, and starting a thread a few hundredths of a
second late changes nothing.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
import weakref
from typing import Protocol

log = logging.getLogger("runtrack.spool")

#: seconds a due object may wait so that the ones due just after it start in the same wake
SLACK = 0.05


class Startable(Protocol):
    """What the starter starts: ``start()`` must do nothing once the work is over."""

    def start(self) -> None: ...


class Starter:
    """Calls each added object's ``start()`` at its monotonic deadline, from one daemon
    thread (created on first use). Holds the objects weakly: one dropped before its
    deadline is simply not started."""

    _cond: threading.Condition
    _queue: list[tuple[float, int, weakref.ReferenceType[Startable]]]
    _thread: threading.Thread | None

    def __init__(self) -> None:
        self._order = itertools.count()
        self.reset()

    def reset(self) -> None:
        """A fresh lock, queue and thread (also in a child after ``fork``)."""
        self._cond = threading.Condition()
        self._queue = []
        self._thread = None
        self.wakes = 0  # times the thread took due objects off the queue

    def add(self, target: Startable, at: float) -> None:
        """Call ``target.start()`` at monotonic time ``at``."""
        with self._cond:
            heapq.heappush(self._queue, (at, next(self._order), weakref.ref(target)))
            if self._thread is None or not self._thread.is_alive():  # first use, or forked
                self._thread = threading.Thread(
                    target=self._loop, name="runtrack-starter", daemon=True
                )
                self._thread.start()
            elif self._queue[0][0] == at:
                self._cond.notify()  # a new earliest deadline

    def _loop(self) -> None:
        while True:
            with self._cond:
                if not self._queue:
                    self._cond.wait()
                    continue
                now = time.monotonic()
                delay = self._queue[0][0] + SLACK - now
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                due = []
                while self._queue and self._queue[0][0] <= now:
                    due.append(heapq.heappop(self._queue)[2])
                self.wakes += 1
            for ref in due:
                target = ref()
                if target is None:
                    continue
                try:
                    target.start()
                except Exception as exc:  # no thread to be had: the owner does the work
                    log.warning("runtrack: cannot start %r: %s", target, exc)


STARTER = Starter()
# a child forked while the starter held its lock would wait on it forever: start afresh
os.register_at_fork(after_in_child=STARTER.reset)
