"""Logging and reading metrics: the ``log*`` methods and ``get_metrics`` of Run."""

from __future__ import annotations

import json
import threading
import time
import weakref
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtrack import _rules, limits
from runtrack.errors import (
    InvalidTypeError,
    InvalidValueError,
    LimitExceededError,
    RunStateError,
)
from runtrack.model import MetricKind, SeriesData, SeriesInfo
from runtrack.sdk import _media, _values
from runtrack.sdk._artifacts import Artifact, ImageArtifact, JsonArtifact, artifact_ref
from runtrack.sdk._listing import RunBatch
from runtrack.sdk._spooled import SpooledMetrics, flush_run, new_stream_name
from runtrack.spool.record import NO_STEP
from runtrack.store.base import ArtifactStore, SeriesValuesReader, TrackingStore

if TYPE_CHECKING:
    from runtrack.sdk.run import Run

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_clock = time.time


def _slow_log(run: MetricsMixin) -> Callable[[str, Any, str, Any], None]:
    """The slow path of ``run``'s scalar logger, holding the run weakly (the logger is
    an attribute of the run: a strong reference would make a cycle, and a dropped
    handle would wait for the garbage collector to end its spool)."""
    ref = weakref.ref(run)

    def slow(name: str, value: Any, description: str, step: Any) -> None:
        target = ref()
        if target is None:
            raise RunStateError(
                f"the run handle this log function came from is gone; keep a reference "
                f"to the run and call its log() (metric {name!r})"
            )
        target._log_slow(name, value, description, step)

    return slow


