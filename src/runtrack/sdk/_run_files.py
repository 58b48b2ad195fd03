"""Files of a run: upload, list and download artifacts (mixed into Run)."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from runtrack.errors import InvalidTypeError, InvalidValueError, NotFoundError
from runtrack.model import ArtifactInfo
from runtrack.sdk._artifacts import parse_ref
from runtrack.store.base import ArtifactStore
from runtrack.types import StrPath


class FilesMixin:
    """Artifact methods of :class:`runtrack.Run`."""

    id: str
    _artifacts: ArtifactStore

    def upload_file(
        self, name: str, path_or_stream: StrPath | BinaryIO, datastore_name: str | None = None
    ) -> ArtifactInfo:
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
                return self._artifacts.put(self.id, name, fh)
        if isinstance(path_or_stream, io.TextIOBase):
            return self._artifacts.put(self.id, name, path_or_stream.read().encode())
        if hasattr(path_or_stream, "read"):
            return self._artifacts.put(self.id, name, path_or_stream)
        raise InvalidTypeError(
            f"upload_file({name!r}) needs a file path or a binary stream, got "
            f"{type(path_or_stream).__name__}"
        )

    def upload_files(
        self,
        names: Sequence[str],
        paths: Sequence[StrPath],
        return_artifacts: bool = False,
        timeout_seconds: float | None = None,
        datastore_name: str | None = None,
    ) -> list[ArtifactInfo] | None:
        """Upload several files: ``names[i]`` gets the content of ``paths[i]``."""
        if len(names) != len(paths):
            raise InvalidTypeError(
                f"upload_files() got {len(names)} names and {len(paths)} paths; "
                "pass one name per path"
            )
        infos = [self.upload_file(n, p) for n, p in zip(names, paths, strict=False)]
        return infos if return_artifacts else None

    def upload_folder(
        self, name: str, path: StrPath, datastore_name: str | None = None
    ) -> list[ArtifactInfo]:
        """Upload every file under folder ``path`` as ``<name>/<relative path>``."""
        root = Path(path)
        if not root.is_dir():
            raise InvalidValueError(f"upload_folder({name!r}): {str(path)!r} is not a folder")
        infos = []
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = file.relative_to(root).as_posix()
            infos.append(self.upload_file(f"{name.rstrip('/')}/{rel}", file))
        return infos

    def get_file_names(self) -> list[str]:
        """Paths of every artifact of the run (outputs, logs, images, uploads)."""
        return [a.path for a in self._artifacts.list(self.id)]

    def _locate(self, name: str) -> tuple[str, str]:
        ref = parse_ref(name)
        return ref if ref is not None else (self.id, name)

    def download_file(
        self, name: str, output_file_path: StrPath | None = None, _validate_checksum: bool = False
    ) -> str:
        """Copy artifact ``name`` (a path or a ``runtrack://`` reference) to a local file.

        Default destination: its base name in the current folder; an existing folder as
        ``output_file_path`` receives it under its base name.
        """
        run_id, path = self._locate(name)
        if not self._artifacts.exists(run_id, path):
            raise NotFoundError(
                f"cannot find the artifact {path!r} in run {run_id}; "
                "run.get_file_names() lists what the run has"
            )
        target = Path(output_file_path) if output_file_path is not None else Path(Path(path).name)
        if target.is_dir():
            target = target / Path(path).name
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._artifacts.open(run_id, path) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        return str(target)

    def download_files(
        self,
        prefix: str | None = None,
        output_directory: StrPath | None = None,
        output_paths: Sequence[StrPath] | None = None,
        batch_size: int = 100,
        append_prefix: bool = True,
        timeout_seconds: float | None = None,
    ) -> list[str]:
        """Download every artifact under ``prefix`` (the whole run if None).

        Files land at ``<output_directory>/<artifact path>``; with ``append_prefix=False``
        a folder prefix is left out of that path (a prefix naming one file is not).
        """
        files = self._artifacts.list(self.id, (prefix or "").strip("/"))
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

    def _upload_tree(self, folder: Path, prefix: str) -> None:
        """Upload a local folder at run end (overwrite: the final state wins)."""
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = f"{prefix}/{file.relative_to(folder).as_posix()}"
            with open(file, "rb") as fh:
                self._artifacts.put(self.id, rel, fh, overwrite=True)
