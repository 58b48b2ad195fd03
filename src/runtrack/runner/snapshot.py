"""Snapshot a source folder: which files, the size/count limits, zip and restore.

Ignore rules use gitignore syntax (``pathspec``'s ``GitIgnoreSpec``), read from the
first of ``.runtrackignore``, ``.amlignore``, ``.gitignore`` found in the root of the
folder (only that one file is used, as Azure ML does). ``.git/``, ``.runtrack/``
(a workspace kept inside the project), ``__pycache__/`` and ``.ipynb_checkpoints/``
are always left out. Limits come from :mod:`runtrack.limits` (read at call time);
exceeding one raises :class:`~runtrack.errors.LimitExceededError` naming the biggest
files and folders and what to do.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from runtrack import limits
from runtrack.errors import InvalidValueError, LimitExceededError

IGNORE_FILES = (".runtrackignore", ".amlignore", ".gitignore")
ALWAYS_IGNORED = (".git/", ".runtrack/", "__pycache__/", ".ipynb_checkpoints/")
SNAPSHOT_ARTIFACT = "snapshot.zip"


@dataclass(frozen=True)
class SnapshotFile:
    path: Path
    rel: str
    size: int


def ignore_file(root: Path) -> Path | None:
    """The ignore file that applies to ``root``, or None."""
    for name in IGNORE_FILES:
        if (root / name).is_file():
            return root / name
    return None


def _spec(root: Path) -> Any:
    try:
        import pathspec
    except ModuleNotFoundError as exc:  # pragma: no cover - a declared dependency
        raise ModuleNotFoundError(
            "snapshots need the 'pathspec' package: pip install pathspec"
        ) from exc
    lines = list(ALWAYS_IGNORED)
    found = ignore_file(root)
    if found is not None:
        lines += found.read_text(encoding="utf-8", errors="replace").splitlines()
    return pathspec.GitIgnoreSpec.from_lines(lines)


def snapshot_files(
    root: Path, *, max_bytes: int | None = None, max_files: int | None = None
) -> list[SnapshotFile]:
    """Files under ``root`` that are not ignored, sorted; LimitExceededError past a limit."""
    root = Path(root)
    if not root.is_dir():
        raise InvalidValueError(f"source directory {str(root)!r} is not a folder")
    max_bytes = limits.SNAPSHOT_MAX_BYTES if max_bytes is None else max_bytes
    max_files = limits.SNAPSHOT_MAX_FILES if max_files is None else max_files
    spec = _spec(root)
    kept: list[SnapshotFile] = []
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        rel_base = base.relative_to(root).as_posix()
        prefix = "" if rel_base == "." else rel_base + "/"
        dirs[:] = sorted(d for d in dirs if not spec.match_file(prefix + d + "/"))
        for name in sorted(files):
            rel = prefix + name
            path = base / name
            if spec.match_file(rel) or not path.is_file():
                continue
            kept.append(SnapshotFile(path, rel, path.stat().st_size))
    total = sum(f.size for f in kept)
    if total > max_bytes or len(kept) > max_files:
        raise LimitExceededError(_limit_message(root, kept, total, max_bytes, max_files))
    return sorted(kept, key=lambda f: f.rel)


def _limit_message(
    root: Path, files: list[SnapshotFile], total: int, max_bytes: int, max_files: int
) -> str:
    by_folder: dict[str, list[int]] = {}
    for f in files:
        top = f.rel.split("/", 1)[0] + ("/" if "/" in f.rel else "")
        entry = by_folder.setdefault(top, [0, 0])
        entry[0] += f.size
        entry[1] += 1
    key = 0 if total > max_bytes else 1
    worst = sorted(by_folder.items(), key=lambda kv: kv[1][key], reverse=True)[:5]
    offenders = ", ".join(f"{name} ({_mb(v[0])}, {v[1]} files)" for name, v in worst)
    biggest = ", ".join(
        f"{f.rel} ({_mb(f.size)})" for f in sorted(files, key=lambda f: f.size)[-3:][::-1]
    )
    where = ignore_file(root)
    return (
        f"While attempting to take snapshot of {root}: it holds {len(files)} files, "
        f"{_mb(total)}; the limits are {max_files} files and {_mb(max_bytes)} "
        f"(runtrack.limits.SNAPSHOT_MAX_FILES / SNAPSHOT_MAX_BYTES). Biggest entries: "
        f"{offenders}; biggest files: {biggest}. List what the run does not need in "
        f"{where or root / '.runtrackignore'} (gitignore syntax), or move data out of the "
        "source folder"
    )


def _mb(size: int) -> str:
    """Sizes in the unit the limit is defined in (MB of 1024 * 1024 bytes): 300 MB."""
    return f"{size / (1024 * 1024):.1f} MB"


def write_zip(files: Iterable[SnapshotFile], target: IO[bytes]) -> None:
    """Zip ``files`` (paths relative to the snapshot root), keeping file modes. A file
    deleted since it was listed (a workspace's spool segment inside the folder, removed by
    its shipper) is left out."""
    import zipfile  # not at import time: ``import runtrack`` reaches this module

    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for f in files:
            try:
                zf.write(f.path, f.rel)
            except FileNotFoundError:
                continue


def extract_zip(source: IO[bytes], dest: Path) -> int:
    """Unpack a snapshot zip into ``dest`` (file modes restored); return the file count."""
    import zipfile

    dest.mkdir(parents=True, exist_ok=True)
    count = 0
    with zipfile.ZipFile(source) as zf:
        for member in zf.infolist():
            target = Path(zf.extract(member, dest))
            mode = (member.external_attr >> 16) & 0o777
            if mode and not member.is_dir():
                os.chmod(target, mode | stat.S_IRUSR | stat.S_IWUSR)
            count += not member.is_dir()
    return count
