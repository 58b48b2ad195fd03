"""MLflow wire shapes <-> runtrack's model: one run, two views.

The mapping (documented for users in ``docs/mlflow.md``):

* MLflow experiment = runtrack experiment; the MLflow id is the runtrack id string.
  MLflow's default experiment ``"0"`` is the runtrack experiment named ``Default``
  (created on first use); it is reported as ``"0"`` and also answers to its runtrack id.
  MLflow's "deleted" lifecycle = runtrack's ``archived`` flag.
* run id = runtrack run id; ``run_name`` / tag ``mlflow.runName`` = ``display_name``;
  tag ``mlflow.parentRunId`` = ``parent_id`` (nested runs are child runs); both tags
  are synthesised on the way out, not stored.
* params = run properties (add-only, like MLflow params), under the same keys.
* tags = run tags. A deleted (MLflow soft-delete) run carries the tag
  :data:`DELETED_TAG` ``= "deleted"`` which MLflow views hide; the run's
  experiment being archived also reads as deleted.
* statuses: RUNNING/SCHEDULED/FINISHED/FAILED/KILLED <-> Running/Queued/Completed/
  Failed/Canceled (other runtrack states read as the nearest MLflow one).
* metrics = scalar series; the "latest" value is MLflow's (the point with the highest
  step, then time, then value: the summary's ``top_*``), not runtrack's ``last`` (the
  last point logged, which the Azure face shows); timestamps are milliseconds on the
  wire and seconds in runtrack.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from runtrack.errors import NotFoundError
from runtrack.model import ExperimentInfo, MetricKind, RunInfo, RunStatus, SeriesInfo
from runtrack.server.mlflow._errors import invalid, missing
from runtrack.store.base import TrackingStore
from runtrack.store.readers import ScalarSummary, TopPoint

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"
RUN_NAME_TAG = "mlflow.runName"
PARENT_TAG = "mlflow.parentRunId"
USER_TAG = "mlflow.user"
DELETED_TAG = "mlflow.lifecycleStage"
#: Tags stored in runtrack that MLflow views do not show.
HIDDEN_TAGS = frozenset({DELETED_TAG})
#: Experiment tag holding the artifact location a client gave at creation.
LOCATION_TAG = "mlflow.artifactLocation"
HIDDEN_EXPERIMENT_TAGS = frozenset({LOCATION_TAG})
RUN_TYPE = "mlflow"

ACTIVE, DELETED = "active", "deleted"

TO_RUNTRACK: dict[str, RunStatus] = {
    "RUNNING": RunStatus.RUNNING,
    "SCHEDULED": RunStatus.QUEUED,
    "FINISHED": RunStatus.COMPLETED,
    "FAILED": RunStatus.FAILED,
    "KILLED": RunStatus.CANCELED,
}
_STATUS_NUMBERS = {"1": "RUNNING", "2": "SCHEDULED", "3": "FINISHED", "4": "FAILED", "5": "KILLED"}
TO_MLFLOW: dict[RunStatus, str] = {
    RunStatus.NOT_STARTED: "SCHEDULED",
    RunStatus.QUEUED: "SCHEDULED",
    RunStatus.PREPARING: "SCHEDULED",
    RunStatus.RUNNING: "RUNNING",
    RunStatus.FINALIZING: "RUNNING",
    RunStatus.CANCEL_REQUESTED: "RUNNING",
    RunStatus.COMPLETED: "FINISHED",
    RunStatus.FAILED: "FAILED",
    RunStatus.CANCELED: "KILLED",
}

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 5000  # runtrack's limit (MLflow's is 8000): longer values are cut
_KEY = re.compile(r"^[/\w.\- :]*$")


def ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


def seconds(millis: int) -> float:
    return millis / 1000.0


def mlflow_status(name: str) -> RunStatus:
    """The runtrack status for an MLflow status name (or its enum number)."""
    key = _STATUS_NUMBERS.get(name, name.upper())
    if key not in TO_RUNTRACK:
        raise invalid(f"unknown run status {name!r}; use one of {sorted(TO_RUNTRACK)}")
    return TO_RUNTRACK[key]


def check_key(kind: str, key: Any) -> str:
    """``key`` if MLflow accepts it as a metric/param/tag name, else INVALID_PARAMETER_VALUE."""
    if not isinstance(key, str) or not key:
        raise invalid(f"{kind} name must be a non-empty string, got {key!r}")
    bad = (
        len(key) > MAX_KEY_LENGTH
        or not _KEY.match(key)
        or key.startswith(("/", "../"))
        or key in (".", "..")
        or "//" in key
        or key.endswith("/")
        or "/./" in key
        or "/../" in key
        or key.startswith("./")
    )
    if bad:
        raise invalid(
            f"invalid {kind} name {key!r}: names may hold letters, digits, '_', '-', '.', ' ', "
            f"'/' and ':', must be a normalised relative path, at most {MAX_KEY_LENGTH} chars"
        )
    return key


def number(value: Any, what: str) -> float:
    """A double as MLflow sends it (JSON number or "NaN"/"Infinity"/"-Infinity")."""
    if isinstance(value, bool):
        raise invalid(f"{what} must be a number, got {value!r}")
    if isinstance(value, float):
        return value
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:
            raise invalid(f"{what} {value} is too large for a double") from None
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise invalid(f"{what} must be a number, got {value!r}")


def wire_number(value: float) -> float | str:
    """A double for the response: non-finite values as proto3 JSON strings."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


# -- experiments ----------------------------------------------------------------------------


