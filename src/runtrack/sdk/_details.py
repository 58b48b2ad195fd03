"""Pieces of a run's Azure-shaped details (``Run.get_details()``): times in Azure's UTC
form, which files are logs, artifact references, the submitting user, input datasets."""

from __future__ import annotations

from typing import Any


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
