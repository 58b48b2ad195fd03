"""``MemoryStore``'s catalog: the model registry, registered datasets and named compute
targets, as records in dicts, each call under the store's one lock."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from runtrack.catalog import (
    LOCAL_COMPUTE,
    ComputeTargetInfo,
    DatasetInfo,
    ModelVersionInfo,
    RegisteredModelInfo,
    check_compute_target,
)
from runtrack.errors import ConflictError, InvalidValueError, NotFoundError, PropertyConflictError

_SHOWN = 10


def _hint(names: Sequence[str], what: str) -> str:
    """``registered models: 'a', 'b'`` (the first few, sorted) or that there are none."""
    if not names:
        return f"no {what} is registered yet"
    shown = sorted(names)
    more = ", …" if len(shown) > _SHOWN else ""
    return f"registered {what}s: " + ", ".join(repr(n) for n in shown[:_SHOWN]) + more


@dataclass
class _Version:
    version: int
    created_time: float
    updated_time: float
    source: str
    files: str | None
    run_id: str | None
    description: str | None
    stage: str = "None"
    tags: dict[str, str | None] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)


@dataclass
class _Model:
    created_time: float
    updated_time: float
    description: str | None = None
    tags: dict[str, str | None] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    versions: dict[int, _Version] = field(default_factory=dict)
    next_version: int = 1

    def touch(self, version: _Version | None = None) -> None:
        self.updated_time = time.time()
        if version is not None:
            version.updated_time = self.updated_time


@dataclass
class _Dataset:
    versions: list[DatasetInfo] = field(default_factory=list)
    next_version: int = 1


class CatalogState:
    """Models, datasets and compute targets of one memory store."""

    def __init__(self) -> None:
        self.models: dict[str, _Model] = {}
        self.datasets: dict[str, _Dataset] = {}
        self.targets: dict[str, ComputeTargetInfo] = {}


class CatalogMethods:
    """The catalog part of :class:`~runtrack.store.memory.MemoryStore`."""

    _catalog: CatalogState
    _lock: threading.RLock

    # -- model registry -----------------------------------------------------------------------

    def _model(self, name: str) -> _Model:
        found = self._catalog.models.get(name)
        if found is None:
            raise NotFoundError(
                f"no registered model called {name!r}; "
                f"{_hint(list(self._catalog.models), 'model')}"
            )
        return found

    def _version(self, name: str, version: int) -> tuple[_Model, _Version]:
        model = self._model(name)
        found = model.versions.get(int(version))
        if found is None:
            have = ", ".join(str(v) for v in sorted(model.versions)) or "none"
            raise NotFoundError(
                f"model {name!r} has no version {version!r}; its versions are: {have}"
            )
        return model, found

    def _model_info(self, name: str, model: _Model) -> RegisteredModelInfo:
        return RegisteredModelInfo(
            name=name, created_time=model.created_time, updated_time=model.updated_time,
            description=model.description, tags=dict(model.tags),
            aliases=dict(sorted(model.aliases.items())),
            latest_version=max(model.versions) if model.versions else None,
        )

    def _version_info(self, name: str, model: _Model, version: _Version) -> ModelVersionInfo:
        return ModelVersionInfo(
            name=name, version=version.version, created_time=version.created_time,
            updated_time=version.updated_time, source=version.source, files=version.files,
            run_id=version.run_id, description=version.description, stage=version.stage,
            tags=dict(version.tags), properties=dict(version.properties),
            aliases=sorted(a for a, v in model.aliases.items() if v == version.version),
        )

    def _all_versions(self, name: str, model: _Model) -> list[ModelVersionInfo]:
        return [self._version_info(name, model, model.versions[v]) for v in sorted(model.versions)]

    def create_registered_model(
        self, name: str, *, description: str | None = None,
        tags: dict[str, str | None] | None = None,
    ) -> RegisteredModelInfo:
        with self._lock:
            if name in self._catalog.models:
                raise ConflictError(
                    f"a registered model called {name!r} already exists; register a new "
                    "version of it or choose another name"
                )
            now = time.time()
            model = _Model(now, now, description, dict(tags or {}))
            self._catalog.models[name] = model
            return self._model_info(name, model)

    def get_registered_model(self, name: str) -> RegisteredModelInfo:
        with self._lock:
            return self._model_info(name, self._model(name))

    def list_registered_models(self) -> list[RegisteredModelInfo]:
        with self._lock:
            return [self._model_info(n, m) for n, m in sorted(self._catalog.models.items())]

    def update_registered_model(
        self, name: str, *, new_name: str | None = None, description: str | None = None
    ) -> RegisteredModelInfo:
        with self._lock:
            model = self._model(name)
            if new_name is not None and new_name != name:
                if new_name in self._catalog.models:
                    raise ConflictError(
                        f"a registered model called {new_name!r} already exists; choose "
                        "another name"
                    )
                self._catalog.models[new_name] = self._catalog.models.pop(name)
                name = new_name
            if description is not None:
                model.description = description
            model.touch()
            return self._model_info(name, model)

    def delete_registered_model(self, name: str) -> list[ModelVersionInfo]:
        with self._lock:
            gone = self._all_versions(name, self._model(name))
            del self._catalog.models[name]
            return gone

    def create_model_version(
        self, name: str, *, source: str, files: str | None = None, run_id: str | None = None,
        description: str | None = None, tags: dict[str, str | None] | None = None,
        properties: dict[str, str] | None = None,
    ) -> ModelVersionInfo:
        with self._lock:
            now = time.time()
            model = self._catalog.models.get(name)
            if model is None:
                model = self._catalog.models[name] = _Model(now, now)
            number = model.next_version
            model.next_version += 1
            version = _Version(number, now, now, source, files, run_id, description,
                               tags=dict(tags or {}), properties=dict(properties or {}))
            model.versions[number] = version
            model.touch()
            return self._version_info(name, model, version)

    def get_model_version(self, name: str, version: int) -> ModelVersionInfo:
        with self._lock:
            model, found = self._version(name, version)
            return self._version_info(name, model, found)

    def list_model_versions(self, name: str | None = None) -> list[ModelVersionInfo]:
        with self._lock:
            if name is not None:
                return self._all_versions(name, self._model(name))
            return [
                info for n, m in sorted(self._catalog.models.items())
                for info in self._all_versions(n, m)
            ]

    def update_model_version(
        self, name: str, version: int, *, description: str | None = None,
        stage: str | None = None,
    ) -> ModelVersionInfo:
        with self._lock:
            model, found = self._version(name, version)
            if description is not None:
                found.description = description
            if stage is not None:
                found.stage = stage
            if description is not None or stage is not None:
                model.touch(found)
            return self._version_info(name, model, found)

    def delete_model_version(self, name: str, version: int) -> ModelVersionInfo:
        with self._lock:
            model, found = self._version(name, version)
            gone = self._version_info(name, model, found)
            del model.versions[found.version]
            model.aliases = {a: v for a, v in model.aliases.items() if v != found.version}
            model.touch()
            return gone

    def set_model_tags(
        self, name: str, tags: dict[str, str | None], *, version: int | None = None
    ) -> None:
        if not tags:
            return
        with self._lock:
            if version is None:
                model = self._model(name)
                model.tags.update(tags)
                model.touch()
            else:
                model, found = self._version(name, version)
                found.tags.update(tags)
                model.touch(found)

    def remove_model_tags(
        self, name: str, keys: Sequence[str], *, version: int | None = None
    ) -> None:
        with self._lock:
            if version is None:
                model, owner = self._model(name), None
                tags = model.tags
            else:
                model, owner = self._version(name, version)
                tags = owner.tags
            for key in keys:
                tags.pop(key, None)
            model.touch(owner)

    def add_model_version_properties(
        self, name: str, version: int, properties: dict[str, str]
    ) -> None:
        with self._lock:
            model, found = self._version(name, version)
            existing = found.properties
            for key, value in properties.items():
                if key in existing and existing[key] != value:
                    raise PropertyConflictError(
                        f"model {name!r} version {found.version} already has property {key!r}="
                        f"{existing[key]!r}; properties cannot change (tried {value!r}); use "
                        "a tag"
                    )
            new = {k: v for k, v in properties.items() if k not in existing}
            if new:
                existing.update(new)
                model.touch(found)

    def set_model_alias(self, name: str, alias: str, version: int) -> None:
        with self._lock:
            model, found = self._version(name, version)
            model.aliases[alias] = found.version
            model.touch()

    def delete_model_alias(self, name: str, alias: str) -> None:
        with self._lock:
            model = self._model(name)
            if model.aliases.pop(alias, None) is None:
                raise NotFoundError(f"model {name!r} has no alias {alias!r}")
            model.touch()

    # -- datasets --------------------------------------------------------------------------------

    def _dataset(self, name: str) -> _Dataset:
        found = self._catalog.datasets.get(name)
        if found is None:
            raise NotFoundError(
                f"no registered dataset called {name!r}; "
                f"{_hint(list(self._catalog.datasets), 'dataset')}"
            )
        return found

    def register_dataset(
        self, name: str, *, kind: str, definition: dict[str, Any], digest: str,
        description: str | None = None, tags: dict[str, str] | None = None,
        create_new_version: bool = True,
    ) -> DatasetInfo:
        with self._lock:
            dataset = self._catalog.datasets.get(name) or _Dataset()
            if not create_new_version and dataset.versions:
                latest = dataset.versions[-1]
                if latest.digest == digest and latest.kind == kind:
                    return _fresh_dataset(latest)
                raise ConflictError(
                    f"dataset {name!r} exists (version {latest.version}) with another "
                    "definition; pass create_new_version=True to register a new version, or "
                    "use another name"
                )
            info = DatasetInfo(
                name=name, version=dataset.next_version, created_time=time.time(), kind=kind,
                definition=json.loads(json.dumps(definition, sort_keys=True)), digest=digest,
                description=description, tags=dict(sorted((tags or {}).items())),
            )
            dataset.next_version += 1
            dataset.versions.append(info)
            self._catalog.datasets[name] = dataset
            return _fresh_dataset(info)

    def get_dataset(self, name: str, version: int | None = None) -> DatasetInfo:
        with self._lock:
            found = self._dataset(name).versions
            if version is None and found:
                return _fresh_dataset(found[-1])
            for info in found:
                if info.version == version:
                    return _fresh_dataset(info)
            have = ", ".join(str(i.version) for i in found) or "none"
            raise NotFoundError(
                f"dataset {name!r} has no version {version!r}; its versions are: {have}"
            )

    def list_datasets(self, name: str | None = None) -> list[DatasetInfo]:
        with self._lock:
            names = [name] if name is not None else sorted(self._catalog.datasets)
            return [_fresh_dataset(i) for n in names for i in self._dataset(n).versions]

    # -- named compute targets --------------------------------------------------------------------

    def add_compute_target(
        self, name: str, kind: str, address: str | None = None
    ) -> ComputeTargetInfo:
        check_compute_target(name, kind, address)
        with self._lock:
            if name in self._catalog.targets:
                raise ConflictError(
                    f"compute target {name!r} exists already; remove it first "
                    f"(runtrack compute remove {name}) to change it"
                )
            info = ComputeTargetInfo(name, kind, address or None, time.time())
            self._catalog.targets[name] = info
            return info

    def list_compute_targets(self) -> list[ComputeTargetInfo]:
        with self._lock:
            return [self._catalog.targets[n] for n in sorted(self._catalog.targets)]

    def remove_compute_target(self, name: str) -> None:
        if name == LOCAL_COMPUTE:
            raise InvalidValueError(f"compute target {LOCAL_COMPUTE!r} always exists")
        with self._lock:
            if self._catalog.targets.pop(name, None) is None:
                raise NotFoundError(f"compute target {name!r} does not exist in this workspace")


def _fresh_dataset(info: DatasetInfo) -> DatasetInfo:
    return replace(info, definition=json.loads(json.dumps(info.definition)), tags=dict(info.tags))
