"""What a submitted (script) run adds to Run: wait, cancel, snapshots, liveness.

Mixed into :class:`runtrack.Run`. A script run's status is driven by its supervisor;
here the submitting side (or any other process) waits for it, asks it to stop, and
notices when it died (see ``runtrack.runner.target.reap_if_orphaned``).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtrack.errors import NotFoundError, RunFailedError, RunStateError
from runtrack.model import RunInfo, RunStatus
from runtrack.runner.snapshot import SNAPSHOT_ARTIFACT
from runtrack.store.base import ArtifactStore, TrackingStore

if TYPE_CHECKING:
    from runtrack.sdk.run import Run

CANCEL_WAIT_SECONDS = 30.0


class ScriptRunMixin:
    """Submitted-run methods of :class:`runtrack.Run`."""

    id: str
    _store: TrackingStore
    _artifacts: ArtifactStore
    _info: RunInfo
    _submitted: bool

    if TYPE_CHECKING:

        def _refresh(self) -> RunInfo: ...

    def _reap_orphan(self) -> None:
        """Resolve a script run whose supervisor died (called by get_status)."""
        if self._info.run_type == "script" and not self._submitted:
            from runtrack.runner.target import reap_if_orphaned  # psutil: lazy
            from runtrack.runner.targets import target_of_run

            self._info = reap_if_orphaned(self._store, self._info, target_of_run(self._info))

    def wait_for_completion(
        self,
        show_output: bool = False,
        wait_post_processing: bool = False,
        raise_on_error: bool = True,
        *,
        timeout_seconds: float | None = None,
    ) -> dict[str, Any]:
        """Wait until the run reaches a terminal status; return ``get_details()``.

        ``show_output`` streams rank 0's log live with a header and a summary.
        A Failed run raises RunFailedError (``raise_on_error``); Canceled never
        raises. ``timeout_seconds`` (a runtrack addition) raises TimeoutError
        while the run keeps going. runtrack always waits through Finalizing, so
        ``wait_post_processing`` changes nothing.
        """
        run: Run = self  # type: ignore[assignment]
        if show_output:
            from runtrack.sdk._logview import stream_run

            stream_run(run, timeout=timeout_seconds)
        else:
            deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
            delay = 0.05
            while not RunStatus(run.get_status()).is_terminal:
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(
                        f"run {self.id} is still {run.status} after {timeout_seconds:g} s; "
                        "it keeps running"
                    )
                time.sleep(delay)
                delay = min(delay * 1.5, 2.0)
        details = run.get_details()
        if raise_on_error and details["status"] == RunStatus.FAILED.value:
            error = details.get("error", {}).get("error", {})
            raise RunFailedError(
                f"run {self.id} failed: {error.get('message', 'no error recorded')}; "
                "see run.get_details()['error'] and its user_logs/",
                details=details,
            )
        return details

    def _cancel_script(self) -> None:
        """Stop a script run's whole process tree and mark it Canceled."""
        info = self._refresh()
        if info.status.is_terminal:
            return
        try:
            self._info = self._store.set_status(self.id, RunStatus.CANCEL_REQUESTED)
        except RunStateError:
            self._refresh()
            return
        from runtrack.runner.target import reap_if_orphaned  # psutil: lazy
        from runtrack.runner.targets import target_of_run

        target = target_of_run(self._info)
        if not target.request_cancel(self._info):
            self._info = reap_if_orphaned(self._store, self._info, target)
        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
        while not self._refresh().status.is_terminal and time.monotonic() < deadline:
            self._reap_orphan()
            time.sleep(0.05)

    def get_snapshot_id(self) -> str | None:
        return self._refresh().properties.get("ContentSnapshotId")

    def restore_snapshot(self, snapshot_id: str | None = None, path: str | None = None) -> str:
        """Save the run's snapshot as ``<path>/<snapshot id>.zip``; return that path
        (``path`` defaults to a temporary folder)."""
        snapshot_id = snapshot_id or self.get_snapshot_id()
        if snapshot_id is None or not self._artifacts.exists(snapshot_id, SNAPSHOT_ARTIFACT):
            raise NotFoundError(
                f"run {self.id} has no snapshot"
                + (f" {snapshot_id!r}" if snapshot_id else "")
                + ": submitted runs and start_logging(snapshot_directory=…) take one"
            )
        folder = Path(path) if path is not None else Path(tempfile.mkdtemp(prefix="runtrack-"))
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{snapshot_id}.zip"
        with self._artifacts.open(snapshot_id, SNAPSHOT_ARTIFACT) as src, open(target, "wb") as dst:
            while block := src.read(1 << 20):
                dst.write(block)
        return str(target)
