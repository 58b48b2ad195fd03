"""A run's Azure-shaped details (``Run.get_details()``) and their pieces: times in
Azure's UTC form, which files are logs, artifact references, the submitting user, input
datasets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from runtrack.model import RunInfo
from runtrack.store.base import ArtifactStore, TrackingStore


def run_details(store: TrackingStore, info: RunInfo, file_names: Iterable[str]) -> dict[str, Any]:
    """``Run.get_details()`` of the run ``info`` (read just now) with artifacts
    ``file_names``: runId, target, status, times, properties, logFiles…"""
    details: dict[str, Any] = {
        "runId": info.id,
        "displayName": info.display_name,
        "target": info.compute_target,
        "status": info.status.value,
        "startTimeUtc": utc(info.start_time) if info.start_time else None,
        "properties": dict(info.properties),
        "tags": dict(info.tags),
        "inputDatasets": input_details(store.get_run_inputs([info.id])[info.id]),
        "outputDatasets": [],
        "runDefinition": dict(info.definition),
        "logFiles": {p: f"{ref_prefix(info.id)}{p}" for p in file_names if is_log(p)},
        "submittedBy": user_name(),
    }
    if info.end_time is not None and info.status.is_terminal:
        details["endTimeUtc"] = utc(info.end_time)
    if info.error is not None:
        details["error"] = {"error": info.error.to_json()}
    return details


def with_log_contents(
    artifacts: ArtifactStore, run_id: str, details: dict[str, Any]
) -> dict[str, Any]:
    """``details`` with each log file's content instead of its reference."""
    for path in list(details["logFiles"]):
        with artifacts.open(run_id, path) as fh:
            details["logFiles"][path] = fh.read().decode("utf-8", "replace")
    return details


def input_details(inputs: list[Any]) -> list[dict[str, Any]]:
    """Azure's ``inputDatasets`` entries for a run's recorded inputs."""
    return [
        {
            "dataset": {"name": i.dataset_name, "version": i.dataset_version,
                        "id": f"{i.dataset_name}:{i.dataset_version}" if i.dataset_name else None,
                        "digest": i.digest},
            "consumptionDetails": {"type": "RunInput", "inputName": i.name,
                                   "mechanism": i.tags.get("mode", "Direct").capitalize()},
        }
        for i in inputs
    ]


def utc(ts: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_log(path: str) -> bool:
    return path.startswith(("logs/", "user_logs/", "system_logs/"))


def ref_prefix(run_id: str) -> str:
    from runtrack.sdk._artifacts import artifact_ref

    return artifact_ref(run_id, "")


def user_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