def resolve_experiment(store: TrackingStore, experiment_id: str) -> ExperimentInfo:
    """The runtrack experiment for an MLflow id (``"0"`` is ``Default``)."""
    if experiment_id == DEFAULT_EXPERIMENT_ID:
        found = store.get_experiment_by_name(DEFAULT_EXPERIMENT_NAME)
        return found or store.get_or_create_experiment(DEFAULT_EXPERIMENT_NAME)
    try:
        return store.get_experiment(experiment_id)
    except NotFoundError:
        raise missing(f"No Experiment with id={experiment_id} exists") from None


def experiment_id(info: ExperimentInfo) -> str:
    return DEFAULT_EXPERIMENT_ID if info.name == DEFAULT_EXPERIMENT_NAME else info.id


def lifecycle(archived: bool) -> str:
    return DELETED if archived else ACTIVE


def resolve_location(location: str) -> str:
    """An experiment's artifact location as MLflow stores it: URIs as given, local
    paths as absolute ``file://`` URIs."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", location) and not re.match(r"^[A-Za-z]:[\\/]",
                                                                        location):
        return location
    return Path(location).expanduser().absolute().as_uri()


def experiment_json(info: ExperimentInfo) -> dict[str, Any]:
    exp_id = experiment_id(info)
    created = ms(info.created_time) or 0
    return {
        "experiment_id": exp_id,
        "name": info.name,
        "artifact_location": info.tags.get(LOCATION_TAG) or f"mlflow-artifacts:/{exp_id}",
        "lifecycle_stage": lifecycle(info.archived),
        "creation_time": created,
        "last_update_time": ms(info.last_activity) or created,
        "tags": [{"key": k, "value": v or ""} for k, v in sorted(info.tags.items())
                 if k not in HIDDEN_EXPERIMENT_TAGS],
    }


# -- runs -------------------------------------------------------------------------------------


def run_deleted(info: RunInfo, experiment_archived: bool = False) -> bool:
    return experiment_archived or info.tags.get(DELETED_TAG) == DELETED


def artifact_uri(info: RunInfo, exp_id: str) -> str:
    return f"mlflow-artifacts:/{exp_id}/{info.id}/artifacts"


def run_tags(info: RunInfo) -> dict[str, str]:
    """The run's tags as MLflow shows them."""
    tags = {k: v or "" for k, v in info.tags.items() if k not in HIDDEN_TAGS}
    tags[RUN_NAME_TAG] = info.display_name
    if info.parent_id is not None:
        tags[PARENT_TAG] = info.parent_id
    return tags


def run_info_json(info: RunInfo, exp_id: str, deleted: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "run_id": info.id,
        "run_uuid": info.id,
        "run_name": info.display_name,
        "experiment_id": exp_id,
        "user_id": info.tags.get(USER_TAG) or "",
        "status": TO_MLFLOW[info.status],
        "start_time": ms(info.start_time if info.start_time is not None else info.created_time),
        "artifact_uri": artifact_uri(info, exp_id),
        "lifecycle_stage": DELETED if deleted else ACTIVE,
    }
    if info.end_time is not None:
        data["end_time"] = ms(info.end_time)
    return data


def latest(summary: SeriesInfo | ScalarSummary) -> tuple[float, float | None, int] | None:
    """MLflow's latest point of a scalar series as (value, time, step): the one with the
    highest step, then time, then value (None when the series holds no number)."""
    if isinstance(summary, ScalarSummary):
        if summary.points == 0:
            return None
    elif summary.kind is not MetricKind.SCALAR or summary.count == 0:
        return None
    if summary.top_time is not None and summary.top_value is not None:
        return summary.top_value, summary.top_time, summary.top_step or 0
    if summary.last is None:
        return None
    return summary.last, summary.last_time, summary.last_step or 0


def latest_metrics(
    summaries: Mapping[str, SeriesInfo | ScalarSummary],
) -> list[dict[str, Any]]:
    """One MLflow Metric per numeric scalar series: its latest point (:func:`latest`)."""
    metrics = []
    for name, summary in summaries.items():
        found = latest(summary)
        if found is None:
            continue
        value, stamp, step = found
        metrics.append(
            {"key": name, "value": wire_number(value), "timestamp": ms(stamp) or 0, "step": step}
        )
    return metrics


def top_point_metrics(points: Iterable[TopPoint]) -> dict[str, list[dict[str, Any]]]:
    """MLflow Metrics by run id from the runs' top points (what ``runs/search`` lists,
    :class:`~runtrack.store.readers.TopPointReader`), in the points' order."""
    out: dict[str, list[dict[str, Any]]] = {}
    wire = wire_number  # 50,000 points for a 5,000-run page: names bound locally
    for run_id, name, value, stamp, step in points:
        metric = {
            "key": name,
            "value": value if value - value == 0 else wire(value),  # finite, else a string
            "timestamp": 0 if stamp is None else round(stamp * 1000), "step": step,
        }
        try:
            out[run_id].append(metric)
        except KeyError:
            out[run_id] = [metric]
    return out


def run_json(
    info: RunInfo,
    exp_id: str,
    summaries: Mapping[str, SeriesInfo | ScalarSummary],
    *,
    deleted: bool,
    inputs: dict[str, Any] | None = None,
    outputs: dict[str, Any] | None = None,
    metrics: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The MLflow Run of ``info``: its metrics are the latest points of ``summaries``,
    or ``metrics`` when given (built in bulk by :func:`top_point_metrics`)."""
    return {
        "info": run_info_json(info, exp_id, deleted),
        "data": {
            "metrics": latest_metrics(summaries) if metrics is None else metrics,
            "params": [{"key": k, "value": v} for k, v in sorted(info.properties.items())],
            "tags": [{"key": k, "value": v} for k, v in sorted(run_tags(info).items())],
        },
        "inputs": inputs or {},
        "outputs": outputs or {},
    }
