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
so a cancel is never a signal to it; the supervisor thread sees the run's
CancelRequested status (polled) and stops the run's processes. If the hosting process
dies, :func:`~runtrack.runner.target.reap_if_orphaned` settles the runs as for a dead
supervisor process.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
from collections.abc import Callable

from runtrack.model import RunInfo
from runtrack.runner import procs
from runtrack.runner.spec import SUPERVISOR_PROPERTY, RunSpec
from runtrack.runner.supervisor import supervise
from runtrack.runner.target import LocalTarget
from runtrack.store.base import ArtifactStore, TrackingStore

log = logging.getLogger("runtrack.runner")


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

    def submit(self, spec: RunSpec) -> dict[str, str]:
        pid = os.getpid()
        record = {
            "host": socket.gethostname(),
            "pid": pid,
            "started": procs.process_started(pid) or 0.0,
            "shared": True,
        }
        threading.Thread(
            target=self._supervise, args=(spec,), name=f"runtrack-supervisor-{spec.run_id}"
        ).start()
        return {SUPERVISOR_PROPERTY: json.dumps(record)}

    def _supervise(self, spec: RunSpec) -> None:
        try:
            supervise(spec, self.store, self.artifacts)
        except Exception:  # the supervisor records its own failures; this is a last resort
            log.exception("runtrack: the supervisor of run %s failed", spec.run_id)
        finally:
            with contextlib.suppress(OSError):  # nothing of the run is left in it
                os.rmdir(spec.workdir)
            if self.on_end is not None:
                self.on_end(spec.run_id)

    def request_cancel(self, info: RunInfo) -> bool:
        return False  # the supervisor thread polls the run's CancelRequested status

    def is_alive(self, info: RunInfo) -> bool | None:
        return self._local.is_alive(info)
