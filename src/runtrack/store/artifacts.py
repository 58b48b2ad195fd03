"""Run files: :class:`LocalArtifactStore` (a folder) and :class:`FsspecArtifactStore`.

Layout: ``<root>/<run_id>/<path>``. Every path goes through :func:`normalize_path`
(POSIX separators, no empty/``.`` segments; absolute paths, ``..`` and empty paths
rejected with InvalidValueError naming the path). The local store also refuses
paths that leave the run's folder through a symbolic link. ``list()`` leaves out files
whose names no path can address (``..\\..\\evil.txt``, ``a\\b``, names that are
not UTF-8, put there by hand or by another tool) and logs a warning naming
them, so every listed path can be opened and is a safe relative path to write out
(in a zip archive or a download folder).

Paths up to ``MAX_ARTIFACT_PATH_LENGTH`` (5,000 characters) work on a local folder
although file systems allow 255 bytes per name and about 4,096 per path: a path that
cannot be stored as it is goes to ``<run_id>/.runtrack-long-paths/<sha256 of the path>``
with its real path beside it in ``<sha256>.path``; ``list`` reports the real path.

Writes stream in 1 MiB blocks to a temporary file next to the target and rename it
into place, so readers never see half a file. ``put(overwrite=False)`` is atomic on
local folders (hard link, which fails if the name is taken); on other fsspec
filesystems it is check-then-write.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any, BinaryIO

from runtrack import limits
from runtrack.errors import (
    ArtifactExistsError,
    InvalidValueError,
    LimitExceededError,
    NotFoundError,
)
from runtrack.model import ArtifactInfo
from runtrack.store.base import ArtifactStore, is_safe_path, iter_chunks

__all__ = ["FsspecArtifactStore", "LocalArtifactStore", "normalize_path"]

log = logging.getLogger("runtrack.artifacts")

_TMP_PREFIX = ".tmp-"
#: Buffer of one open object-store file (s3fs defaults to 50 MiB, and a multipart
#: upload part must be at least 5 MiB): what a streamed upload or download holds.
_FSSPEC_BLOCK = 8 << 20
LONG_DIR = ".runtrack-long-paths"
_NAME_MAX = 255  # bytes in one file name (ext4, xfs, apfs, ntfs)
_PATH_ROOM = 3800  # bytes of a whole path, leaving room below PATH_MAX (4096) for temp names
_DRIVE = re.compile(r"^[A-Za-z]:")


def normalize_path(path: str) -> str:
    """``path`` as a clean relative POSIX path inside a run, or InvalidValueError."""
    if not isinstance(path, str) or not path.strip():
        raise InvalidValueError(f"artifact path {path!r} is empty; name a file inside the run")
    if len(path) > limits.MAX_ARTIFACT_PATH_LENGTH:
        raise LimitExceededError(
            f"artifact path {path[:80]!r}… is longer than MAX_ARTIFACT_PATH_LENGTH="
            f"{limits.MAX_ARTIFACT_PATH_LENGTH}"
        )
    text = path.replace("\\", "/")
    if "\x00" in text:
        raise InvalidValueError(f"artifact path {path!r} contains a NUL character")
    if text.startswith("/") or _DRIVE.match(text):
        raise InvalidValueError(
            f"artifact path {path!r} is absolute; use a path relative to the run"
        )
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise InvalidValueError(
            f"artifact path {path!r} contains '..'; paths must stay inside the run"
        )
    if not parts:
        raise InvalidValueError(f"artifact path {path!r} is empty; name a file inside the run")
    return "/".join(parts)


def _addressable(run_id: str, found: list[ArtifactInfo]) -> list[ArtifactInfo]:
    """``found`` without the files no path can address (warned about by name)."""
    safe = [info for info in found if is_safe_path(info.path)]
    if len(safe) != len(found):
        skipped = [info.path for info in found if not is_safe_path(info.path)]
        log.warning(
            "runtrack: run %s holds %d file(s) whose names cannot be served or archived "
            "safely, left out of its file list: %s; rename them inside the run's folder",
            run_id, len(skipped), ", ".join(repr(p) for p in skipped[:10]),
        )
    return sorted(safe, key=lambda info: info.path)


def _normalize_prefix(prefix: str) -> str:
    return "" if prefix.replace("\\", "/").strip("/. ") == "" else normalize_path(prefix)


def _check_run_id(run_id: str) -> str:
    if (
        not isinstance(run_id, str)
        or run_id in ("", ".", "..")
        or any(c in run_id for c in "/\\\x00")
    ):
        raise InvalidValueError(f"run id {run_id!r} cannot name an artifact folder")
    return run_id


class LocalArtifactStore:
    """Artifacts in a local folder; created on first write."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().absolute()

    def _run_dir(self, run_id: str) -> Path:
        return self.root / _check_run_id(run_id)

    def _target(self, run_id: str, path: str) -> tuple[str, Path]:
        rel = normalize_path(path)
        run_dir = self._run_dir(run_id)
        if rel.split("/", 1)[0] == LONG_DIR:
            raise InvalidValueError(f"artifact path {path!r}: {LONG_DIR} is reserved")
        target = run_dir / rel
        if _too_long(target):
            import hashlib  # only for over-long names: its OpenSSL load costs a trial ~10 ms

            target = run_dir / LONG_DIR / hashlib.sha256(rel.encode("utf-8")).hexdigest()
        base = os.path.realpath(run_dir)
        real = os.path.realpath(target)
        if real != base and not real.startswith(base + os.sep):
            raise InvalidValueError(
                f"artifact path {path!r} leaves the run's folder through a symbolic link"
            )
        return rel, target

    def put(
        self, run_id: str, path: str, source: bytes | BinaryIO, *, overwrite: bool = False
    ) -> ArtifactInfo:
        rel, target = self._target(run_id, path)
        if target.is_dir():
            raise InvalidValueError(f"artifact path {path!r} is a folder of run {run_id!r}")
        if not overwrite and target.exists():
            raise ArtifactExistsError(_exists_message(run_id, rel))
        target.parent.mkdir(parents=True, exist_ok=True)
        _note_long_path(target, rel)
        handle, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                if isinstance(source, (bytes, bytearray, memoryview)):
                    out.write(source)
                else:
                    for block in iter_chunks(source):
                        out.write(block)
            if overwrite:
                os.replace(tmp, target)
            else:
                _link_new(tmp, target, run_id, rel)
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)
        stat = target.stat()
        return ArtifactInfo(rel, stat.st_size, stat.st_mtime)

    def append(self, run_id: str, path: str, data: bytes) -> int:
        rel, target = self._target(run_id, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        _note_long_path(target, rel)
        with open(target, "ab") as out:
            out.write(data)
            return out.tell()

    def open(self, run_id: str, path: str) -> BinaryIO:
        rel, target = self._target(run_id, path)
        if not target.is_file():
            raise NotFoundError(_missing_message(run_id, rel))
        return open(target, "rb")

    def read_range(self, run_id: str, path: str, offset: int, length: int) -> bytes:
        return _read_range(self, run_id, path, offset, length)

    def list(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        run_dir = self._run_dir(run_id)
        rel_prefix = _normalize_prefix(prefix)
        base = run_dir / rel_prefix if rel_prefix else run_dir
        real_run = os.path.realpath(run_dir)
        found: list[ArtifactInfo] = []
        candidates: list[Path] = []
        if base.is_file():
            candidates.append(base)
        elif base.is_dir():
            for folder, dirs, files in os.walk(base):
                if Path(folder) == run_dir and LONG_DIR in dirs:
                    dirs.remove(LONG_DIR)
                candidates.extend(Path(folder) / name for name in files)
        found.extend(_long_paths(run_dir, rel_prefix))
        for file in candidates:
            if file.name.startswith(_TMP_PREFIX):
                continue
            real = os.path.realpath(file)
            if not real.startswith(real_run + os.sep) or not os.path.isfile(real):
                continue
            stat = file.stat()
            found.append(
                ArtifactInfo(file.relative_to(run_dir).as_posix(), stat.st_size, stat.st_mtime)
            )
        return _addressable(run_id, found)

    def exists(self, run_id: str, path: str) -> bool:
        _, target = self._target(run_id, path)
        return target.is_file()

    def delete_run(self, run_id: str) -> None:
        run_dir = self._run_dir(run_id)
        if run_dir.is_symlink():
            run_dir.unlink()
        elif run_dir.exists():
            shutil.rmtree(run_dir)


def _too_long(target: Path) -> bool:
    return len(os.fsencode(str(target))) > _PATH_ROOM or any(
        len(part.encode("utf-8")) > _NAME_MAX for part in target.parts
    )


def _note_long_path(target: Path, rel: str) -> None:
    """Record the real path of a file stored under :data:`LONG_DIR`."""
    if target.parent.name == LONG_DIR:
        note = target.with_name(target.name + ".path")
        if not note.exists():
            note.write_text(rel, encoding="utf-8")


def _long_paths(run_dir: Path, rel_prefix: str) -> list[ArtifactInfo]:
    folder = run_dir / LONG_DIR
    if not folder.is_dir():
        return []
    found = []
    for note in folder.glob("*.path"):
        data = note.with_suffix("")
        if not data.is_file():
            continue
        rel = note.read_text(encoding="utf-8")
        if rel_prefix and rel != rel_prefix and not rel.startswith(rel_prefix + "/"):
            continue
        stat = data.stat()
        found.append(ArtifactInfo(rel, stat.st_size, stat.st_mtime))
    return found


def _link_new(tmp: str, target: Path, run_id: str, rel: str) -> None:
    """Move ``tmp`` to ``target`` only if ``target`` does not exist (atomically)."""
    try:
        os.link(tmp, target)
    except FileExistsError as exc:
        raise ArtifactExistsError(_exists_message(run_id, rel)) from exc
    except OSError:  # no hard links here: fall back to check-then-rename
        if target.exists():
            raise ArtifactExistsError(_exists_message(run_id, rel)) from None
        os.replace(tmp, target)


def _exists_message(run_id: str, rel: str) -> str:
    return f"run {run_id!r} already has an artifact {rel!r}; pass overwrite=True to replace it"


def _missing_message(run_id: str, rel: str) -> str:
    return f"run {run_id!r} has no artifact {rel!r}"


def _check_range(offset: int, length: int) -> None:
    if offset < 0 or length < 0:
        raise InvalidValueError(
            f"read range offset={offset}, length={length} is not valid: both must be >= 0"
        )


class FsspecArtifactStore:
    """Artifacts under any fsspec URL (``s3://bucket/prefix``, ``memory://x`` …)."""

    def __init__(self, url: str, **storage_options: Any) -> None:
        import fsspec

        self.url = url
        self.fs, root = fsspec.core.url_to_fs(url, **storage_options)
        self.root = str(root).rstrip("/")

    def _run_key(self, run_id: str) -> str:
        return f"{self.root}/{_check_run_id(run_id)}"

    def _key(self, run_id: str, path: str) -> tuple[str, str]:
        rel = normalize_path(path)
        return rel, f"{self._run_key(run_id)}/{rel}"

    def put(
        self, run_id: str, path: str, source: bytes | BinaryIO, *, overwrite: bool = False
    ) -> ArtifactInfo:
        rel, key = self._key(run_id, path)
        if not overwrite and self.fs.exists(key):
            raise ArtifactExistsError(_exists_message(run_id, rel))
        parent, _, name = key.rpartition("/")
        self.fs.makedirs(parent, exist_ok=True)
        tmp = f"{parent}/{_TMP_PREFIX}{uuid.uuid4().hex}-{name}"
        try:
            with self.fs.open(tmp, "wb", block_size=_FSSPEC_BLOCK) as out:
                if isinstance(source, (bytes, bytearray, memoryview)):
                    out.write(source)
                else:
                    for block in iter_chunks(source):
                        out.write(block)
            self.fs.mv(tmp, key)
        finally:
            if self.fs.exists(tmp):
                self.fs.rm(tmp)
        return self._info(rel, key)

    def _info(self, rel: str, key: str) -> ArtifactInfo:
        info = self.fs.info(key)
        return ArtifactInfo(rel, int(info.get("size") or 0), _mtime(info))

    def append(self, run_id: str, path: str, data: bytes) -> int:
        _, key = self._key(run_id, path)
        parent = key.rpartition("/")[0]
        self.fs.makedirs(parent, exist_ok=True)
        try:
            with self.fs.open(key, "ab") as out:
                out.write(data)
        except (NotImplementedError, ValueError):  # object stores cannot append
            old = self.fs.cat_file(key) if self.fs.exists(key) else b""
            self.fs.pipe_file(key, old + data)
        return int(self.fs.size(key))

    def open(self, run_id: str, path: str) -> BinaryIO:
        rel, key = self._key(run_id, path)
        if not self.fs.isfile(key):
            raise NotFoundError(_missing_message(run_id, rel))
        handle: BinaryIO = self.fs.open(key, "rb", block_size=_FSSPEC_BLOCK)
        return handle

    def read_range(self, run_id: str, path: str, offset: int, length: int) -> bytes:
        return _read_range(self, run_id, path, offset, length)

    def list(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        run_key = self._run_key(run_id)
        rel_prefix = _normalize_prefix(prefix)
        base = f"{run_key}/{rel_prefix}" if rel_prefix else run_key
        if self.fs.isfile(base):
            entries = {base: self.fs.info(base)}
        elif self.fs.isdir(base):
            entries = self.fs.find(base, detail=True)
        else:
            entries = {}
        strip = self.fs._strip_protocol(run_key).rstrip("/") + "/"
        found = []
        for key, info in entries.items():
            rel = self.fs._strip_protocol(key)
            if not rel.startswith(strip) or rel.rpartition("/")[2].startswith(_TMP_PREFIX):
                continue
            found.append(ArtifactInfo(rel[len(strip) :], int(info.get("size") or 0), _mtime(info)))
        return _addressable(run_id, found)

    def exists(self, run_id: str, path: str) -> bool:
        _, key = self._key(run_id, path)
        return bool(self.fs.isfile(key))

    def delete_run(self, run_id: str) -> None:
        run_key = self._run_key(run_id)
        if self.fs.exists(run_key):
            self.fs.rm(run_key, recursive=True)


def _mtime(info: dict[str, Any]) -> float | None:
    for key in ("mtime", "LastModified", "last_modified", "created"):
        value = info.get(key)
        if isinstance(value, (int, float)):
            return float(value)
        stamp = getattr(value, "timestamp", None)
        if callable(stamp):
            return float(stamp())
    return None


def _read_range(store: ArtifactStore, run_id: str, path: str, offset: int, length: int) -> bytes:
    """``read_range`` for stores whose files can seek: open, seek, read."""
    _check_range(offset, length)
    with store.open(run_id, path) as source:
        source.seek(offset)
        return source.read(length)
