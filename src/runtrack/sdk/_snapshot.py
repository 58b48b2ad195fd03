"""Snapshot a source folder into a run (honouring ignore files)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from runtrack import limits
from runtrack.errors import InvalidValueError, LimitExceededError

if TYPE_CHECKING:
    from runtrack.sdk.run import Run

SNAPSHOT_PATH = "snapshot.zip"


def _ignored(root: Path) -> list[str]:
    for name in (".runtrackignore", ".amlignore", ".gitignore"):
        path = root / name
        if path.is_file():
            return [
                line.strip()
                for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
                if line.strip() and not line.startswith("#")
            ]
    return []


def snapshot_files(root: Path) -> list[Path]:
    """Files under ``root`` minus ignored ones, within the snapshot limits."""
    import fnmatch

    patterns = [p.rstrip("/") for p in _ignored(root)]
    kept: list[Path] = []
    total = 0
    sizes: list[tuple[int, str]] = []
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = file.relative_to(root).as_posix()
        parts = rel.split("/")
        if any(
            fnmatch.fnmatch(rel, pat.lstrip("/"))
            or (not pat.startswith("/") and any(fnmatch.fnmatch(part, pat) for part in parts))
            or rel.startswith(pat.lstrip("/") + "/")
            for pat in patterns
        ):
            continue
        size = file.stat().st_size
        total += size
        sizes.append((size, rel))
        kept.append(file)
    if total > limits.SNAPSHOT_MAX_BYTES or len(kept) > limits.SNAPSHOT_MAX_FILES:
        biggest = ", ".join(f"{rel} ({size / 1e6:.1f} MB)" for size, rel in sorted(sizes)[-5:])
        raise LimitExceededError(
            f"snapshot of {root} has {len(kept)} files, {total / 1e6:.1f} MB; the limits are "
            f"{limits.SNAPSHOT_MAX_FILES} files and {limits.SNAPSHOT_MAX_BYTES / 1e6:.0f} MB. "
            f"Biggest: {biggest}. List what to leave out in a .runtrackignore file, or pass "
            "snapshot_directory=None"
        )
    return kept


def take_snapshot(run: Run, folder: str) -> str:
    """Zip ``folder`` into the run as ``snapshot.zip``; set property ContentSnapshotId."""
    root = Path(folder).resolve()
    if not root.is_dir():
        raise InvalidValueError(f"snapshot_directory {folder!r} is not a folder")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in snapshot_files(root):
            zf.write(file, file.relative_to(root).as_posix())
    run._artifacts.put(run.id, SNAPSHOT_PATH, buf.getvalue())
    run.add_properties({"ContentSnapshotId": run.id})
    return run.id
