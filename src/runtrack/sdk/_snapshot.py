"""Snapshot a source folder into a run (``start_logging(snapshot_directory=…)``).

The file selection, ignore rules and limits are those of submitted runs
(:mod:`runtrack.runner.snapshot`).
"""

from __future__ import annotations

from pathlib import Path

from runtrack.errors import InvalidValueError, LimitExceededError
from runtrack.runner.snapshot import SNAPSHOT_ARTIFACT, SnapshotFile, snapshot_files

SNAPSHOT_PATH = SNAPSHOT_ARTIFACT


def snapshot_files_for(folder: str) -> list[SnapshotFile]:
    """The files ``start_logging(snapshot_directory=folder)`` keeps (limits checked)."""
    root = Path(folder).resolve()
    if not root.is_dir():
        raise InvalidValueError(f"snapshot_directory {folder!r} is not a folder")
    try:
        return snapshot_files(root)
    except LimitExceededError as exc:
        raise LimitExceededError(
            f"{exc}; or pass snapshot_directory=None to start_logging() to take no snapshot"
        ) from exc
