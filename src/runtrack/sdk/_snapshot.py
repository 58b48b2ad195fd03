"""Snapshot a source folder into a run (``start_logging(snapshot_directory=…)``).

The file selection, ignore rules and limits are those of submitted runs
(:mod:`runtrack.runner.snapshot`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from runtrack.errors import InvalidValueError
from runtrack.runner.snapshot import SNAPSHOT_ARTIFACT, SnapshotFile, snapshot_files

if TYPE_CHECKING:
    from runtrack.sdk.run import Run

SNAPSHOT_PATH = SNAPSHOT_ARTIFACT


def source_files(folder: str) -> list[SnapshotFile]:
    """The files of ``folder`` a snapshot takes; raises (ignore rules, limits) before any
    run is touched."""
    root = Path(folder).resolve()
    if not root.is_dir():
        raise InvalidValueError(f"snapshot_directory {folder!r} is not a folder")
    return snapshot_files(root)


def take_snapshot(run: Run, folder: str) -> str:
    """Zip ``folder`` into the run as ``snapshot.zip``; set property ContentSnapshotId."""
    from runtrack.sdk._submit import store_snapshot

    store_snapshot(run, source_files(folder))
    return run.id