class MetricsMixin:
    """The logging half of :class:`runtrack.Run` (mixed into it)."""

    id: str
    _store: TrackingStore
    _artifacts: ArtifactStore
    _spool_dir: Path
    _ship_in_process: bool
    _spooled: SpooledMetrics | None
    _kinds: dict[str, str] | None
    #: set in a submitted run: stream names start with the supervisor's stream (rankN),
    #: and ranks above 0 log their metrics as ``rank<N>/<name>`` (kept apart per rank)
    _stream_prefix: str | None = None
    _metric_prefix: str = ""
    #: set on the runs of an ``Experiment.get_runs`` listing: reads their points in bulk
    _listing: RunBatch | None = None

    # -- plumbing -------------------------------------------------------------------

    def _open_spool(self) -> SpooledMetrics:
        if self._spooled is None or self._spooled.closed:
            prefix = self._stream_prefix
            self._spooled = SpooledMetrics(
                self._store,
                self.id,
                self._spool_dir,
                ship_in_process=self._ship_in_process,
                stream=f"{prefix}-{new_stream_name()}" if prefix else None,
            )
            # run.log's fast path: this run's own ``log`` attribute, over the method
            self.__dict__["log"] = self._spooled.writer.scalar_logger(_slow_log(self))
        return self._spooled

    def _system_sample_sink(self) -> Callable[[dict[str, float]], None] | None:
        """Where a run's last system sample goes: the spool's main writer when this
        thread owns it (one batch with the run's metrics), else None (the sampler
        ingests it itself)."""
        spooled = self._spooled
        if spooled is None or spooled.closed or spooled.owner != threading.get_ident():
            return None
        writer = spooled.writer

        def sink(values: dict[str, float]) -> None:
            now = _clock()
            for name, value in values.items():
                writer.write_float(writer.intern(name, "scalar"), 0, now, float(value))

        return sink

    def _register(self, name: str, kind: str, description: str | None) -> int:
        """Check ``name`` and its kind, intern it in this thread's spool writer."""
        _rules.check_name(name)
        if description:
            _rules.check_text(str(description), "description")
        kinds = self._kinds
        if kinds is None:
            kinds = self._kinds = {s.name: s.kind.value for s in self._store.list_series(self.id)}
        known = kinds.get(name)
        if known is None:
            if len(kinds) >= limits.MAX_METRIC_NAMES_PER_RUN:
                raise LimitExceededError(
                    f"run {self.id} already has {len(kinds)} metric names; the limit is "
                    f"{limits.MAX_METRIC_NAMES_PER_RUN}: put the variable part into a column "
                    "of a log_row metric instead of the name"
                )
            kinds[name] = kind
        elif known != kind:
            raise InvalidValueError(
                f"metric {name!r} of run {self.id} holds {known} values; it cannot also take "
                f"{kind} values: log them under another name"
            )
        writer = self._open_spool().writer_for_thread()
        nid = writer.intern(self._metric_prefix + name, kind)
        if description:
            writer.describe(nid, str(description))
        if kind == "scalar":
            writer.enable_append(name, nid)
        return nid

    def _step(self, step: Any, name: str) -> int:
        if step is None:
            return NO_STEP
        converted = _values.scalar(step, name, "step")
        if type(converted) is not int or not (_INT64_MIN < converted <= _INT64_MAX):
            raise InvalidTypeError(
                f"step of metric {name!r} must be an int, got {step!r}: steps are the "
                "integer x-axis of a series (use log_row for other x values)"
            )
        return converted

    # -- logging ----------------------------------------------------------------------

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """Append one scalar (bool, int, float, str, None) to metric ``name``.

        The point is in the run's spool when this returns (it survives a crash of this
        process). Once the run's spool is open, ``run.log`` is the spool writer's
        scalar logger (:meth:`runtrack.spool.writer.SpoolWriter.scalar_logger`): the
        common case — a float or int under a known name, from the thread that started
        logging — is one struct pack into a memory map; anything else comes back to
        the checked slow path. A ``log = run.log`` taken before the spool opened is
        this method: it hands each call to the scalar logger once there is one.
        """
        fast = self.__dict__.get("log")
        if fast is not None:
            fast(name, value, description, step)
        else:
            self._log_slow(name, value, description, step)

    def _log_slow(self, name: str, value: Any, description: str, step: Any) -> None:
        _rules.check_name(name)
        s = self._step(step, name)
        converted = _values.log_value(value, name)  # everything checked before any write
        nid = self._register(name, "scalar", description)
        writer = self._open_spool().writer_for_thread()
        if type(converted) is float:
            writer.write_float(nid, s, _clock(), converted)
        elif type(converted) is int:
            writer.write_int(nid, s, _clock(), converted)
        else:
            writer.write_json(nid, s, _clock(), converted)

    def _log_many(self, name: str, kind: str, description: str | None, values: list[Any]) -> None:
        nid = self._register(name, kind, description)
        if values:
            self._open_spool().writer_for_thread().write_many(nid, NO_STEP, _clock(), values)

    def log_list(self, name: str, value: Any, description: str = "") -> None:
        """Append every element of an iterable (list, tuple, generator, 1-D array).

        A 1-D numpy array of floats goes into the spool as one block of its bytes."""
        _rules.check_name(name)
        if _values.float_array(value):
            nid = self._register(name, "list", description)
            packed = value.astype("<f8", order="C", copy=False)
            if len(packed):
                writer = self._open_spool().writer_for_thread()
                writer.write_packed_floats(nid, NO_STEP, _clock(), memoryview(packed))
            return
        self._log_many(name, "list", description, _values.list_values(value, name))

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Append one row to table metric ``name``; each keyword is a column."""
        _rules.check_name(name)
        self._log_many(name, "table", description, [_values.row(kwargs, name)])

    def log_table(self, name: str, value: Any, description: str = "") -> None:
        """Append the rows of a dict of equal-length columns to table metric ``name``."""
        _rules.check_name(name)
        self._log_many(name, "table", description, _values.table_rows(value, name))

    def log_image(
        self, name: str, path: Any = None, plot: Any = None, description: str = ""
    ) -> None:
        """Log an image from a file (``path``) or a matplotlib figure (``plot``)."""
        _rules.check_name(name)
        if (path is None) == (plot is None):
            raise InvalidValueError(
                f"log_image({name!r}) needs exactly one of path= (an image file) or plot= "
                "(a matplotlib figure or pyplot)"
            )
        if path is not None:
            source = Path(path)
            if not source.is_file():
                raise InvalidValueError(f"log_image({name!r}): no file at {str(path)!r}")
            with open(source, "rb") as fh:
                head = fh.read(64)
            if _media.image_type(head) is None:
                raise InvalidValueError(
                    f"log_image({name!r}): {str(path)!r} is not a recognised image "
                    "(png, jpeg, gif, bmp, tiff, webp or svg)"
                )
            target = str(path) if not source.is_absolute() else source.name
            with open(source, "rb") as fh:
                self._artifacts.put(self.id, target, fh)
        else:
            data = _media.render_figure(plot, name)
            target = f"{name}_{int(time.time())}.png"
            n = 1
            while self._artifacts.exists(self.id, target):
                target = f"{name}_{int(time.time())}_{n}.png"
                n += 1
            self._artifacts.put(self.id, target, data)
        self._log_artifact_metric(name, "image", description, target)

    def _log_artifact_metric(self, name: str, kind: str, description: str, path: str) -> None:
        nid = self._register(name, kind, description)
        self._open_spool().writer_for_thread().write_json(nid, NO_STEP, _clock(), path)

    def _log_json(self, name: str, kind: str, value: Any, description: str) -> None:
        _rules.check_name(name)
        _values.check_document_name(name)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise InvalidValueError(
                    f"{kind} metric {name!r}: Invalid JSON provided ({exc})"
                ) from exc
        if not isinstance(value, dict):
            raise InvalidTypeError(
                f"{kind} metric {name!r} needs a dict or a JSON object string, got "
                f"{type(value).__name__}"
            )
        data = json.dumps(value).encode()
        self._artifacts.put(self.id, name, data)
        self._log_artifact_metric(name, kind, description, name)

    def log_confusion_matrix(self, name: str, value: Any, description: str = "") -> None:
        """Log a confusion matrix document (dict or JSON string)."""
        self._log_json(name, "confusion_matrix", value, description)

    def log_accuracy_table(self, name: str, value: Any, description: str = "") -> None:
        """Log an accuracy table document (dict or JSON string)."""
        self._log_json(name, "accuracy_table", value, description)

    def log_residuals(self, name: str, value: Any, description: str = "") -> None:
        """Log a residuals histogram document (dict or JSON string)."""
        self._log_json(name, "residuals", value, description)

    def log_predictions(self, name: str, value: Any, description: str = "") -> None:
        """Log a predictions document (dict or JSON string)."""
        self._log_json(name, "predictions", value, description)

    def flush(self, timeout_seconds: float = 300) -> None:
        """Return once everything logged so far is stored and queryable."""
        if self._spooled is not None and not self._spooled.closed:
            self._spooled.flush(timeout_seconds)

    def _close_spool(self, timeout: float = 300) -> None:
        self.__dict__.pop("log", None)  # the next log() reopens a spool (slow path)
        if self._spooled is not None:
            self._spooled.close(timeout)

    # -- reading -----------------------------------------------------------------------

    def get_metrics(
        self,
        name: str | None = None,
        recursive: bool = False,
        run_type: str | None = None,
        populate: bool = False,
    ) -> dict[str, Any]:
        """Metrics as Azure ML returns them: name -> value, list, or dict of columns.

        With ``recursive=True``: run id -> metrics for this run and its descendants
        (optionally only descendants of ``run_type``); runs without metrics omitted.
        """
        if not recursive:
            return self._metrics_of(self.id, name, populate)
        out: dict[str, Any] = {}
        for run in self._self_and_descendants(run_type):
            metrics = self._metrics_of(run.id, name, populate)
            if metrics:
                out[run.id] = metrics
        return out

    def _self_and_descendants(self, run_type: str | None) -> Iterator[Run]:
        yield self  # type: ignore[misc]
        for child in self.get_children(recursive=True):  # type: ignore[attr-defined]
            if run_type is None or child.type == run_type:
                yield child

    def get_system_metrics(self, name: str | None = None) -> dict[str, Any]:
        """System metrics (``sys/…``: CPU, memory, disk, network, GPUs), shaped like
        ``get_metrics()``; that one leaves them out. See docs/system-metrics.md."""
        return self._metrics_of(self.id, name, False, system=True)

    def _metrics_of(
        self, run_id: str, name: str | None, populate: bool, system: bool = False
    ) -> dict[str, Any]:
        flush_run(run_id, 300)
        out: dict[str, Any] = {}
        infos = self._store.list_series(run_id)
        listed = self._listing
        ahead = listed.current_series(run_id, infos) if listed and run_id == self.id else {}
        for info in infos:
            if name is not None and info.name != name:
                continue
            if info.name.startswith(SYSTEM_PREFIX) is not system:
                continue
            out[info.name] = self._shape(run_id, info, populate, ahead.get(info.name))
        return out

    def _shape(
        self, run_id: str, info: SeriesInfo, populate: bool, data: SeriesData | None = None
    ) -> Any:
        """``info``'s series as get_metrics shows it, from ``data`` (its points, read
        ahead by a listing) when given, else read now."""
        if info.kind.is_artifact:
            if data is None:
                data = self._store.read_series(run_id, info.name, 0, 1)
            first = data.values[0]
            path = str(first)
            if populate:
                cls = ImageArtifact if info.kind is MetricKind.IMAGE else JsonArtifact
                artifact: Artifact = cls(self._artifacts, run_id, path)
                return artifact
            return artifact_ref(run_id, path)
        if info.kind is MetricKind.TABLE:
            return _columns(data or self._store.read_series(run_id, info.name))
        values = data.values if data is not None else self._packed_values(run_id, info.name)
        if values is None:
            values = self._store.read_series(run_id, info.name).values
        return values[0] if len(values) == 1 else values

    def _packed_values(self, run_id: str, name: str) -> list[Any] | None:
        """Values of a numeric series through the store's optional packed read."""
        if not isinstance(self._store, SeriesValuesReader):
            return None
        packed = self._store.read_series_values(run_id, name)
        if packed is None:
            return None
        encoding, blob = packed
        values = array({"f": "d", "i": "q", "b": "b"}[encoding])
        values.frombytes(blob)
        return list(map(bool, values)) if encoding == "b" else values.tolist()

    def get_metric_series(self, name: str) -> SeriesData:
        """Every point of one metric with its step and time (index order)."""
        flush_run(self.id, 300)
        return self._store.read_series(self.id, name)

    def get_metric_array(self, name: str) -> Any:
        """A numeric metric as a float64 numpy array (numpy must be installed).

        Long series are built straight from the store's packed chunks when the store
        offers that (``SqlStore`` does); otherwise from ``get_metric_series``.
        """
        try:
            import numpy as np
        except ImportError as exc:
            raise ImportError(
                "get_metric_array() needs numpy: pip install 'runtrack[numpy]'"
            ) from exc
        flush_run(self.id, 300)
        store = self._store
        packed = store.read_series_values(self.id, name) if isinstance(
            store, SeriesValuesReader
        ) else None
        if packed is not None:
            encoding, blob = packed
            dtype = {"f": "<f8", "i": "<i8", "b": "i1"}[encoding]
            return np.frombuffer(blob, dtype=dtype).astype(np.float64)
        return np.asarray(self._store.read_series(self.id, name).values, dtype=float)


#: names of system metrics (see runtrack.runner.sysmetrics); get_metrics() skips them
SYSTEM_PREFIX = "sys/"


def _columns(data: SeriesData) -> dict[str, Any]:
    rows = data.values
    columns: dict[str, list[Any]] = {}
    for i, row in enumerate(rows):
        assert isinstance(row, dict)
        for key, value in row.items():
            column = columns.get(key)
            if column is None:
                column = columns[key] = [None] * i
            column.append(value)
        for column in columns.values():
            if len(column) < i + 1:
                column.append(None)
    if len(rows) == 1:
        return {key: column[0] for key, column in columns.items()}
    return columns
