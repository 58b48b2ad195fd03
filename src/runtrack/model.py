"""Plain values every layer shares, and their JSON form (the /api/v1 wire format).

Nothing here does I/O. Dataclasses are frozen; collections inside them are fresh
copies owned by the value.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

from runtrack.types import JSONDict, Scalar


class RunStatus(str, enum.Enum):
    """Lifecycle of a run. Terminal states are final."""

    NOT_STARTED = "NotStarted"
    QUEUED = "Queued"
    PREPARING = "Preparing"
    RUNNING = "Running"
    FINALIZING = "Finalizing"
    CANCEL_REQUESTED = "CancelRequested"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES

    def __str__(self) -> str:
        return self.value


TERMINAL_STATUSES = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED})


class MetricKind(str, enum.Enum):
    """What a metric series holds; decides how ``get_metrics()`` reshapes it."""

    SCALAR = "scalar"
    LIST = "list"
    TABLE = "table"
    IMAGE = "image"
    CONFUSION_MATRIX = "confusion_matrix"
    ACCURACY_TABLE = "accuracy_table"
    RESIDUALS = "residuals"
    PREDICTIONS = "predictions"

    @property
    def is_artifact(self) -> bool:
        return self in ARTIFACT_KINDS

    def __str__(self) -> str:
        return self.value


ARTIFACT_KINDS = frozenset(
    {
        MetricKind.IMAGE,
        MetricKind.CONFUSION_MATRIX,
        MetricKind.ACCURACY_TABLE,
        MetricKind.RESIDUALS,
        MetricKind.PREDICTIONS,
    }
)

#: Value of one cell: a scalar, or for table rows a mapping column -> scalar.
CellValue = Scalar | dict[str, Scalar]

#: One logged point as it travels from the spool to the store:
#: (metric name, kind, step or None, unix time, value).
Record = tuple[str, str, int | None, float, CellValue]


@dataclass(frozen=True)
class MetricBatch:
    """Consecutive records of one writer stream, numbered from ``first_seq``.

    A store applies a batch idempotently: records whose sequence number the store
    has already applied for ``(run_id, stream)`` are skipped, so a retried batch
    never doubles a point. ``descriptions`` carries metric descriptions seen in the
    batch (name -> text).
    """

    stream: str
    first_seq: int
    records: list[Record]
    descriptions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ErrorInfo:
    code: str
    message: str
    type: str | None = None
    traceback: str | None = None
    exit_code: int | None = None

    def to_json(self) -> JSONDict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ErrorInfo:
        return cls(
            code=str(data.get("code", "UserError")),
            message=str(data.get("message", "")),
            type=data.get("type"),
            traceback=data.get("traceback"),
            exit_code=data.get("exit_code"),
        )


@dataclass(frozen=True)
class ExperimentInfo:
    id: str
    name: str
    created_time: float
    tags: dict[str, str | None] = field(default_factory=dict)
    archived: bool = False
    run_count: int = 0
    last_activity: float | None = None

    def to_json(self) -> JSONDict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExperimentInfo:
        return cls(**data)


@dataclass(frozen=True)
class RunInfo:
    id: str
    experiment_id: str
    experiment_name: str
    number: int
    display_name: str
    status: RunStatus
    run_type: str
    created_time: float
    start_time: float | None = None
    end_time: float | None = None
    parent_id: str | None = None
    description: str | None = None
    compute_target: str = "local"
    tags: dict[str, str | None] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    definition: dict[str, Any] = field(default_factory=dict)
    error: ErrorInfo | None = None

    def to_json(self) -> JSONDict:
        data: JSONDict = asdict(self)
        data["status"] = self.status.value
        data["error"] = self.error.to_json() if self.error else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunInfo:
        values = dict(data)
        values["status"] = RunStatus(values["status"])
        err = values.get("error")
        values["error"] = ErrorInfo.from_json(err) if err else None
        return cls(**values)


@dataclass(frozen=True)
class SeriesInfo:
    """A metric series of a run, with its summary (kept current at ingest).

    ``last``/``minimum``/``maximum`` are over numeric values only (None when the
    series holds none); ``count`` is the number of points, rows or list elements.
    """

    name: str
    kind: MetricKind
    count: int
    description: str = ""
    columns: list[str] = field(default_factory=list)
    last: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    last_step: int | None = None
    first_value: CellValue = None
    last_value: CellValue = None
    last_time: float | None = None

    def to_json(self) -> JSONDict:
        data: JSONDict = asdict(self)
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SeriesInfo:
        values = dict(data)
        values["kind"] = MetricKind(values["kind"])
        return cls(**values)


@dataclass(frozen=True)
class SeriesData:
    """Points of one series in index order: parallel lists.

    ``steps`` holds None where no step was given. ``values`` are scalars (or row
    dicts for tables) exactly as logged.
    """

    name: str
    kind: MetricKind
    start: int
    steps: list[int | None]
    times: list[float]
    values: list[CellValue]

    def to_json(self) -> JSONDict:
        data: JSONDict = asdict(self)
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SeriesData:
        values = dict(data)
        values["kind"] = MetricKind(values["kind"])
        return cls(**values)


@dataclass(frozen=True)
class Bucket:
    """One bucket of a shape-preserving downsample of a numeric series."""

    x_start: float
    x_end: float
    count: int
    first: float
    last: float
    minimum: float
    maximum: float


@dataclass(frozen=True)
class ArtifactInfo:
    path: str
    size: int
    modified_time: float | None = None


@dataclass(frozen=True)
class RunQuery:
    """What ``TrackingStore.search_runs`` selects and how it orders.

    ``tags``/``properties``: key -> required value, or key -> None for "has the key".
    ``metric_filters``: (metric, field, op, value) with field in last|min|max and op
    one of < <= > >= == !=. ``order_by``: list of (key, descending) where key is a run
    attribute (created_time, start_time, number, display_name, status, duration) or
    ``metric:<name>:<last|min|max>``. ``parent_id``: None = top-level runs only unless
    ``include_children``.
    """

    experiment_ids: list[str] | None = None
    status: list[RunStatus] | None = None
    run_type: str | None = None
    tags: dict[str, str | None] = field(default_factory=dict)
    properties: dict[str, str | None] = field(default_factory=dict)
    metric_filters: list[tuple[str, str, str, float]] = field(default_factory=list)
    parent_id: str | None = None
    include_children: bool = False
    order_by: list[tuple[str, bool]] = field(default_factory=lambda: [("created_time", True)])
    limit: int | None = None
    offset: int = 0
