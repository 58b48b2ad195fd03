"""Plain values every layer shares, and their JSON form (the /api/v1 wire format).

Nothing here does I/O. Dataclasses are frozen; the collections inside them are not
copied on the way in, so treat them as read-only (the SDK hands out copies).
"""

from __future__ import annotations

import enum
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, overload

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


#: ``PointColumns.steps`` entry of a point logged without a step.
NO_STEP = -(2**63)
#: ``PointColumns.types`` codes: how to read a point's 8 bytes in ``values``.
POINT_FLOAT, POINT_INT, POINT_OBJECT = 0, 1, 2


#: A packed column of :class:`PointColumns`: ``bytes`` or any C-contiguous buffer of
#: the same bytes (a numpy array); read it with ``numpy.frombuffer`` or ``array``.
Packed = Any


@dataclass(frozen=True)
class PointColumns:
    """The points of a batch as parallel packed arrays, in sequence order.

    The columnar twin of a list of :data:`Record`: what the spool reader produces
    and ``SqlStore`` ingests without one Python object per point. Arrays are packed
    little-endian (native on every supported platform), one entry per point ``i``:

    * ``ids`` uint32, a key of ``names`` (id -> (metric name, kind));
    * ``steps`` int64, :data:`NO_STEP` where the point has none;
    * ``times`` float64 unix seconds;
    * ``types`` uint8: :data:`POINT_FLOAT` / :data:`POINT_INT` — ``values`` holds the
      float64 / int64; :data:`POINT_OBJECT` — the value is ``objects[i]`` (str, bool,
      None, table row …) and its 8 bytes in ``values`` are zero.

    Each array is :data:`Packed`: ``bytes``, or a C-contiguous numpy array of that
    dtype (the spool reader hands its arrays on as they are, without copying them
    into bytes).
    """

    names: dict[int, tuple[str, str]]
    ids: Packed
    steps: Packed
    times: Packed
    values: Packed
    types: Packed
    objects: dict[int, CellValue] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.types)

    def to_records(self) -> list[Record]:
        """The points as records (pure Python; no numpy needed)."""
        ids, steps = _unpack("I", self.ids), _unpack("q", self.steps)
        times = _unpack("d", self.times)
        floats, ints = _unpack("d", self.values), _unpack("q", self.values)
        names, objects = self.names, self.objects
        out: list[Record] = []
        for i, code in enumerate(self.types):
            name, kind = names[ids[i]]
            step = steps[i]
            value: CellValue
            if code == POINT_FLOAT:
                value = floats[i]
            elif code == POINT_INT:
                value = ints[i]
            else:
                value = objects[i]
            out.append((name, kind, None if step == NO_STEP else step, times[i], value))
        return out


def _unpack(code: str, blob: Packed) -> array[Any]:
    packed = array(code)
    packed.frombytes(memoryview(blob).cast("B"))
    return packed


class ColumnRecords(Sequence[Record]):
    """``MetricBatch.records`` of a columnar batch: built on first use only."""

    def __init__(self, columns: PointColumns) -> None:
        self._columns = columns
        self._records: list[Record] | None = None

    def _all(self) -> list[Record]:
        if self._records is None:
            self._records = self._columns.to_records()
        return self._records

    def __len__(self) -> int:
        return len(self._columns)

    @overload
    def __getitem__(self, index: int) -> Record: ...

    @overload
    def __getitem__(self, index: slice) -> list[Record]: ...

    def __getitem__(self, index: int | slice) -> Record | list[Record]:
        return self._all()[index]

    def __iter__(self) -> Iterator[Record]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"<{len(self)} records in columns>"


