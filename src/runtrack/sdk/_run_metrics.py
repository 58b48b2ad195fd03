"""Logging and reading the metrics of a run: the helper behind ``Run.log*`` and
``Run.get_metric*``."""

from __future__ import annotations

import json
import threading
import time
from array import array
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from runtrack import _rules, limits
from runtrack.errors import (
    InvalidTypeError,
    InvalidValueError,
    LimitExceededError,
)
from runtrack.model import MetricKind, SeriesData
from runtrack.sdk import _media, _values
from runtrack.sdk._artifacts import Artifact, ImageArtifact, JsonArtifact, artifact_ref
from runtrack.sdk._listing import RunBatch
from runtrack.sdk._spooled import SpooledMetrics, flush_run, new_stream_name
from runtrack.spool.record import NO_STEP
from runtrack.spool.writer import SpoolWriter
from runtrack.store.base import ArtifactStore, SeriesValuesReader, TrackingStore

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_clock = time.time


class RunMetrics:
    """The metrics of one run, as this process logs and reads them: its spool (opened on
    the first point), the kind of each metric name, and the checks every point passes.

    :class:`runtrack.Run` holds one and delegates its ``log*`` and ``get_metric*``
    methods to it. ``on_spool_open`` is told each new spool's main writer (the run
    installs that writer's scalar logger as its ``log``); it must not hold the run
    strongly, or a dropped run would keep its spool open until the garbage collector
    ran.
    """

    def __init__(
        self,
        store: TrackingStore,
        artifacts: ArtifactStore,
        run_id: str,
        spool_dir: Path,
        *,
        kinds: dict[str, str] | None = None,
        listing: RunBatch | None = None,
        on_spool_open: Callable[[SpoolWriter], None] | None = None,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.run_id = run_id
        self.spool_dir = spool_dir
        #: metric name -> kind; None: read from the store on first use
        self.kinds = kinds
        #: set on the runs of an ``Experiment.get_runs`` listing: reads their points in bulk
        self.listing = listing
        self.on_spool_open = on_spool_open
        self.spooled: SpooledMetrics | None = None
        #: a submitted run ships from its supervisor, not from this process
        self.ship_in_process = True
        #: set in a submitted run: stream names start with the supervisor's stream (rankN),
        #: and ranks above 0 log their metrics as ``rank<N>/<name>`` (kept apart per rank)
        self.stream_prefix: str | None = None
        self.metric_prefix = ""

    # -- plumbing -------------------------------------------------------------------

    def open_spool(self) -> SpooledMetrics:
        """The run's open spool in this process (opened now if there is none)."""
        spooled = self.spooled
        if spooled is None or spooled.closed:
            prefix = self.stream_prefix
            spooled = self.spooled = SpooledMetrics(
                self.store,
                self.run_id,
                self.spool_dir,
                ship_in_process=self.ship_in_process,
                stream=f"{prefix}-{new_stream_name()}" if prefix else None,
            )
            if self.on_spool_open is not None:
                self.on_spool_open(spooled.writer)
        return spooled

    def system_sample_sink(self) -> Callable[[dict[str, float]], None] | None:
        """Where a run's last system sample goes: the spool's main writer when this
        thread owns it (one batch with the run's metrics), else None (the sampler
        ingests it itself)."""
        spooled = self.spooled
        if spooled is None or spooled.closed or spooled.owner != threading.get_ident():
            return None
        writer = spooled.writer

        def sink(values: dict[str, float]) -> None:
            now = _clock()
            # every NAME record first: the points then make one run the reader takes whole
            ids = [writer.intern(name, "scalar") for name in values]
            for nid, value in zip(ids, values.values(), strict=True):
                writer.write_float(nid, 0, now, float(value))

        return sink

    def _register(self, name: str, kind: str, description: str | None) -> int:
        """Check ``name`` and its kind, intern it in this thread's spool writer."""
        _rules.check_name(name)
        if description:
            _rules.check_text(str(description), "description")
        kinds = self.kinds
        if kinds is None:
            kinds = self.kinds = {
                s.name: s.kind.value for s in self.store.list_series(self.run_id)
            }
        known = kinds.get(name)
        if known is None:
            if len(kinds) >= limits.MAX_METRIC_NAMES_PER_RUN:
                raise LimitExceededError(
                    f"run {self.run_id} already has {len(kinds)} metric names; the limit is "
                    f"{limits.MAX_METRIC_NAMES_PER_RUN}: put the variable part into a column "
                    "of a log_row metric instead of the name"
                )
            kinds[name] = kind
        elif known != kind:
            raise InvalidValueError(
                f"metric {name!r} of run {self.run_id} holds {known} values; it cannot also take "
                f"{kind} values: log them under another name"
            )
        writer = self.open_spool().writer_for_thread()
        nid = writer.intern(self.metric_prefix + name, kind)
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

    def log_slow(self, name: str, value: Any, description: str, step: Any) -> None:
        """``run.log`` the checked way: any value ``log`` takes, from any thread."""
        _rules.check_name(name)
        s = self._step(step, name)
        converted = _values.log_value(value, name)  # everything checked before any write
        nid = self._register(name, "scalar", description)
        writer = self.open_spool().writer_for_thread()
        if type(converted) is float:
            writer.write_float(nid, s, _clock(), converted)
        elif type(converted) is int:
            writer.write_int(nid, s, _clock(), converted)
        else:
            writer.write_json(nid, s, _clock(), converted)

    def _log_many(self, name: str, kind: str, description: str | None, values: list[Any]) -> None:
        nid = self._register(name, kind, description)
        if values:
            self.open_spool().writer_for_thread().write_many(nid, NO_STEP, _clock(), values)

    def log_list(self, name: str, value: Any, description: str = "") -> None:
        """Append every element of an iterable (list, tuple, generator, 1-D array).

        A 1-D numpy array of floats goes into the spool as one block of its bytes."""
        _rules.check_name(name)
        if _values.float_array(value):
            nid = self._register(name, "list", description)
            packed = value.astype("<f8", order="C", copy=False)
            if len(packed):
                writer = self.open_spool().writer_for_thread()
                writer.write_packed_floats(nid, NO_STEP, _clock(), memoryview(packed))
            return
        self._log_many(name, "list", description, _values.list_values(value, name))

    def log_row(self, name: str, description: str | None, columns: dict[str, Any]) -> None:
        """Append one row (column -> value) to table metric ``name``."""
        _rules.check_name(name)
        self._log_many(name, "table", description, [_values.row(columns, name)])

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
                self.artifacts.put(self.run_id, target, fh)
        else:
            data = _media.render_figure(plot, name)
            target = f"{name}_{int(time.time())}.png"
            n = 1
            while self.artifacts.exists(self.run_id, target):
                target = f"{name}_{int(time.time())}_{n}.png"
                n += 1
            self.artifacts.put(self.run_id, target, data)
        self._log_artifact_metric(name, "image", description, target)

    def _log_artifact_metric(self, name: str, kind: str, description: str, path: str) -> None:
        nid = self._register(name, kind, description)
        self.open_spool().writer_for_thread().write_json(nid, NO_STEP, _clock(), path)

    def log_json(self, name: str, kind: str, value: Any, description: str) -> None:
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
        self.artifacts.put(self.run_id, name, data)
        self._log_artifact_metric(name, kind, description, name)

    def flush(self, timeout_seconds: float = 300) -> None:
        """Return once everything logged so far is stored and queryable."""
        if self.spooled is not None and not self.spooled.closed:
            self.spooled.flush(timeout_seconds)

    def close_spool(self, timeout: float = 300) -> None:
        """End the run's streams of this process: everything shipped, files removed."""
        if self.spooled is not None:
            self.spooled.close(timeout)

    # -- reading -----------------------------------------------------------------------

    def get_metrics(
        self, run_ids: Iterable[str], name: str | None, populate: bool
    ) -> dict[str, Any]:
        """Run id -> metrics for each of ``run_ids`` that has some (``get_metrics``
        with ``recursive=True``)."""
        out: dict[str, Any] = {}
        for run_id in run_ids:
            metrics = self.metrics_of(run_id, name, populate)
            if metrics:
                out[run_id] = metrics
        return out

    def get_system_metrics(self, name: str | None = None) -> dict[str, Any]:
        """System metrics (``sys/…``: CPU, memory, disk, network, GPUs), shaped like
        ``get_metrics()``; that one leaves them out. See docs/system-metrics.md."""
        return self.metrics_of(self.run_id, name, False, system=True)

    def metrics_of(
        self, run_id: str, name: str | None, populate: bool, system: bool = False
    ) -> dict[str, Any]:
        flush_run(run_id, 300)
        out: dict[str, Any] = {}
        listed = self.listing
        ahead = listed.current(run_id) if listed and run_id == self.run_id and not system \
            else None
        if ahead is not None:  # a listing's read-ahead, still current (see sdk._listing)
            for series in ahead:
                if name is None or series.name == name:
                    kind = MetricKind(series.kind)
                    out[series.name] = self._shape(run_id, series.name, kind, populate,
                                                   series.values)
            return out
        for info in self.store.list_series(run_id):
            if name is not None and info.name != name:
                continue
            if info.name.startswith(_rules.SYSTEM_PREFIX) is not system:
                continue
            out[info.name] = self._shape(run_id, info.name, info.kind, populate)
        return out

    def _shape(
        self, run_id: str, name: str, kind: MetricKind, populate: bool,
        values: list[Any] | None = None,
    ) -> Any:
        """A series as get_metrics shows it, from ``values`` (all of them, read ahead
        by a listing) when given, else read now."""
        if kind.is_artifact:
            if values is None:
                values = self.store.read_series(run_id, name, 0, 1).values
            path = str(values[0])
            if populate:
                cls = ImageArtifact if kind is MetricKind.IMAGE else JsonArtifact
                artifact: Artifact = cls(self.artifacts, run_id, path)
                return artifact
            return artifact_ref(run_id, path)
        if kind is MetricKind.TABLE:
            return _columns(values if values is not None
                            else self.store.read_series(run_id, name).values)
        if values is None:
            values = self._packed_values(run_id, name)
        if values is None:
            values = self.store.read_series(run_id, name).values
        return values[0] if len(values) == 1 else values

    def _packed_values(self, run_id: str, name: str) -> list[Any] | None:
        """Values of a numeric series through the store's optional packed read."""
        if not isinstance(self.store, SeriesValuesReader):
            return None
        packed = self.store.read_series_values(run_id, name)
        if packed is None:
            return None
        encoding, blob = packed
        values = array({"f": "d", "i": "q", "b": "b"}[encoding])
        values.frombytes(blob)
        return list(map(bool, values)) if encoding == "b" else values.tolist()

    def get_metric_series(self, name: str) -> SeriesData:
        """Every point of one metric with its step and time (index order)."""
        flush_run(self.run_id, 300)
        return self.store.read_series(self.run_id, name)

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
        flush_run(self.run_id, 300)
        store = self.store
        packed = store.read_series_values(self.run_id, name) if isinstance(
            store, SeriesValuesReader
        ) else None
        if packed is not None:
            encoding, blob = packed
            dtype = {"f": "<f8", "i": "<i8", "b": "i1"}[encoding]
            return np.frombuffer(blob, dtype=dtype).astype(np.float64)
        return np.asarray(store.read_series(self.run_id, name).values, dtype=float)


#: names of system metrics (see runtrack.runner.sysmetrics); get_metrics() skips them


def _columns(rows: list[Any]) -> dict[str, Any]:
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
