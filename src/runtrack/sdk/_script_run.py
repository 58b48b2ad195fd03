"""What a submitted (script) run adds to a run: wait, cancel, snapshots, liveness.

The helper behind ``Run.wait_for_completion``, ``Run.cancel`` (of a script run) and
``Run.restore_snapshot``. A script run's status is driven by its supervisor; here the
submitting side (or any other process) waits for it, asks it to stop, and notices when
it died (see ``runtrack.runner.target.reap_if_orphaned``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runtrack.errors import NotFoundError, RunFailedError, RunStateError
from runtrack.model import RunInfo, RunStatus
from runtrack.store.base import ArtifactStore, TrackingStore

CANCEL_WAIT_SECONDS = 30.0


class ScriptRunControl:
    """Waiting for, cancelling and restoring the snapshot of run ``run_id``."""

    def __init__(self, store: TrackingStore, artifacts: ArtifactStore, run_id: str) -> None:
        self.store = store
        self.artifacts = artifacts
        self.run_id = run_id

    def reap_orphan(self, info: RunInfo) -> RunInfo:
        """``info`` of a script run, settled if its supervisor died."""
        from runtrack.runner.target import reap_if_orphaned  # psutil: lazy
        from runtrack.runner.targets import target_of_run

        return reap_if_orphaned(self.store, info, target_of_run(info))

    def wait(self, get_status: Callable[[], str], timeout_seconds: float | None) -> None:
        """Poll ``get_status`` until the run is terminal (TimeoutError after
        ``timeout_seconds``; the run keeps going)."""
        deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        delay = 0.05
        while not RunStatus(status := get_status()).is_terminal:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(
                    f"run {self.run_id} is still {status} after {timeout_seconds:g} s; "
                    "it keeps running"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    def raise_if_failed(self, details: dict[str, Any]) -> None:
        """RunFailedError when ``details`` (``get_details()``) are of a Failed run."""
        if details["status"] == RunStatus.FAILED.value:
            error = details.get("error", {}).get("error", {})
            raise RunFailedError(
                f"run {self.run_id} failed: {error.get('message', 'no error recorded')}; "
                "see run.get_details()['error'] and its user_logs/",
                details=details,
            )

    def cancel(self) -> RunInfo:
        """Stop the run's whole process tree and mark it Canceled; its record after."""
        info = self.store.get_run(self.run_id)
        if info.status.is_terminal:
            return info
        try:
            info = self.store.set_status(self.run_id, RunStatus.CANCEL_REQUESTED)
        except RunStateError:
            return self.store.get_run(self.run_id)
        from runtrack.runner.target import reap_if_orphaned  # psutil: lazy
        from runtrack.runner.targets import target_of_run

        target = target_of_run(info)
        if not target.request_cancel(info):
            info = reap_if_orphaned(self.store, info, target)
        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
        while (
            not (info := self.store.get_run(self.run_id)).status.is_terminal
            and time.monotonic() < deadline
        ):
            info = self.reap_orphan(info)
            time.sleep(0.05)
        return info

    def restore_snapshot(self, snapshot_id: str | None, path: str | None) -> str:
        """Save snapshot ``snapshot_id`` as ``<path>/<snapshot id>.zip``; return that
        path (``path`` defaults to a temporary folder)."""
        import tempfile  # (shutil, random) and the snapshot module: not at import time

        from runtrack.runner.snapshot import SNAPSHOT_ARTIFACT

        if snapshot_id is None or not self.artifacts.exists(snapshot_id, SNAPSHOT_ARTIFACT):
            raise NotFoundError(
                f"run {self.run_id} has no snapshot"
                + (f" {snapshot_id!r}" if snapshot_id else "")
                + ": submitted runs and start_logging(snapshot_directory=…) take one"
            )
        folder = Path(path) if path is not None else Path(tempfile.mkdtemp(prefix="runtrack-"))
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{snapshot_id}.zip"
        with self.artifacts.open(snapshot_id, SNAPSHOT_ARTIFACT) as src, open(target, "wb") as dst:
            while block := src.read(1 << 20):
                dst.write(block)
        return str(target)
