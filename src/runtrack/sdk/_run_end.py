"""How a run ends: the helper behind ``Run.complete``, ``Run.fail``, ``Run.cancel`` and
``with run:``.

A run this process created (interactive or child) is *owned* by it until it is settled:
a lock beside its spool (:class:`runtrack.spool.owner.RunOwnership`) tells recovery to
leave it alone. A running interactive run also has its observers (the system-metrics
sampler, and the log indexer inside ``with run:``), and ``with run:`` tees what the
program prints into ``logs/user_log.txt``. Ending the run stops those, closes its metric
spool, uploads its outputs folder and sets the final status; when the store is
unreachable, the final status is queued beside the spool for ``runtrack sync``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from runtrack.errors import RunStateError, StoreUnavailableError
from runtrack.model import ErrorInfo, RunInfo, RunStatus
from runtrack.sdk._logview import INTERACTIVE_LOG
from runtrack.sdk._observe import RunObservers
from runtrack.sdk._run_fields import artifact_prefix
from runtrack.sdk._run_files import RunFiles
from runtrack.sdk._run_metrics import RunMetrics
from runtrack.sdk._tee import OutputTee

if TYPE_CHECKING:
    from runtrack.spool.owner import RunOwnership

log = logging.getLogger("runtrack")


class RunEnding:
    """What ending run ``run_id`` involves in this process.

    :class:`runtrack.Run` holds one. The run's record stays with the run: each call gets
    the record as the run last read it and returns (or, through ``refresh``, reads) the
    new one; ``close_spool`` and ``refresh`` are the run's own, passed per call so this
    object never holds the run.
    """

    def __init__(self, metrics: RunMetrics) -> None:
        # the run's store, artifacts, id and spool folder are its metrics helper's
        self.store = metrics.store
        self.artifacts = metrics.artifacts
        self.run_id = metrics.run_id
        self.spool_dir = metrics.spool_dir
        self.metrics = metrics
        #: this process is a submitted script: its supervisor sets the final status
        self.submitted = False
        #: a local folder uploaded under its own name when the run ends
        self.outputs: Path | None = None
        #: copies what the program prints into the run's log inside ``with run:``
        self.tee: OutputTee | None = None
        #: held while this process owns the run's status (interactive and child runs
        #: it created); recovery settles the run once the lock is free
        self.ownership: RunOwnership | None = None
        self.queued: RunStatus | None = None  # final status queued during an outage
        self.observers: RunObservers | None = None

    def adopt(self, info: RunInfo, outputs: Path | None) -> None:
        """Take on the run this process just created (``info``): it owns an unsettled
        interactive or child run, and observes a running interactive one."""
        self.outputs = outputs
        if info.run_type in ("interactive", "child") and not info.status.is_terminal:
            from runtrack.spool.owner import RunOwnership

            self.ownership = RunOwnership(self.spool_dir, info.id)
        if info.run_type == "interactive" and info.status is RunStatus.RUNNING:
            self.observers = RunObservers(self.store, self.artifacts, info.id)

    def finish(
        self,
        info: RunInfo,
        status: RunStatus,
        error: ErrorInfo | None,
        *,
        close_spool: Callable[[], None],
        refresh: Callable[[], RunInfo],
    ) -> RunInfo | None:
        """End the run with ``status``; the run's new record when this call set it."""
        if self.queued is not None:
            return None  # settled by recovery once the store is back
        # No read of the run first: a run another handle settled meanwhile is caught by
        # set_status below (after this handle's metrics and outputs are safe).
        if info.status.is_terminal and not self.submitted:
            self.check_settled(info, status)
            return None
        self.stop_tee()
        if self.observers is not None:
            observers, self.observers = self.observers, None
            error = observers.stop(status, error, self.metrics.system_sample_sink())
        try:
            close_spool()
            if self.outputs is not None and self.outputs.is_dir():
                RunFiles(self.artifacts, self.run_id).upload_tree(
                    self.outputs, artifact_prefix(self.outputs)
                )
            if self.submitted:
                if error is not None and status is RunStatus.FAILED:
                    self.store.add_properties(
                        self.run_id, {"runtrack.script_error": error.message[:1000]}
                    )
                return None
            try:
                settled = self.store.set_status(self.run_id, status, error=error)
            except RunStateError:  # settled by someone else meanwhile
                if self.ownership is not None:
                    self.ownership.release(settled=True)
                self.check_settled(refresh(), status)
                return None
        except StoreUnavailableError as exc:
            if self.submitted or self.ownership is None or not self.ownership.held:
                raise
            self.queue_final(status, error, exc)
            return None
        if self.ownership is not None:
            self.ownership.release(settled=True)
        return settled

    def check_settled(self, info: RunInfo, status: RunStatus) -> None:
        """A terminal run may be settled with its own status again (a no-op), never
        with another one."""
        if info.status is not status:
            raise RunStateError(
                f"run {self.run_id} is already {info.status.value}; terminal states "
                "are final"
            )

    def queue_final(
        self, status: RunStatus, error: ErrorInfo | None, exc: StoreUnavailableError
    ) -> None:
        """The store is unreachable: leave the final status with the spool for
        ``runtrack sync`` (or the next ``Workspace()`` on this machine) to apply."""
        from runtrack.spool.owner import FinalStatus

        assert self.ownership is not None
        path = self.ownership.queue_final(FinalStatus(status, error))
        self.ownership.release(settled=False)
        self.queued = status
        log.warning(
            "runtrack: run %s could not be marked %s (%s); its metrics and final status "
            "are queued in %s: run `runtrack sync` once the store is reachable",
            self.run_id, status.value, exc.message, path,
        )

    def enter(self) -> None:
        """``with run:`` begins: tee the program's output into the run's log (not in a
        submitted script: its supervisor captures that)."""
        if self.tee is None and not self.submitted:
            self.tee = OutputTee(self.artifacts, self.run_id, INTERACTIVE_LOG, self.spool_dir)
            if self.observers is not None:
                self.observers.watch_logs()

    def exit(
        self,
        info: RunInfo,
        exc: BaseException | None,
        *,
        refresh: Callable[[], RunInfo],
        complete: Callable[[], None],
        fail: Callable[[BaseException], None],
    ) -> bool:
        """``with run:`` ends: upload ``./logs``, then ``complete`` the run (on no
        exception or a clean ``sys.exit``, which is swallowed) or ``fail`` it with the
        exception, unless it is settled already. True: swallow the exception."""
        logs = Path("logs")
        if self.tee is not None and logs.is_dir():
            try:
                RunFiles(self.artifacts, self.run_id).upload_tree(logs, "logs")
            except StoreUnavailableError as err:  # the run still ends; say what is missing
                log.warning(
                    "runtrack: ./logs of run %s not uploaded: %s", self.run_id, err.message
                )
        if exc is None or (isinstance(exc, SystemExit) and exc.code in (0, None)):
            if not info.status.is_terminal:
                complete()
            self.stop_tee()
            return exc is not None
        try:
            terminal = refresh().status.is_terminal
        except StoreUnavailableError:
            terminal = info.status.is_terminal
        if not terminal:
            fail(exc)
        self.stop_tee()
        return False

    def stop_tee(self) -> None:
        if self.tee is not None:
            self.tee.stop()
            self.tee = None
