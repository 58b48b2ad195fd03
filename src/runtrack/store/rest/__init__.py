"""``RestStore``: the :class:`~runtrack.store.base.TrackingStore` over HTTP, against the
``/api/v1`` API of ``runtrack server``.

``RestStore("http://host:port", token=…)`` speaks the wire format of
:mod:`runtrack.model` (``to_json``/``from_json``); :mod:`._http` adds connection reuse,
retries with back-off and error mapping. Ingest is idempotent by sequence numbers (the
TrackingStore contract), so a retried batch never doubles a point; columnar batches
(those the spool reader decodes with numpy) travel as packed arrays, not JSON. ``create_run``
resent after a lost answer treats "id taken" as success when the run is the one it
created.

``.artifacts`` is the matching :class:`~runtrack.store.base.ArtifactStore` (the server
owns the files).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from runtrack import _wire
from runtrack.catalog import (
    ComputeTargetInfo,
    DatasetInfo,
    ModelVersionInfo,
    RegisteredModelInfo,
    RunInputInfo,
)
from runtrack.errors import ConflictError
from runtrack.logsearch import LogHit, LogQuery
from runtrack.model import (
    Bucket,
    ErrorInfo,
    ExperimentInfo,
    MetricBatch,
    NewRun,
    RunInfo,
    RunQuery,
    RunStatus,
    SeriesData,
    SeriesInfo,
)
from runtrack.store.rest._http import HttpClient
from runtrack.store.rest.artifacts import RestArtifactStore

__all__ = ["RestArtifactStore", "RestStore"]

#: runs per ``POST /series`` request of ``read_all_series`` (the server takes 10,000)
_SERIES_PER_REQUEST = 1_000


def _q(value: str) -> str:
    return quote(value, safe="")


class RestStore:
    """Tracking data on a runtrack server. ``options`` tune retries (see HttpClient).

    ``transport``: an ``httpx.BaseTransport`` to send requests through instead of the
    network, for example one into a server app running in this process (the test
    suite's ``tests/inprocess.py``)."""

    def __init__(
        self,
        uri: str,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        **options: Any,
    ) -> None:
        self.uri = uri.rstrip("/")
        self._http = HttpClient(self.uri, token, transport=transport, **options)
        self.artifacts = RestArtifactStore(self._http)

    # -- experiments ---------------------------------------------------------------------

    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        return ExperimentInfo.from_json(self._http.json("POST", "/experiments",
                                                        body={"name": name}))

    def get_experiment(self, experiment_id: str) -> ExperimentInfo:
        return ExperimentInfo.from_json(
            self._http.json("GET", f"/experiments/{_q(experiment_id) or '%20'}")
        )

    def get_experiment_by_name(self, name: str) -> ExperimentInfo | None:
        data = self._http.json("GET", "/experiments/lookup", params={"name": name})
        found = data["experiment"]
        return None if found is None else ExperimentInfo.from_json(found)

    def list_experiments(self, include_archived: bool = False) -> list[ExperimentInfo]:
        data = self._http.json("GET", "/experiments",
                               params={"include_archived": include_archived})
        return [ExperimentInfo.from_json(e) for e in data["experiments"]]

    def set_experiment_tags(self, experiment_id: str, tags: dict[str, str | None]) -> None:
        self._http.request("PATCH", f"/experiments/{_q(experiment_id) or '%20'}/tags",
                           body={"tags": tags})

    def remove_experiment_tags(self, experiment_id: str, keys: Sequence[str]) -> None:
        self._http.request("DELETE", f"/experiments/{_q(experiment_id) or '%20'}/tags",
                           params={"key": list(keys)})

    def update_experiment(
        self, experiment_id: str, *, name: str | None = None, archived: bool | None = None
    ) -> ExperimentInfo:
        data = self._http.json("PATCH", f"/experiments/{_q(experiment_id) or '%20'}",
                               body={"name": name, "archived": archived})
        return ExperimentInfo.from_json(data)

    # -- runs ------------------------------------------------------------------------------

    def create_run(self, new: NewRun) -> RunInfo:
        try:
            return RunInfo.from_json(self._http.json("POST", "/runs", body=new.to_json()))
        except ConflictError:
            if not self._http.last_call_was_resent:
                raise
            existing = self.get_run(new.run_id)  # our first try did arrive
            if (existing.experiment_id, existing.display_name) != (
                new.experiment_id, new.display_name
            ):
                raise
            return existing

    def get_run(self, run_id: str) -> RunInfo:
        return RunInfo.from_json(self._http.json("GET", self._run(run_id)))

    def search_runs(self, query: RunQuery) -> list[RunInfo]:
        data = self._http.json("POST", "/runs/search", body=query.to_json())
        return [RunInfo.from_json(r) for r in data["runs"]]

    def count_runs(self, query: RunQuery) -> int:
        return int(self._http.json("POST", "/runs/count", body=query.to_json())["count"])

    def update_run(
        self, run_id: str, *, display_name: str | None = None, description: str | None = None
    ) -> RunInfo:
        data = self._http.json("PATCH", self._run(run_id),
                               body={"display_name": display_name, "description": description})
        return RunInfo.from_json(data)

    def set_status(
        self, run_id: str, status: RunStatus, *, error: ErrorInfo | None = None
    ) -> RunInfo:
        body = {"status": status.value, "error": error.to_json() if error else None}
        return RunInfo.from_json(self._http.json("PUT", f"{self._run(run_id)}/status", body=body))

    def set_tags(self, run_id: str, tags: dict[str, str | None]) -> None:
        self._http.request("PATCH", f"{self._run(run_id)}/tags", body={"tags": tags})

    def remove_tags(self, run_id: str, keys: Sequence[str]) -> None:
        self._http.request("DELETE", f"{self._run(run_id)}/tags", params={"key": list(keys)})

    def add_properties(self, run_id: str, properties: dict[str, str]) -> None:
        self._http.request("POST", f"{self._run(run_id)}/properties",
                           body={"properties": properties})

    def delete_run(self, run_id: str) -> None:
        self._http.request("DELETE", self._run(run_id))

    # -- metrics ---------------------------------------------------------------------------

    def ingest(self, run_id: str, batch: MetricBatch) -> int:
        path = f"{self._run(run_id)}/metrics"
        if batch.columns is None:
            data = self._http.json("POST", path, body=batch.to_json())
        else:
            raw = _wire.encode(batch, batch.columns)
            data = self._http.json("POST", path, content=lambda: raw,
                                   content_type=_wire.MEDIA_TYPE)
        return int(data["next_seq"])

    def ingest_position(self, run_id: str, stream: str) -> int:
        data = self._http.json("GET", f"{self._run(run_id)}/metrics/position",
                               params={"stream": stream})
        return int(data["next_seq"])

    def list_series(self, run_id: str) -> list[SeriesInfo]:
        data = self._http.json("GET", f"{self._run(run_id)}/metrics")
        return [SeriesInfo.from_json(s) for s in data["series"]]

    def read_series(
        self, run_id: str, name: str, start: int = 0, end: int | None = None
    ) -> SeriesData:
        params: dict[str, Any] = {"name": name, "start": start}
        if end is not None:
            params["end"] = end
        data = self._http.json("GET", f"{self._run(run_id)}/metrics/points", params=params)
        return SeriesData.from_json(data)

    def downsample(
        self,
        run_id: str,
        name: str,
        buckets: int,
        *,
        x: str = "index",
        x_min: float | None = None,
        x_max: float | None = None,
    ) -> list[Bucket]:
        params: dict[str, Any] = {"name": name, "buckets": buckets, "x": x}
        if x_min is not None:
            params["x_min"] = x_min
        if x_max is not None:
            params["x_max"] = x_max
        data = self._http.json("GET", f"{self._run(run_id)}/metrics/downsample", params=params)
        return [Bucket.from_json(b) for b in data["buckets"]]

    def get_summaries(
        self, run_ids: Sequence[str], names: Sequence[str] | None = None
    ) -> dict[str, dict[str, SeriesInfo]]:
        body = {"run_ids": list(run_ids), "names": None if names is None else list(names)}
        data = self._http.json("POST", "/summaries", body=body)
        return {
            run_id: {name: SeriesInfo.from_json(info) for name, info in by_name.items()}
            for run_id, by_name in data["summaries"].items()
        }

    def read_all_series(
        self, run_ids: Sequence[str], names: Sequence[str] | None = None
    ) -> dict[str, dict[str, SeriesData]]:
        result: dict[str, dict[str, SeriesData]] = {}
        wanted = list(run_ids)
        for start in range(0, max(len(wanted), 1), _SERIES_PER_REQUEST):
            body = {"run_ids": wanted[start : start + _SERIES_PER_REQUEST],
                    "names": None if names is None else list(names)}
            data = self._http.json("POST", "/series", body=body)
            for run_id, found in data["series"].items():
                result[run_id] = {s["name"]: SeriesData.from_json(s) for s in found}
        return result

    # -- model registry ----------------------------------------------------------------------

    def create_registered_model(
        self, name: str, *, description: str | None = None,
        tags: dict[str, str | None] | None = None,
    ) -> RegisteredModelInfo:
        body = {"name": name, "description": description, "tags": tags}
        try:
            data = self._http.json("POST", "/registered-models", body=body)
        except ConflictError:
            if not self._http.last_call_was_resent:
                raise
            return self.get_registered_model(name)  # our first try did arrive
        return RegisteredModelInfo.from_json(data)

    def get_registered_model(self, name: str) -> RegisteredModelInfo:
        return RegisteredModelInfo.from_json(self._http.json("GET", self._model(name)))

    def list_registered_models(self) -> list[RegisteredModelInfo]:
        data = self._http.json("GET", "/registered-models")
        return [RegisteredModelInfo.from_json(m) for m in data["models"]]

    def update_registered_model(
        self, name: str, *, new_name: str | None = None, description: str | None = None
    ) -> RegisteredModelInfo:
        data = self._http.json("PATCH", self._model(name),
                               body={"new_name": new_name, "description": description})
        return RegisteredModelInfo.from_json(data)

    def delete_registered_model(self, name: str) -> list[ModelVersionInfo]:
        data = self._http.json("DELETE", self._model(name))
        return [ModelVersionInfo.from_json(v) for v in data["versions"]]

    def create_model_version(
        self, name: str, *, source: str, files: str | None = None, run_id: str | None = None,
        description: str | None = None, tags: dict[str, str | None] | None = None,
        properties: dict[str, str] | None = None,
    ) -> ModelVersionInfo:
        body = {"source": source, "files": files, "run_id": run_id,
                "description": description, "tags": tags, "properties": properties}
        data = self._http.json("POST", f"{self._model(name)}/versions", body=body,
                               idempotent=False)
        return ModelVersionInfo.from_json(data)

    def get_model_version(self, name: str, version: int) -> ModelVersionInfo:
        return ModelVersionInfo.from_json(
            self._http.json("GET", f"{self._model(name)}/versions/{int(version)}"))

    def list_model_versions(self, name: str | None = None) -> list[ModelVersionInfo]:
        path = "/model-versions" if name is None else f"{self._model(name)}/versions"
        return [ModelVersionInfo.from_json(v) for v in self._http.json("GET", path)["versions"]]

    def update_model_version(
        self, name: str, version: int, *, description: str | None = None,
        stage: str | None = None,
    ) -> ModelVersionInfo:
        data = self._http.json("PATCH", f"{self._model(name)}/versions/{int(version)}",
                               body={"description": description, "stage": stage})
        return ModelVersionInfo.from_json(data)

    def delete_model_version(self, name: str, version: int) -> ModelVersionInfo:
        return ModelVersionInfo.from_json(
            self._http.json("DELETE", f"{self._model(name)}/versions/{int(version)}"))

    def set_model_tags(
        self, name: str, tags: dict[str, str | None], *, version: int | None = None
    ) -> None:
        self._http.request("PATCH", f"{self._model(name)}/tags",
                           body={"tags": tags, "version": version})

    def remove_model_tags(
        self, name: str, keys: Sequence[str], *, version: int | None = None
    ) -> None:
        params: dict[str, Any] = {"key": list(keys)}
        if version is not None:
            params["version"] = int(version)
        self._http.request("DELETE", f"{self._model(name)}/tags", params=params)

    def add_model_version_properties(
        self, name: str, version: int, properties: dict[str, str]
    ) -> None:
        self._http.request("POST", f"{self._model(name)}/versions/{int(version)}/properties",
                           body={"properties": properties})

    def set_model_alias(self, name: str, alias: str, version: int) -> None:
        self._http.request("PUT", f"{self._model(name)}/aliases/{_q(alias) or '%20'}",
                           body={"version": int(version)})

    def delete_model_alias(self, name: str, alias: str) -> None:
        self._http.request("DELETE", f"{self._model(name)}/aliases/{_q(alias) or '%20'}")

    @staticmethod
    def _model(name: str) -> str:
        return f"/registered-models/{_q(name) or '%20'}"
    # -- log search (optional extension, see store.base) ---------------------------------

    def index_log_lines(
        self, run_id: str, path: str, first_line: int, lines: Sequence[str]
    ) -> int:
        body = {"path": path, "first_line": first_line, "lines": list(lines)}
        return int(self._http.json("POST", f"{self._run(run_id)}/log-index", body=body)
                   ["next_line"])

    def log_index_position(self, run_id: str, path: str) -> int:
        data = self._http.json("GET", f"{self._run(run_id)}/log-index", params={"path": path})
        return int(data["next_line"])

    def search_logs(self, query: LogQuery) -> list[LogHit]:
        data = self._http.json("POST", "/logs/search", body=query.to_json())
        return [LogHit.from_json(h) for h in data["hits"]]

    # -- datasets and run inputs ---------------------------------------------------------------

    def register_dataset(
        self, name: str, *, kind: str, definition: dict[str, Any], digest: str,
        description: str | None = None, tags: dict[str, str] | None = None,
        create_new_version: bool = True,
    ) -> DatasetInfo:
        body = {"name": name, "kind": kind, "definition": definition, "digest": digest,
                "description": description, "tags": tags,
                "create_new_version": create_new_version}
        return DatasetInfo.from_json(self._http.json("POST", "/datasets", body=body,
                                                     idempotent=False))

    def get_dataset(self, name: str, version: int | None = None) -> DatasetInfo:
        params = {} if version is None else {"version": int(version)}
        return DatasetInfo.from_json(
            self._http.json("GET", f"/datasets/{_q(name) or '%20'}", params=params))

    def list_datasets(self, name: str | None = None) -> list[DatasetInfo]:
        params = {} if name is None else {"name": name}
        data = self._http.json("GET", "/datasets", params=params)
        return [DatasetInfo.from_json(d) for d in data["datasets"]]

    def log_run_inputs(self, run_id: str, inputs: Sequence[RunInputInfo]) -> None:
        self._http.request("POST", f"{self._run(run_id)}/inputs",
                           body={"inputs": [i.to_json() for i in inputs]})

    def get_run_inputs(self, run_ids: Sequence[str]) -> dict[str, list[RunInputInfo]]:
        data = self._http.json("POST", "/run-inputs", body={"run_ids": list(run_ids)})
        return {k: [RunInputInfo.from_json(i) for i in v] for k, v in data["inputs"].items()}

    # -- named compute targets ---------------------------------------------------------------

    def add_compute_target(
        self, name: str, kind: str, address: str | None = None
    ) -> ComputeTargetInfo:
        body = {"name": name, "kind": kind, "address": address}
        return ComputeTargetInfo.from_json(
            self._http.json("POST", "/compute-targets", body=body, idempotent=False))

    def list_compute_targets(self) -> list[ComputeTargetInfo]:
        data = self._http.json("GET", "/compute-targets")
        return [ComputeTargetInfo.from_json(t) for t in data["compute_targets"]]

    def remove_compute_target(self, name: str) -> None:
        self._http.request("DELETE", f"/compute-targets/{_q(name) or '%20'}")

    def close(self) -> None:
        self._http.close()

    @staticmethod
    def _run(run_id: str) -> str:
        return f"/runs/{_q(run_id) or '%20'}"
