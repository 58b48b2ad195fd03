"""Compute targets: where a submitted run's supervisor runs.

:class:`ComputeTarget` is the small interface a bigger target (an existing engine
such as Ray or Slurm) implements; :class:`LocalTarget` starts the supervisor as a
detached process on this machine (``python -m runtrack.cli._supervise SPEC``, in a
new session, so it survives the submitting process and its terminal).

Liveness: the run's property ``runtrack.supervisor`` records ``{"host", "pid",
"started"}``. :func:`reap_if_orphaned` marks a run whose supervisor on this host is
gone (and that is not terminal) Failed with code ``SupervisorDied`` and ends any
process still carrying the run's id; ``Run.get_status()``, ``wait_for_completion``
and ``runtrack sync`` call it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from runtrack.errors import RunStateError
from runtrack.model import ErrorInfo, RunInfo, RunQuery, RunStatus
from runtrack.runner import procs
from runtrack.runner.outcome import requested_cancel_error
from runtrack.runner.spec import SUPERVISOR_PROPERTY, RunSpec, json_property
from runtrack.store.base import TrackingStore

SUPERVISOR_MODULE = "runtrack.cli._supervise"
ORPHAN_CODE = "SupervisorDied"
ACTIVE = [
    RunStatus.QUEUED,
    RunStatus.PREPARING,
    RunStatus.RUNNING,
    RunStatus.FINALIZING,
    RunStatus.CANCEL_REQUESTED,
]


@runtime_checkable
class ComputeTarget(Protocol):
    """Runs submitted runs somewhere. Contract:

    * ``submit(spec)`` starts the run and returns at once, with run properties to
      record (e.g. where its supervisor lives); the run's status is then driven by
      the target's supervisor through the TrackingStore.
    * ``request_cancel(info)`` asks the run's supervisor to stop it now; False when
      the supervisor cannot be reached (the store's CancelRequested status, which
      supervisors poll, is set by the caller either way).
    * ``is_alive(info)`` says whether the run's supervisor still runs: True/False,
      or None when this target cannot tell from here.
    """

    name: str

    def submit(self, spec: RunSpec) -> dict[str, str]: ...

    def request_cancel(self, info: RunInfo) -> bool: ...

    def is_alive(self, info: RunInfo) -> bool | None: ...


class LocalTarget:
    """Runs the supervisor as a detached process on this machine."""

    name = "local"

    def __init__(self, python: str | None = None) -> None:
        self.python = python or sys.executable

    def submit(self, spec: RunSpec) -> dict[str, str]:
        folder = Path(spec.workdir)
        spec_file = folder / "spec.json"
        spec.save(spec_file)
        with open(folder / "supervisor.log", "ab") as out:
            popen = subprocess.Popen(
                [self.python, "-m", SUPERVISOR_MODULE, str(spec_file)],
                cwd=str(folder),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        started = procs.process_started(popen.pid) or 0.0
        record = {"host": socket.gethostname(), "pid": popen.pid, "started": started}
        # reap it when it ends, so no zombie outlives it in a long-lived submitter
        threading.Thread(target=popen.wait, name="runtrack-reap", daemon=True).start()
        return {SUPERVISOR_PROPERTY: json.dumps(record)}

    def _record(self, info: RunInfo) -> dict[str, Any] | None:
        return json_property(info.properties, SUPERVISOR_PROPERTY)

    def is_alive(self, info: RunInfo) -> bool | None:
        record = self._record(info)
        if record is None or record.get("host") != socket.gethostname():
            return None
        pid, started = int(record.get("pid", 0)), float(record.get("started", 0.0))
        return procs.is_same_process(pid, started)

    def request_cancel(self, info: RunInfo) -> bool:
        if not self.is_alive(info):
            return False
        record = self._record(info) or {}
        if record.get("shared"):  # a process hosting many runs (runner.inproc): it polls
            return False
        try:
            os.kill(int(record.get("pid", 0)), signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            return False
        return True


def reap_if_orphaned(store: TrackingStore, info: RunInfo, target: ComputeTarget) -> RunInfo:
    """Mark ``info``'s run Failed (or Canceled, if a cancel was asked) when its
    supervisor is gone; return the run as stored now."""
    if info.status.is_terminal or info.run_type != "script":
        return info
    if target.is_alive(info) is not False:
        return info
    fresh = store.get_run(info.id)  # the supervisor may have finished meanwhile
    if fresh.status.is_terminal:
        return fresh
    procs.kill_run_processes(info.id)
    if fresh.status is RunStatus.CANCEL_REQUESTED:
        status = RunStatus.CANCELED
        error = requested_cancel_error(fresh) or ErrorInfo("Canceled", "the run was canceled")
    else:
        status = RunStatus.FAILED
        reason = getattr(target, "end_reason", None)  # a target that can say more
        error = ErrorInfo(
            ORPHAN_CODE,
            (reason(info) + ". Submit the run again")
            if reason is not None
            else "the supervisor of this run ended without recording how the run ended (it "
            "was killed, or the machine restarted); its processes were stopped. Submit the "
            "run again",
        )
    try:
        return store.set_status(info.id, status, error=error)
    except RunStateError:
        return store.get_run(info.id)


def reap_orphans(store: TrackingStore, target: ComputeTarget) -> list[RunInfo]:
    """Apply :func:`reap_if_orphaned` to every active script run; return those changed."""
    changed = []
    for info in store.search_runs(
        RunQuery(status=ACTIVE, run_type="script", include_children=True)
    ):
        after = reap_if_orphaned(store, info, target)
        if after.status is not info.status:
            changed.append(after)
    return changed