@dataclass(frozen=True)
class MetricBatch:
    """Consecutive records of one writer stream, numbered from ``first_seq``.

    A store applies a batch idempotently: records whose sequence number the store
    has already applied for ``(run_id, stream)`` are skipped, so a retried batch
    never doubles a point. ``descriptions`` carries metric descriptions seen in the
    batch (name -> text).

    ``columns``, when set, holds the same points in columnar form
    (:meth:`from_columns`); ``records`` is then materialised from it on first use,
    so a store that reads only ``columns`` never pays for per-point objects. The JSON
    form always carries ``records``.
    """

    stream: str
    first_seq: int
    records: Sequence[Record]
    descriptions: dict[str, str] = field(default_factory=dict)
    columns: PointColumns | None = field(default=None, compare=False)

    @classmethod
    def from_columns(
        cls,
        stream: str,
        first_seq: int,
        columns: PointColumns,
        descriptions: dict[str, str] | None = None,
    ) -> MetricBatch:
        return cls(stream, first_seq, ColumnRecords(columns), dict(descriptions or {}), columns)

    def to_json(self) -> JSONDict:
        return {
            "stream": self.stream,
            "first_seq": self.first_seq,
            "records": [list(r) for r in self.records],  # type: ignore[arg-type, misc]
            "descriptions": dict(self.descriptions),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MetricBatch:
        """Records come back as tuples; the caller validates their shape."""
        records: list[Record] = [tuple(r) for r in data["records"]]  # type: ignore[misc]
        return cls(data["stream"], data["first_seq"], records, dict(data.get("descriptions", {})))


@dataclass(frozen=True)
class ErrorInfo:
    code: str
    message: str
    type: str | None = None
    traceback: str | None = None
    exit_code: int | None = None
    #: global rank of the process whose failure decided (distributed runs)
    rank: int | None = None
    #: the first Python traceback in the logs (``traceback`` holds the last one)
    first_traceback: str | None = None
    #: a one-line plain-language hint (CUDA OOM, NCCL timeout, OOM killer, SIGSEGV)
    hint: str | None = None

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
            rank=data.get("rank"),
            first_traceback=data.get("first_traceback"),
            hint=data.get("hint"),
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

    def changed(self, **changes: Any) -> RunInfo:
        """A copy with ``changes`` (``dataclasses.replace`` without its walk over the
        fields and through ``__init__``: ``run.tag()`` makes one per call)."""
        copy = object.__new__(RunInfo)
        copy.__dict__.update(self.__dict__, **changes)
        return copy

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunInfo:
        values = dict(data)
        values["status"] = RunStatus(values["status"])
        err = values.get("error")
        values["error"] = ErrorInfo.from_json(err) if err else None
        return cls(**values)


@dataclass(frozen=True)
class NewRun:
    """A run to create (:meth:`runtrack.store.base.TrackingStore.create_run`).

    The fields are checked by the caller (``runtrack.sdk``, the server routes); the
    store only guarantees a unique id and the run's ``number``."""

    experiment_id: str
    run_id: str
    display_name: str
    run_type: str
    status: RunStatus = RunStatus.RUNNING
    parent_id: str | None = None
    tags: dict[str, str | None] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    compute_target: str = "local"
    description: str | None = None
    definition: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> JSONDict:
        data: JSONDict = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NewRun:
        values = dict(data)
        values["status"] = RunStatus(values["status"])
        for key in ("tags", "properties", "definition"):
            values[key] = dict(values.get(key) or {})
        return cls(**values)


@dataclass(frozen=True)
class SeriesInfo:
    """A metric series of a run, with its summary (kept current at ingest).

    ``last``/``minimum``/``maximum`` are over numeric values only (None when the
    series holds none); ``count`` is the number of points, rows or list elements.
    ``top_step``/``top_time``/``top_value``: the numeric point with the highest
    (step, time, value), a missing step counting as 0 — MLflow's "latest" value, which
    differs from ``last`` when steps arrive out of order (None where unknown).
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
    top_step: int | None = None
    top_time: float | None = None
    top_value: float | None = None

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

    def to_json(self) -> JSONDict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Bucket:
        return cls(**data)


@dataclass(frozen=True)
class ArtifactInfo:
    path: str
    size: int
    modified_time: float | None = None

    def to_json(self) -> JSONDict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ArtifactInfo:
        return cls(**data)


@dataclass(frozen=True)
class RunQuery:
    """What ``TrackingStore.search_runs`` selects and how it orders.

    ``tags``/``properties``: key -> required value, or key -> None for "has the key".
    ``metric_filters``: (metric, field, op, value) with field in last|min|max|top (top:
    the point with the highest step, MLflow's latest) and op one of < <= > >= == !=.
    ``conditions``: (source, key, op, value), all of which must hold: source ``tag`` or
    ``property`` (the run has the key and its value compares true) or ``attribute``
    (key: id, display_name, status, created_time, start_time, end_time); op one of
    ``= != < <= > >= LIKE ILIKE IN NOT IN IS NULL IS NOT NULL`` (LIKE is case-sensitive,
    IN takes a list, IS [NOT] NULL no value; on tags and properties it means the key
    is absent/present). ``order_by``: list of (key, descending) where key is a run
    attribute (created_time, start_time, number, display_name, status, duration) or
    ``metric:<name>:<last|min|max|top>``. ``parent_id``: None = top-level runs only
    unless ``include_children``.
    """

    experiment_ids: list[str] | None = None
    status: list[RunStatus] | None = None
    run_type: str | None = None
    tags: dict[str, str | None] = field(default_factory=dict)
    properties: dict[str, str | None] = field(default_factory=dict)
    metric_filters: list[tuple[str, str, str, float]] = field(default_factory=list)
    conditions: list[tuple[str, str, str, Any]] = field(default_factory=list)
    parent_id: str | None = None
    include_children: bool = False
    order_by: list[tuple[str, bool]] = field(default_factory=lambda: [("created_time", True)])
    limit: int | None = None
    offset: int = 0

    def to_json(self) -> JSONDict:
        data: JSONDict = asdict(self)
        data["status"] = None if self.status is None else [s.value for s in self.status]
        data["metric_filters"] = [list(f) for f in self.metric_filters]
        data["conditions"] = [
            [s, k, op, list(v) if isinstance(v, (list, tuple)) else v]
            for s, k, op, v in self.conditions
        ]
        data["order_by"] = [list(o) for o in self.order_by]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunQuery:
        values = dict(data)
        if values.get("status") is not None:
            values["status"] = [RunStatus(s) for s in values["status"]]
        if "metric_filters" in values:
            values["metric_filters"] = [tuple(f) for f in values["metric_filters"]]
        if "conditions" in values:
            values["conditions"] = [tuple(c) for c in values["conditions"]]
        if "order_by" in values:
            values["order_by"] = [tuple(o) for o in values["order_by"]]
        return cls(**values)
