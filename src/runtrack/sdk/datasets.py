"""``Dataset``, ``TabularDataset``, ``FileDataset`` and ``Datastore``: the Azure ML v1
face of datasets.

A dataset is a definition (paths plus how to read them), not a copy: local paths, glob
patterns, folders and fsspec URLs (``s3://…``, ``memory://…``), or ``(datastore, path)``
pairs. ``register`` stores the definition as the next version of a name, with a digest
over the definition and the files it matched (path, size, modification time), so a run's
lineage says which data it read. ``ds.as_named_input("train").as_mount()`` in a
``ScriptRunConfig``'s arguments becomes a local folder path on the command line and is
recorded as an input of the run; ``run.input_datasets["train"]`` answers it inside the
script. pandas (and pyarrow for Parquet) are imported only when a dataframe is asked for.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtrack.catalog import DatasetInfo, RunInputInfo, check_model_name
from runtrack.errors import ConfigError, InvalidTypeError, InvalidValueError, NotFoundError

if TYPE_CHECKING:
    from runtrack.sdk.workspace import Workspace

__all__ = ["Dataset", "DatasetConsumptionConfig", "Datastore", "FileDataset", "TabularDataset"]

DEFAULT_DATASTORE = "workspaceblobstore"
_SOURCE_TYPE = "runtrack"


# -- datastores -------------------------------------------------------------------------------


class Datastore:
    """A named root (a folder or fsspec URL) that dataset paths can be relative to.

    ``ws.get_default_datastore()`` (``workspaceblobstore``) is the ``.datastore`` folder of
    the workspace's artifact root, so it lives wherever the workspace's files live.
    """

    def __init__(self, workspace: Workspace, name: str = DEFAULT_DATASTORE) -> None:
        if name not in (DEFAULT_DATASTORE, "workspacefilestore"):
            raise NotFoundError(
                f"datastore {name!r} does not exist; runtrack workspaces have the default "
                f"datastore {DEFAULT_DATASTORE!r} (ws.get_default_datastore()), and datasets "
                "also take local paths and fsspec URLs directly"
            )
        root = workspace.settings.artifact_root
        if root is None:
            raise ConfigError(
                "a server workspace has no datastore on this machine: give Dataset factories "
                "local paths or fsspec URLs (s3://…) instead"
            )
        self.workspace = workspace
        self.name = name
        self.root = root.rstrip("/") + "/.datastore"
        self.datastore_type = "AzureBlob" if name == DEFAULT_DATASTORE else "AzureFile"

    @staticmethod
    def get(workspace: Workspace, datastore_name: str) -> Datastore:
        return Datastore(workspace, datastore_name)

    @staticmethod
    def get_default(workspace: Workspace) -> Datastore:
        return Datastore(workspace)

    def path(self, path: str = "") -> str:
        """The full location of ``path`` under this datastore."""
        rel = path.replace("\\", "/").strip("/")
        if ".." in rel.split("/"):
            raise InvalidValueError(f"datastore path {path!r} contains '..'")
        return f"{self.root}/{rel}" if rel else self.root

    def upload(self, src_dir: str, target_path: str | None = None, overwrite: bool = False,
               show_progress: bool = False) -> str:
        """Copy the local folder ``src_dir`` to ``target_path`` in the datastore."""
        source = Path(src_dir)
        if not source.is_dir():
            raise NotFoundError(f"src_dir {src_dir!r} is not a folder")
        files = [p for p in sorted(source.rglob("*")) if p.is_file()]
        return self.upload_files([str(p) for p in files], relative_root=str(source),
                                 target_path=target_path, overwrite=overwrite)

    def upload_files(self, files: Sequence[str], relative_root: str | None = None,
                     target_path: str | None = None, overwrite: bool = False,
                     show_progress: bool = False) -> str:
        """Copy local ``files`` (paths kept relative to ``relative_root``, else their
        names) to ``target_path``; returns that location. Refuses to replace a file unless
        ``overwrite``."""
        fs, base = _fs(self.path(target_path or ""))
        for name in files:
            local = Path(name)
            if not local.is_file():
                raise NotFoundError(f"{name!r} is not a file")
            rel = (local.resolve().relative_to(Path(relative_root).resolve()).as_posix()
                   if relative_root else local.name)
            dest = f"{base}/{rel}"
            if fs.exists(dest) and not overwrite:
                raise FileExistsError(f"{dest} exists in datastore {self.name!r}; "
                                      "pass overwrite=True to replace it")
            fs.makedirs(dest.rsplit("/", 1)[0], exist_ok=True)
            fs.put_file(str(local), dest)
        return self.path(target_path or "")

    def __repr__(self) -> str:
        return f"Datastore(name={self.name!r}, root={self.root!r})"


# -- resolving paths --------------------------------------------------------------------------


def _fs(location: str) -> tuple[Any, str]:
    from fsspec.core import url_to_fs

    fs, path = url_to_fs(location)
    return fs, str(path).rstrip("/") or str(path)


def _location(item: Any) -> str:
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], Datastore):
        return item[0].path(str(item[1]))
    if isinstance(item, (str, os.PathLike)):
        text = os.fspath(item)
        return text if "://" in text else str(Path(text).expanduser().resolve())
    raise InvalidTypeError(
        f"dataset paths are str, os.PathLike or (Datastore, path) pairs; got {item!r}"
    )


def _locations(path: Any) -> list[str]:
    items = path if isinstance(path, builtins.list) else [path]
    if not items:
        raise InvalidValueError("a dataset needs at least one path")
    return [_location(i) for i in items]


def _files(locations: Sequence[str]) -> builtins.list[tuple[Any, str, dict[str, Any]]]:
    """Every file the locations match: ``(filesystem, path, info)``, sorted by path."""
    found: dict[str, tuple[Any, str, dict[str, Any]]] = {}
    for location in locations:
        fs, path = _fs(location)
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        if any(c in path for c in "*?["):
            matches = fs.glob(path, detail=True)
        elif fs.isdir(path):
            matches = fs.find(path, detail=True)
        elif fs.exists(path):
            matches = {path: fs.info(path)}
        else:
            raise NotFoundError(f"dataset path {location!r} matches no file")
        files = {n: i for n, i in matches.items() if i.get("type") == "file"}
        if not files:
            raise NotFoundError(f"dataset path {location!r} matches no file")
        for name, info in files.items():
            found[f"{protocol}::{name}"] = (fs, name, info)
    return [found[k] for k in sorted(found)]


def _digest(definition: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode())
    for _, name, info in _files(definition["paths"]):
        stamp = info.get("mtime") or info.get("LastModified") or info.get("created") or ""
        digest.update(f"\n{name}\t{info.get('size')}\t{stamp}".encode())
    return digest.hexdigest()[:16]


def _common_base(names: Sequence[str]) -> str:
    """The deepest folder holding every one of ``names`` ("" when none)."""
    folders = [n.split("/")[:-1] for n in names]
    common = folders[0] if folders else []
    for parts in folders[1:]:
        size = 0
        while size < min(len(common), len(parts)) and common[size] == parts[size]:
            size += 1
        common = common[:size]
    return "/".join(common)


# -- datasets -----------------------------------------------------------------------------------


class _Dataset:
    """What tabular and file datasets share."""

    _kind = ""

    def __init__(self, definition: dict[str, Any], *, workspace: Workspace | None = None,
                 info: DatasetInfo | None = None) -> None:
        self._definition = definition
        self._workspace = workspace
        self._info = info

    @property
    def name(self) -> str | None:
        return None if self._info is None else self._info.name

    @property
    def version(self) -> int | None:
        return None if self._info is None else self._info.version

    @property
    def id(self) -> str | None:
        return None if self._info is None else f"{self._info.name}:{self._info.version}"

    @property
    def description(self) -> str | None:
        return None if self._info is None else self._info.description

    @property
    def tags(self) -> dict[str, str]:
        return {} if self._info is None else dict(self._info.tags)

    @property
    def digest(self) -> str:
        return self._info.digest if self._info is not None else _digest(self._definition)

    @property
    def definition(self) -> dict[str, Any]:
        copy: dict[str, Any] = json.loads(json.dumps(self._definition))
        return copy

    def _file_list(self) -> builtins.list[tuple[Any, str, dict[str, Any]]]:
        return _files(self._definition["paths"])

    def to_path(self) -> builtins.list[str]:
        """The files' paths relative to their common folder."""
        files = self._file_list()
        base = _common_base([n for _, n, _ in files])
        return [n[len(base):] if base else "/" + n.lstrip("/") for _, n, _ in files]

    def download(
        self, target_path: str | None = None, overwrite: bool = False
    ) -> builtins.list[str]:
        """Copy the files (layout kept below their common folder) into ``target_path``
        (default: a new temporary folder); returns the local paths."""
        target = Path(target_path) if target_path else Path(tempfile.mkdtemp(prefix="dataset-"))
        files = self._file_list()
        base = _common_base([n for _, n, _ in files])
        out = []
        for fs, name, _info in files:
            dest = target / (name[len(base):].lstrip("/") if base else name.lstrip("/"))
            if dest.exists() and not overwrite:
                raise FileExistsError(f"{dest} exists; pass overwrite=True to replace it")
            dest.parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(name, str(dest))
            out.append(str(dest))
        return out

    def mount(self, mount_point: str | None = None) -> MountContext:
        """A context whose ``mount_point`` is a local folder holding the files: their own
        folder when they are local and ``mount_point`` is not given, else a copy."""
        return MountContext(self, mount_point)

    def _local_folder(self, wanted: str | None = None) -> str:
        files = self._file_list()
        local = all(getattr(fs, "protocol", "") in ("file", ("file", "local"))
                    for fs, _, _ in files)
        if local and wanted is None:
            return _common_base([n for _, n, _ in files]) or "/"
        folder = wanted or str(Path(tempfile.gettempdir()) / "runtrack_datasets" / self.digest)
        self.download(folder, overwrite=True)
        return folder

    # -- registry ------------------------------------------------------------------------------

    def register(self, workspace: Workspace, name: str, description: str | None = None,
                 tags: Mapping[str, Any] | None = None,
                 create_new_version: bool = False) -> _Dataset:
        """Store this definition as the next version of ``name``. With
        ``create_new_version=False`` (Azure's default) a name that exists keeps its
        version when the definition and files are unchanged, else ConflictError."""
        check_model_name(name)
        info = workspace.store.register_dataset(
            name, kind=self._kind, definition=self._definition, digest=_digest(self._definition),
            description=description, tags={str(k): str(v) for k, v in (tags or {}).items()},
            create_new_version=create_new_version,
        )
        return type(self)(self._definition, workspace=workspace, info=info)

    def as_named_input(self, name: str) -> DatasetConsumptionConfig:
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidValueError(
                f"input name {name!r} must be a Python identifier (letters, digits, _)"
            )
        return DatasetConsumptionConfig(name, self)

    def as_mount(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        return self.as_named_input(_input_name(self)).as_mount(path_on_compute)

    def as_download(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        return self.as_named_input(_input_name(self)).as_download(path_on_compute)

    def __repr__(self) -> str:
        where = f"name={self.name!r}, version={self.version}, " if self._info else ""
        return f"{type(self).__name__}({where}paths={self._definition['paths']!r})"


def _input_name(dataset: _Dataset) -> str:
    text = "".join(c if c.isalnum() else "_" for c in (dataset.name or "input"))
    return text if text.isidentifier() else f"input_{text}"


class TabularDataset(_Dataset):
    """Delimited or Parquet files read as one table."""

    _kind = "tabular"

    def to_pandas_dataframe(self) -> Any:
        import pandas as pd  # type: ignore[import-untyped,unused-ignore]

        fmt = self._definition.get("format", "delimited")
        frames = []
        for fs, name, _info in self._file_list():
            with fs.open(name, "rb") as fh:
                if fmt == "parquet":
                    frames.append(pd.read_parquet(fh))
                else:
                    header = 0 if self._definition.get("header", True) else None
                    frames.append(pd.read_csv(fh, sep=self._definition.get("separator", ","),
                                              header=header))
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    def take(self, count: int) -> Any:
        """The first ``count`` rows as a dataframe."""
        return self.to_pandas_dataframe().head(count)


class FileDataset(_Dataset):
    """A set of files, downloaded or mounted as they are."""

    _kind = "file"


class MountContext:
    """``with ds.mount() as ctx: ctx.mount_point`` (also ``start()`` / ``stop()``)."""

    def __init__(self, dataset: _Dataset, mount_point: str | None) -> None:
        self._dataset = dataset
        self._wanted = mount_point
        self.mount_point = mount_point or ""
        self._copied = False

    def start(self) -> None:
        self.mount_point = self._dataset._local_folder(self._wanted)
        files = self._dataset._file_list()
        self._copied = not all(n.startswith(self.mount_point) for _, n, _ in files)

    def stop(self) -> None:
        if self._copied and self._wanted is None:
            shutil.rmtree(self.mount_point, ignore_errors=True)

    def __enter__(self) -> MountContext:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class DatasetConsumptionConfig:
    """A dataset given to a submitted script under a name (``ds.as_named_input("x")``).

    ``.as_mount()`` / ``.as_download()``: on the command line it is the local folder
    holding the files, and ``run.input_datasets[name]`` is that path; without a mode the
    argument is ``DatasetConsumptionConfig:<name>`` and ``input_datasets[name]`` is the
    dataset itself.
    """

    def __init__(self, name: str, dataset: _Dataset, mode: str = "direct",
                 path_on_compute: str | None = None) -> None:
        self.name = name
        self.dataset = dataset
        self.mode = mode
        self.path_on_compute = path_on_compute
        self._path: str | None = None

    def as_mount(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        return DatasetConsumptionConfig(self.name, self.dataset, "mount", path_on_compute)

    def as_download(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        return DatasetConsumptionConfig(self.name, self.dataset, "download", path_on_compute)

    def local_path(self) -> str:
        """The local folder the script sees (mount/download modes)."""
        if self._path is None:
            if self.mode == "download":
                folder = self.path_on_compute or str(
                    Path(tempfile.gettempdir()) / "runtrack_datasets" / self.dataset.digest)
                self.dataset.download(folder, overwrite=True)
                self._path = folder
            else:
                self._path = self.dataset._local_folder(self.path_on_compute)
        return self._path

    def __str__(self) -> str:
        if self.mode == "direct":
            return f"DatasetConsumptionConfig:{self.name}"
        return self.local_path()

    def __fspath__(self) -> str:
        return str(self)

    def to_run_input(self) -> RunInputInfo:
        """The lineage record of this input."""
        info = self.dataset._info
        tags = {"mode": self.mode}
        if self.mode != "direct":
            tags["path"] = self.local_path()
        return RunInputInfo(
            name=self.name, digest=self.dataset.digest,
            dataset_name=None if info is None else info.name,
            dataset_version=None if info is None else info.version,
            source_type=f"{_SOURCE_TYPE}.{self.dataset._kind}",
            source=json.dumps(self.dataset._definition, sort_keys=True), tags=tags,
        )


def input_datasets(workspace: Workspace, run_id: str) -> dict[str, Any]:
    """``run.input_datasets``: input name -> local path (mount/download) or dataset."""
    out: dict[str, Any] = {}
    for item in workspace.store.get_run_inputs([run_id]).get(run_id, []):
        if item.tags.get("path"):
            out[item.name] = item.tags["path"]
        elif item.source_type.startswith(_SOURCE_TYPE + "."):
            cls = TabularDataset if item.source_type.endswith(".tabular") else FileDataset
            info = None
            if item.dataset_name is not None:
                info = workspace.store.get_dataset(item.dataset_name, item.dataset_version)
            out[item.name] = cls(json.loads(item.source), workspace=workspace, info=info)
    return out


# -- factories (Dataset.Tabular / Dataset.File) -------------------------------------------------


class _TabularFactory:
    @staticmethod
    def from_delimited_files(path: Any, separator: str = ",", header: bool | Any = True,
                             validate: bool = True, **_ignored: Any) -> TabularDataset:
        definition: dict[str, Any] = {"paths": _locations(path), "format": "delimited",
                                      "separator": separator, "header": bool(header)}
        if validate:
            _files(definition["paths"])
        return TabularDataset(definition)

    @staticmethod
    def from_parquet_files(path: Any, validate: bool = True, **_ignored: Any) -> TabularDataset:
        definition: dict[str, Any] = {"paths": _locations(path), "format": "parquet"}
        if validate:
            _files(definition["paths"])
        return TabularDataset(definition)


class _FileFactory:
    @staticmethod
    def from_files(path: Any, validate: bool = True, **_ignored: Any) -> FileDataset:
        definition: dict[str, Any] = {"paths": _locations(path), "format": "files"}
        if validate:
            _files(definition["paths"])
        return FileDataset(definition)


class Dataset:
    """``Dataset.Tabular.from_delimited_files(...)``, ``Dataset.File.from_files(...)``,
    ``Dataset.get_by_name(ws, name, version="latest")``, ``Dataset.get_all(ws)``."""

    Tabular = _TabularFactory
    File = _FileFactory

    @staticmethod
    def get_by_name(workspace: Workspace, name: str, version: int | str = "latest") -> _Dataset:
        wanted = None if version == "latest" else int(version)
        info = workspace.store.get_dataset(name, wanted)
        cls = TabularDataset if info.kind == "tabular" else FileDataset
        return cls(info.definition, workspace=workspace, info=info)

    @staticmethod
    def get_all(workspace: Workspace) -> dict[str, _Dataset]:
        """Name -> latest version of every registered dataset."""
        latest: dict[str, DatasetInfo] = {}
        for info in workspace.store.list_datasets():
            latest[info.name] = info
        return {
            name: (TabularDataset if info.kind == "tabular" else FileDataset)(
                info.definition, workspace=workspace, info=info)
            for name, info in latest.items()
        }
