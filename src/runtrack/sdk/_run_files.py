"""Files of a run: upload, list and download its artifacts (the helper behind
``Run.upload_*``, ``Run.download_*`` and ``Run.get_file_names``)."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from runtrack.errors import InvalidTypeError, InvalidValueError, NotFoundError
from runtrack.model import ArtifactInfo
from runtrack.sdk._artifacts import artifact_ref, parse_ref
from runtrack.store.base import ArtifactStore
from runtrack.types import StrPath


class RunFiles:
    """The artifacts of run ``run_id`` in ``artifacts``."""

    def __init__(self, artifacts: ArtifactStore, run_id: str) -> None:
        self.artifacts = artifacts
        self.run_id = run_id

    def upload_file(self, name: str, path_or_stream: StrPath | BinaryIO) -> ArtifactInfo:
        """Store a local file (or a binary stream) as artifact ``name``.

        An artifact path can be used once per run: uploading to a taken name raises
        ArtifactExistsError.
        """
        if isinstance(path_or_stream, (str, os.PathLike)):
            source = Path(path_or_stream)
            if not source.is_file():
                raise InvalidValueError(
                    f"upload_file({name!r}): no file at {str(path_or_stream)!r}"
                )
            with open(source, "rb") as fh:
                return self.artifacts.put(self.run_id, name, fh)
        if isinstance(path_or_stream, io.TextIOBase):
            return self.artifacts.put(self.run_id, name, path_or_stream.read().encode())
        if hasattr(path_or_stream, "read"):
            return self.artifacts.put(self.run_id, name, path_or_stream)
        raise InvalidTypeError(
            f"upload_file({name!r}) needs a file path or a binary stream, got "
            f"{type(path_or_stream).__name__}"
        )

    def upload_files(self, names: Sequence[str], paths: Sequence[StrPath]) -> list[ArtifactInfo]:
        """Upload several files: ``names[i]`` gets the content of ``paths[i]``."""
        if len(names) != len(paths):
            raise InvalidTypeError(
                f"upload_files() got {len(names)} names and {len(paths)} paths; "
                "pass one name per path"
            )
        return [self.upload_file(n, p) for n, p in zip(names, paths, strict=True)]

    def upload_folder(self, name: str, path: StrPath) -> list[ArtifactInfo]:
        """Upload every file under folder ``path`` as ``<name>/<relative path>``."""
        root = Path(path)
        if not root.is_dir():
            raise InvalidValueError(f"upload_folder({name!r}): {str(path)!r} is not a folder")
        infos = []
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = file.relative_to(root).as_posix()
            infos.append(self.upload_file(f"{name.rstrip('/')}/{rel}", file))
        return infos

    def file_names(self) -> list[str]:
        """Paths of every artifact of the run (outputs, logs, images, uploads)."""
        return [a.path for a in self.artifacts.list(self.run_id)]

    def output_refs(self) -> dict[str, str]:
        """Files under ``outputs/``: artifact path -> reference (``download_file`` takes it)."""
        return {
            info.path: artifact_ref(self.run_id, info.path)
            for info in self.artifacts.list(self.run_id, "outputs")
        }

    def _locate(self, name: str) -> tuple[str, str]:
        ref = parse_ref(name)
        return ref if ref is not None else (self.run_id, name)

    def download_file(self, name: str, output_file_path: StrPath | None = None) -> str:
        """Copy artifact ``name`` (a path or a ``runtrack://`` reference) to a local file.

        Default destination: its base name in the current folder; an existing folder as
        ``output_file_path`` receives it under its base name.
        """
        run_id, path = self._locate(name)
        if not self.artifacts.exists(run_id, path):
            raise NotFoundError(
                f"cannot find the artifact {path!r} in run {run_id}; "
                "run.get_file_names() lists what the run has"
            )
        target = Path(output_file_path) if output_file_path is not None else Path(Path(path).name)
        if target.is_dir():
            target = target / Path(path).name
        target.parent.mkdir(parents=True, exist_ok=True)
        import shutil  # not at import time

        with self.artifacts.open(run_id, path) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        return str(target)

    def download_files(
        self,
        prefix: str | None,
        output_directory: StrPath | None,
        output_paths: Sequence[StrPath] | None,
        append_prefix: bool,
    ) -> list[str]:
        """Download every artifact under ``prefix`` (the whole run if None).

        Files land at ``<output_directory>/<artifact path>``; with ``append_prefix=False``
        a folder prefix is left out of that path (a prefix naming one file is not).
        """
        files = self.artifacts.list(self.run_id, (prefix or "").strip("/"))
        if output_paths is not None and len(output_paths) != len(files):
            raise InvalidValueError(
                f"download_files() found {len(files)} files but got {len(output_paths)} "
                "output_paths; pass one path per file or use output_directory"
            )
        base = Path(output_directory) if output_directory is not None else Path.cwd()
        # As Azure does: the prefix gets a trailing '/' before it is stripped, so only a
        # folder prefix is removed; a file named exactly keeps its whole path.
        folder = (prefix or "").strip("/") + "/"
        done: list[str] = []
        for i, info in enumerate(files):
            if output_paths is not None:
                dest = Path(output_paths[i])
            elif append_prefix or not prefix or not info.path.startswith(folder):
                dest = base / info.path
            else:
                dest = base / info.path[len(folder) :]
            done.append(self.download_file(info.path, dest))
        return done

    def upload_tree(self, folder: Path, prefix: str) -> None:
        """Upload a local folder at run end (overwrite: the final state wins)."""
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = f"{prefix}/{file.relative_to(folder).as_posix()}"
            with open(file, "rb") as fh:
                self.artifacts.put(self.run_id, rel, fh, overwrite=True)
