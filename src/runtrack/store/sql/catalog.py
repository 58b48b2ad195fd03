"""``SqlStore``'s catalog: the model registry, registered datasets and run inputs, and
the log-search index (the SQL lives in ``registry``, ``datasets`` and ``logindex``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runtrack.catalog import DatasetInfo, ModelVersionInfo, RegisteredModelInfo, RunInputInfo
from runtrack.logsearch import LogHit, LogQuery
from runtrack.store.sql import datasets, logindex, registry
from runtrack.store.sql._connected import Connected, require_run
from runtrack.store.sql.schema import model_versions, registered_models


class CatalogMethods(Connected):
    """The catalog part of :class:`~runtrack.store.sql.SqlStore` (see the module doc)."""

    # -- model registry (helpers in ``registry``) ------------------------------------------------

    def create_registered_model(
        self, name: str, *, description: str | None = None,
        tags: dict[str, str | None] | None = None,
    ) -> RegisteredModelInfo:
        with self._write() as conn:
            key = registry.create_model(conn, self.dialect, name, description=description,
                                        tags=tags, must_be_new=True)
            return registry.load_models(conn, registered_models.c.id == key)[0]

    def get_registered_model(self, name: str) -> RegisteredModelInfo:
        with self._read() as conn:
            key = registry.model_key(conn, name)
            return registry.load_models(conn, registered_models.c.id == key)[0]

    def list_registered_models(self) -> list[RegisteredModelInfo]:
        with self._read() as conn:
            return registry.load_models(conn)

    def update_registered_model(
        self, name: str, *, new_name: str | None = None, description: str | None = None
    ) -> RegisteredModelInfo:
        with self._write() as conn:
            return registry.update_model(conn, name, new_name=new_name, description=description)

    def delete_registered_model(self, name: str) -> list[ModelVersionInfo]:
        with self._write() as conn:
            return registry.delete_model(conn, name)

    def create_model_version(
        self, name: str, *, source: str, files: str | None = None, run_id: str | None = None,
        description: str | None = None, tags: dict[str, str | None] | None = None,
        properties: dict[str, str] | None = None,
    ) -> ModelVersionInfo:
        with self._write() as conn:
            return registry.create_version(
                conn, self.dialect, name, source=source, files=files, run_id=run_id,
                description=description, tags=tags, properties=properties,
            )

    def get_model_version(self, name: str, version: int) -> ModelVersionInfo:
        with self._read() as conn:
            key = registry.version_key(conn, name, version)
            return registry.load_versions(conn, [(key, int(version))])[0]

    def list_model_versions(self, name: str | None = None) -> list[ModelVersionInfo]:
        with self._read() as conn:
            if name is None:
                return registry.load_versions(conn)
            key = registry.model_key(conn, name)
            return registry.load_versions(conn, None, model_versions.c.model_id == key)

    def update_model_version(
        self, name: str, version: int, *, description: str | None = None,
        stage: str | None = None,
    ) -> ModelVersionInfo:
        with self._write() as conn:
            return registry.update_version(conn, name, int(version), description=description,
                                           stage=stage)

    def delete_model_version(self, name: str, version: int) -> ModelVersionInfo:
        with self._write() as conn:
            return registry.delete_version(conn, name, int(version))

    def set_model_tags(
        self, name: str, tags: dict[str, str | None], *, version: int | None = None
    ) -> None:
        if tags:
            with self._write() as conn:
                registry.set_tags(conn, name, tags, None if version is None else int(version))

    def remove_model_tags(
        self, name: str, keys: Sequence[str], *, version: int | None = None
    ) -> None:
        with self._write() as conn:
            registry.remove_tags(conn, name, keys, None if version is None else int(version))

    def add_model_version_properties(
        self, name: str, version: int, properties: dict[str, str]
    ) -> None:
        with self._write() as conn:
            registry.add_properties(conn, name, int(version), properties)

    def set_model_alias(self, name: str, alias: str, version: int) -> None:
        with self._write() as conn:
            registry.set_alias(conn, name, alias, int(version))

    def delete_model_alias(self, name: str, alias: str) -> None:
        with self._write() as conn:
            registry.delete_alias(conn, name, alias)

    # -- log search (optional extension, see store.base) ---------------------------------------

    def index_log_lines(
        self, run_id: str, path: str, first_line: int, lines: Sequence[str]
    ) -> int:
        with self._write() as conn:
            return logindex.index_lines(conn, self.dialect, run_id, path, first_line, lines)

    def log_index_position(self, run_id: str, path: str) -> int:
        with self._read() as conn:
            return logindex.position(conn, run_id, path)

    def search_logs(self, query: LogQuery) -> list[LogHit]:
        with self._read() as conn:
            return logindex.search(conn, self.dialect, query)

    # -- datasets and run inputs (helpers in ``datasets``) ----------------------------------------

    def register_dataset(
        self, name: str, *, kind: str, definition: dict[str, Any], digest: str,
        description: str | None = None, tags: dict[str, str] | None = None,
        create_new_version: bool = True,
    ) -> DatasetInfo:
        with self._write() as conn:
            return datasets.register(conn, self.dialect, name, kind=kind, definition=definition,
                                     digest=digest, description=description, tags=tags,
                                     create_new_version=create_new_version)

    def get_dataset(self, name: str, version: int | None = None) -> DatasetInfo:
        with self._read() as conn:
            return datasets.get(conn, name, None if version is None else int(version))

    def list_datasets(self, name: str | None = None) -> list[DatasetInfo]:
        with self._read() as conn:
            return datasets.list_versions(conn, name)

    def log_run_inputs(self, run_id: str, inputs: Sequence[RunInputInfo]) -> None:
        with self._write() as conn:
            require_run(conn, run_id)
            datasets.log_inputs(conn, run_id, inputs)

    def get_run_inputs(self, run_ids: Sequence[str]) -> dict[str, list[RunInputInfo]]:
        with self._read() as conn:
            return datasets.read_inputs(conn, run_ids)
