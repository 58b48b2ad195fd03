"""A warm local target: each run's supervisor is a thread of this (long-lived) process.

:class:`~runtrack.runner.target.LocalTarget` starts one detached supervisor process per
run, which pays an interpreter start, runtrack's imports and a workspace open each time.
For many short runs submitted by one process that stays up while they run (a sweep's
trials, driven by the sweep's driver thread) :class:`InProcessTarget` runs the very same
:class:`~runtrack.runner.supervisor.Supervisor` in a thread instead, on the stores the
process already holds, and calls ``on_end(run_id)`` when a run has ended, so the
submitter hears of it at once instead of polling.

Runs keep the layout, logs, statuses and errors of LocalTarget runs. Their
``runtrack.supervisor`` record carries ``"shared": true``: the process hosts other runs,
so a cancel is never a signal to it; one watcher thread polls the statuses of every
hosted run in one query (instead of each supervisor polling its own run) and tells the
supervisor of a run whose cancel was requested (or which was deleted) to stop its
processes. ``on_end`` is called as soon as a run's final status is stored, while its
supervisor still cleans up and waits for the run's log index; :meth:`InProcessTarget.join`
waits for those too. If the hosting process dies,
:func:`~runtrack.runner.target.reap_if_orphaned` settles the runs as for a dead
supervisor process.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable

from runtrack.model import RunInfo, RunQuery, RunStatus
from runtrack.runner import procs
from runtrack.runner.spec import SUPERVISOR_PROPERTY, RunSpec
from runtrack.runner.supervisor import STATUS_POLL, Supervisor
from runtrack.runner.target import LocalTarget
from runtrack.store.base import ArtifactStore, TrackingStore

log = logging.getLogger("runtrack.runner")


class _HostedSupervisor(Supervisor):
    """A run's supervisor in a thread of a process hosting many runs: the host's watcher
    polls the run's status, and the host hears of the run's end once it is final."""

    # every hosted run writes through the one store (and its one write lock): a log
    # index writer at a lower priority, descheduled on a busy machine while it holds the
    # lock, held up every trial's status changes (seconds at a load of 10 on 2 CPUs)
    lower_index_priority = False

    def __init__(self, spec: RunSpec, host: InProcessTarget) -> None:
        super().__init__(spec, host.store, host.artifacts)
        self.host = host

    def _poll_cancel(self) -> None:
        """Nothing: the host's watcher polls every hosted run at once."""

    def settled(self, status: RunStatus) -> None:
        self.host._settled(self.spec.run_id)


class InProcessTarget:
    """Supervises each submitted run in a (non-daemon) thread of this process."""

    name = "local"

    def __init__(
        self,
        store: TrackingStore,
        artifacts: ArtifactStore,
        on_end: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.on_end = on_end
        self._local = LocalTarget()
        self._lock = threading.Lock()
        #: the supervisors of the runs hosted now (until their thread ends)
        self._hosted: dict[str, _HostedSupervisor] = {}
        self._threads: dict[str, threading.Thread] = {}
        #: runs whose end was told to ``on_end`` already
        self._told: set[str] = set()
        self._watcher: threading.Thread | None = None

    def submit(self, spec: RunSpec) -> dict[str, str]:
        pid = os.getpid()
        record = {
            "host": socket.gethostname(),
            "pid": pid,
            "started": procs.process_started(pid) or 0.0,
            "shared": True,
        }
        supervisor = _HostedSupervisor(spec, self)
        thread = threading.Thread(
            target=self._supervise, args=(supervisor,), name=f"runtrack-supervisor-{spec.run_id}"
        )
        with self._lock:
            self._hosted[spec.run_id] = supervisor
            self._threads[spec.run_id] = thread
            if self._watcher is None:
                self._watcher = threading.Thread(
                    target=self._watch, name="runtrack-hosted-runs", daemon=True
                )
                self._watcher.start()
        thread.start()
        return {SUPERVISOR_PROPERTY: json.dumps(record)}

    def join(self, timeout: float | None = None) -> None:
        """Wait until every hosted run's supervisor has ended (its clean-up and log index
        included)."""
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)

    def _supervise(self, supervisor: _HostedSupervisor) -> None:
        run_id = supervisor.spec.run_id
        try:
            supervisor.run()
        except Exception:  # the supervisor records its own failures; this is a last resort
            log.exception("runtrack: the supervisor of run %s failed", run_id)
        finally:
            with contextlib.suppress(OSError):  # nothing of the run is left in it
                os.rmdir(supervisor.spec.workdir)
            with self._lock:
                self._hosted.pop(run_id, None)
                self._threads.pop(run_id, None)
            self._settled(run_id)
            with self._lock:
                self._told.discard(run_id)

    def _settled(self, run_id: str) -> None:
        """Tell ``on_end`` of the run's end (once)."""
        with self._lock:
            if run_id in self._told:
                return
            self._told.add(run_id)
        if self.on_end is not None:
            self.on_end(run_id)

    def _watch(self) -> None:
        """Every :data:`STATUS_POLL` seconds, read the statuses of all hosted runs in one
        query and stop those whose cancel was requested or which were deleted; end when no
        run is hosted."""
        while True:
            with self._lock:
                hosted = dict(self._hosted)
                if not hosted:
                    self._watcher = None
                    return
            try:
                found = {
                    info.id: info.status
                    for info in self.store.search_runs(
                        RunQuery(
                            conditions=[("attribute", "id", "IN", list(hosted))],
                            include_children=True,
                        )
                    )
                }
            except Exception as exc:
                log.debug("runtrack: cannot poll the hosted runs' statuses: %s", exc)
                found = None
            if found is not None:
                for run_id, supervisor in hosted.items():
                    status = found.get(run_id)
                    if status is None or status is RunStatus.CANCEL_REQUESTED:
                        supervisor.cancel_requested.set()
            time.sleep(STATUS_POLL)

    def request_cancel(self, info: RunInfo) -> bool:
        return False  # the watcher polls the run's CancelRequested status

    def is_alive(self, info: RunInfo) -> bool | None:
        return self._local.is_alive(info)
