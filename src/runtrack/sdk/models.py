"""``Model``: the Azure ML v1 face of the model registry.

``Model.register(ws, model_path, model_name)`` and ``run.register_model(name, path)``
copy the files into the artifact store (under :data:`runtrack.catalog.MODEL_FILES_KEY`,
in a folder of their own, never overwritten) and then create the next version of the
name in the tracking store. MLflow clients see the same rows through the server's
``registered-models`` / ``model-versions`` routes.
"""

from __future__ import annotations

import builtins
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtrack.catalog import MODEL_FILES_KEY, ModelVersionInfo, check_model_name
from runtrack.errors import InvalidValueError, NotFoundError
from runtrack.store.base import ArtifactStore, TrackingStore

if TYPE_CHECKING:
    from runtrack.sdk.workspace import Workspace

__all__ = ["Model"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _stores(workspace: Workspace) -> tuple[TrackingStore, ArtifactStore]:
    return workspace.store, workspace.artifacts


def _texts(values: Mapping[str, Any] | None, what: str) -> dict[str, str]:
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise InvalidValueError(f"{what} must be a dict of str -> str, got {type(values).__name__}")
    return {str(k): str(v) for k, v in values.items()}


def _new_folder(name: str) -> str:
    return f"{_UNSAFE.sub('_', name)[:100] or 'model'}/{uuid.uuid4().hex}"


def _upload_local(artifacts: ArtifactStore, folder: str, path: Path) -> None:
    """Copy a local file or folder to ``folder/<its name>`` in the model files."""
    if path.is_file():
        with path.open("rb") as fh:
            artifacts.put(MODEL_FILES_KEY, f"{folder}/{path.name}", fh)
        return
    files = sorted(p for p in path.rglob("*") if p.is_file())
    if not files:
        raise InvalidValueError(f"model folder {str(path)!r} holds no files; nothing to register")
    for file in files:
        rel = file.relative_to(path).as_posix()
        with file.open("rb") as fh:
            artifacts.put(MODEL_FILES_KEY, f"{folder}/{path.name}/{rel}", fh)


class Model:
    """A version of a registered model.

    ``Model(ws, name)`` is the latest version, ``Model(ws, name, version=2)`` a given
    one; ``Model(ws, id="name:2")`` works too. Unknown names and versions raise
    :class:`runtrack.errors.NotFoundError` naming what exists.
    """

    def __init__(
        self,
        workspace: Workspace,
        name: str | None = None,
        id: str | None = None,
        tags: Any = None,
        properties: Any = None,
        version: int | None = None,
        run_id: str | None = None,
        _info: ModelVersionInfo | None = None,
        **_ignored: Any,
    ) -> None:
        self.workspace = workspace
        if _info is None:
            if id is not None:
                name, _, number = id.partition(":")
                version = int(number) if number else version
            if not name:
                raise InvalidValueError("Model(ws, name) needs a model name (or id='name:3')")
            _info = self._find(workspace, name, version, tags, properties, run_id)
        self._info = _info

    @staticmethod
    def _find(workspace: Workspace, name: str, version: int | None, tags: Any,
              properties: Any, run_id: str | None) -> ModelVersionInfo:
        store, _ = _stores(workspace)
        if version is not None:
            return store.get_model_version(name, int(version))
        found = Model.list(workspace, name=name, tags=tags, properties=properties,
                           run_id=run_id, latest=True)
        if not found:
            store.get_registered_model(name)  # NotFoundError naming the models
            raise NotFoundError(
                f"model {name!r} has no version matching tags={tags!r}, "
                f"properties={properties!r}, run_id={run_id!r}"
            )
        return found[0]._info

    # -- attributes as Azure names them ---------------------------------------------------

    @property
    def name(self) -> str:
        return self._info.name

    @property
    def version(self) -> int:
        return self._info.version

    @property
    def id(self) -> str:
        return f"{self._info.name}:{self._info.version}"

    @property
    def tags(self) -> dict[str, str | None]:
        return dict(self._info.tags)

    @property
    def properties(self) -> dict[str, str]:
        return dict(self._info.properties)

    @property
    def description(self) -> str | None:
        return self._info.description

    @property
    def run_id(self) -> str | None:
        return self._info.run_id

    @property
    def created_time(self) -> datetime:
        return datetime.fromtimestamp(self._info.created_time, tz=timezone.utc)

    @property
    def url(self) -> str:
        """Where the files are: ``<source>`` as registered (a local path or ``runs:/…``)."""
        return self._info.source

    @property
    def model_framework(self) -> str | None:
        return self._info.properties.get("model_framework")

    @property
    def aliases(self) -> builtins.list[str]:
        return list(self._info.aliases)

    def __repr__(self) -> str:
        return f"Model(workspace={self.workspace!r}, name={self.name!r}, version={self.version})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def serialize(self) -> dict[str, Any]:
        """The version as a plain dict (Azure's ``Model.serialize``)."""
        info = self._info
        return {"id": self.id, "name": info.name, "version": info.version,
                "description": info.description, "tags": dict(info.tags),
                "properties": dict(info.properties), "runId": info.run_id,
                "url": info.source, "createdTime": self.created_time.isoformat()}

    # -- registering ---------------------------------------------------------------------------

    @classmethod
    def register(
        cls,
        workspace: Workspace,
        model_path: str | Path,
        model_name: str,
        tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        description: str | None = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        **_ignored: Any,
    ) -> Model:
        """Register the local file or folder ``model_path`` as the next version of
        ``model_name`` (version 1 for a new name)."""
        check_model_name(model_name)
        path = Path(model_path)
        if not path.exists():
            raise NotFoundError(
                f"model_path {str(model_path)!r} does not exist (from {Path.cwd()}); "
                "pass the path of a model file or folder"
            )
        store, artifacts = _stores(workspace)
        folder = _new_folder(model_name)
        _upload_local(artifacts, folder, path)
        props = _texts(properties, "properties")
        if model_framework:
            props.setdefault("model_framework", model_framework)
        if model_framework_version:
            props.setdefault("model_framework_version", model_framework_version)
        info = store.create_model_version(
            model_name, source=str(path.resolve()), files=folder, description=description,
            tags=dict(_texts(tags, "tags")), properties=props,
        )
        return cls(workspace, _info=info)

    @classmethod
    def _register_run_files(
        cls, workspace: Workspace, run_id: str, model_name: str, model_path: str,
        tags: Mapping[str, Any] | None, properties: Mapping[str, Any] | None,
        description: str | None, model_framework: str | None,
    ) -> Model:
        """``run.register_model``: copy the run's file or folder ``model_path``."""
        check_model_name(model_name)
        store, artifacts = _stores(workspace)
        rel = model_path.replace("\\", "/").strip("/")
        base = rel.rsplit("/", 1)[-1]
        files = [] if not rel else artifacts.list(run_id, rel)
        folder = _new_folder(model_name)
        if files:
            for item in files:
                inner = "" if item.path == rel else item.path[len(rel) + 1:]
                target = f"{folder}/{base}/{inner}" if inner else f"{folder}/{base}"
                with artifacts.open(run_id, item.path) as fh:
                    artifacts.put(MODEL_FILES_KEY, target, fh)
        elif rel and Path(model_path).exists():  # inside a running script, before upload
            _upload_local(artifacts, folder, Path(model_path))
        else:
            present = sorted({f.path.split("/", 1)[0] for f in artifacts.list(run_id)})
            raise NotFoundError(
                f"run {run_id!r} has no file or folder {model_path!r} (its top-level files "
                f"and folders: {', '.join(present) or 'none'}); upload it first, e.g. "
                "write it under ./outputs or call run.upload_file()"
            )
        props = _texts(properties, "properties")
        if model_framework:
            props.setdefault("model_framework", model_framework)
        info = store.create_model_version(
            model_name, source=f"runs:/{run_id}/{rel}", files=folder, run_id=run_id,
            description=description, tags=dict(_texts(tags, "tags")), properties=props,
        )
        return cls(workspace, _info=info)

    # -- listing ----------------------------------------------------------------------------------

    @staticmethod
    def list(
        workspace: Workspace,
        name: str | None = None,
        tags: Iterable[Any] | None = None,
        properties: Iterable[Any] | None = None,
        run_id: str | None = None,
        latest: bool = False,
        **_ignored: Any,
    ) -> builtins.list[Model]:
        """Versions, newest first per name. ``tags``/``properties`` filter as Azure's
        do: ``["key"]`` (has the key) or ``[["key", "value"]]`` (has that value);
        ``latest=True`` keeps the newest matching version of each name."""
        store, _ = _stores(workspace)
        if name is not None:
            try:
                infos = store.list_model_versions(name)
            except NotFoundError:
                return []
        else:
            infos = store.list_model_versions()
        wanted_tags = _conditions(tags, "tags")
        wanted_props = _conditions(properties, "properties")
        found = [
            i for i in infos
            if (run_id is None or i.run_id == run_id)
            and _matches(i.tags, wanted_tags) and _matches(i.properties, wanted_props)
        ]
        found.sort(key=lambda i: (i.name, -i.version))
        if latest:
            newest: dict[str, ModelVersionInfo] = {}
            for info in found:
                newest.setdefault(info.name, info)
            found = list(newest.values())
        return [Model(workspace, _info=i) for i in found]

    @staticmethod
    def get_model_path(model_name: str, version: int | None = None,
                       _workspace: Workspace | None = None) -> str:
        """Download the model into ``./azureml-models/<name>/<version>`` and return the
        path of its file or folder (Azure's layout inside a deployment)."""
        if _workspace is None:
            from runtrack.sdk.workspace import Workspace

            _workspace = Workspace()
        model = Model(_workspace, model_name, version=version)
        target = Path("azureml-models") / model.name / str(model.version)
        if target.exists():
            entries = sorted(target.iterdir())
            if len(entries) == 1:
                return str(entries[0])
        return model.download(str(target), exist_ok=True)

    # -- files ------------------------------------------------------------------------------------

    def download(self, target_dir: str = ".", exist_ok: bool = False,
                 exists_ok: bool | None = None) -> str:
        """Copy the model's file or folder into ``target_dir``; returns its path there."""
        exist_ok = exist_ok if exists_ok is None else exists_ok
        folder = self._info.files
        if folder is None:
            raise NotFoundError(
                f"model {self.id} has no files in runtrack (it points at "
                f"{self._info.source!r}); fetch them from there"
            )
        _, artifacts = _stores(self.workspace)
        target = Path(target_dir)
        tops: set[str] = set()
        for item in artifacts.list(MODEL_FILES_KEY, folder):
            rel = item.path[len(folder) + 1:]
            tops.add(rel.split("/", 1)[0])
            dest = target / rel
            if dest.exists() and not exist_ok:
                raise FileExistsError(
                    f"{dest} exists; pass exist_ok=True to overwrite or choose another target_dir"
                )
            dest.parent.mkdir(parents=True, exist_ok=True)
            with artifacts.open(MODEL_FILES_KEY, item.path) as src, dest.open("wb") as out:
                while block := src.read(1 << 20):
                    out.write(block)
        return str(target / tops.pop()) if len(tops) == 1 else str(target)

    def get_files(self) -> builtins.list[str]:
        """The model's file paths (relative to its folder)."""
        if self._info.files is None:
            return []
        _, artifacts = _stores(self.workspace)
        folder = self._info.files
        return [i.path[len(folder) + 1:] for i in artifacts.list(MODEL_FILES_KEY, folder)]

    # -- changing tags, properties, description -----------------------------------------------

    def _reload(self) -> None:
        store, _ = _stores(self.workspace)
        self._info = store.get_model_version(self.name, self.version)

    def add_tags(self, tags: Mapping[str, Any]) -> None:
        store, _ = _stores(self.workspace)
        store.set_model_tags(self.name, dict(_texts(tags, "tags")), version=self.version)
        self._reload()

    def remove_tags(self, tags: str | Sequence[str]) -> None:
        keys = [tags] if isinstance(tags, str) else [str(t) for t in tags]
        store, _ = _stores(self.workspace)
        store.remove_model_tags(self.name, keys, version=self.version)
        self._reload()

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        """Add-only: changing an existing key raises PropertyConflictError."""
        store, _ = _stores(self.workspace)
        store.add_model_version_properties(self.name, self.version,
                                           _texts(properties, "properties"))
        self._reload()

    def update(self, tags: Mapping[str, Any] | None = None, description: str | None = None,
               **_ignored: Any) -> None:
        store, _ = _stores(self.workspace)
        if description is not None:
            store.update_model_version(self.name, self.version, description=description)
        if tags:
            store.set_model_tags(self.name, dict(_texts(tags, "tags")), version=self.version)
        self._reload()

    def delete(self) -> None:
        """Delete this version (its number is never reused; the name stays)."""
        store, _ = _stores(self.workspace)
        store.delete_model_version(self.name, self.version)


def _conditions(items: Iterable[Any] | None, what: str) -> builtins.list[tuple[str, str | None]]:
    if items is None:
        return []
    if isinstance(items, Mapping):
        return [(str(k), None if v is None else str(v)) for k, v in items.items()]
    out: builtins.list[tuple[str, str | None]] = []
    for item in items:
        if isinstance(item, str):
            out.append((item, None))
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            out.append((str(item[0]), str(item[1])))
        else:
            raise InvalidValueError(
                f"{what} filter items must be 'key' or ['key', 'value'], got {item!r}"
            )
    return out


def _matches(values: Mapping[str, Any], wanted: builtins.list[tuple[str, str | None]]) -> bool:
    return all(k in values and (v is None or values[k] == v) for k, v in wanted)
