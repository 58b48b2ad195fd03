"""``MemoryStore``: the whole :class:`~runtrack.store.base.TrackingStore` in this process's
memory, for fast tests and throwaway notebooks. Nothing is written to disk.

It passes the same contract suite as ``SqlStore`` and ``RestStore``
(``tests/store/contract.py``). Each public call holds the store's one lock, checks
everything before it changes anything, and hands out fresh values, so a call fully happens
or not at all, as the contract asks.

Opened by URI (:func:`runtrack.store.open_store`): ``memory://`` is a new, empty store
every time; ``memory://NAME`` is one store per name and process, shared by every opening
of that URI until the process ends (so a workspace and the tools it hands the URI to see
the same data). Data never outlives the process and is not seen by other processes:
submitted scripts and servers need a folder, database or server workspace.

Of the optional extensions in :mod:`runtrack.store.base` it offers
:class:`~runtrack.store.base.RunRestater` and
:class:`~runtrack.store.base.SeriesValuesReader`; it has no log search index
(``LogSearchStore``: ``runtrack logs search`` needs a database workspace) and no artifact
store of its own (``ServesArtifacts``: a workspace on it keeps files elsewhere).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from runtrack import limits
from runtrack.catalog import RunInputInfo
from runtrack.errors import (
    ConflictError,
    InvalidValueError,
    LimitExceededError,
    NotFoundError,
    PropertyConflictError,
    RunStateError,
)
from runtrack.model import (
    Bucket,
    ErrorInfo,
    ExperimentInfo,
    MetricBatch,
    MetricKind,
    NewRun,
    RunInfo,
    RunQuery,
    RunStatus,
    SeriesData,
    SeriesInfo,
)
from runtrack.store.memory import _runs
from runtrack.store.memory._catalog import CatalogMethods, CatalogState
from runtrack.store.memory._runs import ExperimentRecord, RunRecord
from runtrack.store.memory._series import Series, group_records, pack_values

__all__ = ["MemoryStore"]


@dataclass
class _State:
    """Everything one memory store holds; ``lock`` guards all of it."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    experiments: dict[str, ExperimentRecord] = field(default_factory=dict)
    runs: dict[str, RunRecord] = field(default_factory=dict)
    inputs: dict[str, list[RunInputInfo]] = field(default_factory=dict)
    catalog: CatalogState = field(default_factory=CatalogState)
    next_experiment: int = 1


_NAMED: dict[str, _State] = {}
_NAMED_LOCK = threading.Lock()


class MemoryStore(CatalogMethods):
    """A TrackingStore in memory. ``MemoryStore()`` is new and empty;
    ``MemoryStore("name")`` shares its data with every other store of that name in this
    process (what ``open_store("memory://name")`` returns)."""

    def __init__(self, name: str | None = None) -> None:
        if name is None:
            state = _State()
        else:
            with _NAMED_LOCK:
                state = _NAMED.setdefault(name, _State())
        self.name = name
        self._state = state
        self._lock = state.lock
        self._catalog = state.catalog

    # -- lookups (callers hold the lock) -------------------------------------------------------

    def _experiment(self, experiment_id: str) -> ExperimentRecord:
        found = self._state.experiments.get(experiment_id)
        if found is None:
            raise NotFoundError(f"experiment {experiment_id!r} does not exist")
        return found

    def _run(self, run_id: str) -> RunRecord:
        found = self._state.runs.get(run_id)
        if found is None:
            raise NotFoundError(f"run {run_id!r} does not exist")
        return found

    def _series(self, run_id: str, name: str) -> Series:
        found = self._run(run_id).series.get(name)
        if found is None:
            raise NotFoundError(f"run {run_id!r} has no metric called {name!r}")
        return found

    def _experiment_info(self, record: ExperimentRecord) -> ExperimentInfo:
        runs = [r for r in self._state.runs.values() if r.experiment is record]
        return ExperimentInfo(
            id=record.id, name=record.name, created_time=record.created_time,
            tags=dict(record.tags), archived=record.archived,
            run_count=sum(1 for r in runs if r.parent_id is None),
            last_activity=max((r.last_activity for r in runs), default=None),
        )

    # -- experiments ---------------------------------------------------------------------------

    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        with self._lock:
            for record in self._state.experiments.values():
                if record.name == name:
                    return self._experiment_info(record)
            key = str(self._state.next_experiment)
            self._state.next_experiment += 1
            record = self._state.experiments[key] = ExperimentRecord(key, name, time.time())
            return self._experiment_info(record)

    def get_experiment(self, experiment_id: str) -> ExperimentInfo:
        with self._lock:
            return self._experiment_info(self._experiment(experiment_id))

    def get_experiment_by_name(self, name: str) -> ExperimentInfo | None:
        with self._lock:
            for record in self._state.experiments.values():
                if record.name == name:
                    return self._experiment_info(record)
            return None

    def list_experiments(self, include_archived: bool = False) -> list[ExperimentInfo]:
        with self._lock:
            records = sorted(self._state.experiments.values(), key=lambda e: e.name)
            return [self._experiment_info(e) for e in records
                    if include_archived or not e.archived]

    def set_experiment_tags(self, experiment_id: str, tags: dict[str, str | None]) -> None:
        with self._lock:
            self._experiment(experiment_id).tags.update(tags)

    def remove_experiment_tags(self, experiment_id: str, keys: Sequence[str]) -> None:
        with self._lock:
            tags = self._experiment(experiment_id).tags
            for key in keys:
                tags.pop(key, None)

    def update_experiment(
        self, experiment_id: str, *, name: str | None = None, archived: bool | None = None
    ) -> ExperimentInfo:
        with self._lock:
            record = self._experiment(experiment_id)
            if name is not None and name != record.name:
                if any(e.name == name for e in self._state.experiments.values()):
                    raise ConflictError(
                        f"an experiment called {name!r} already exists; choose another name"
                    )
                record.name = name
            if archived is not None:
                record.archived = bool(archived)
            return self._experiment_info(record)

    # -- runs ------------------------------------------------------------------------------------

    def create_run(self, new: NewRun) -> RunInfo:
        status = RunStatus(new.status)
        with self._lock:
            experiment = self._experiment(new.experiment_id)
            if new.run_id in self._state.runs:
                raise ConflictError(f"a run with id {new.run_id!r} already exists; use a new id")
            if new.parent_id is not None:
                self._run(new.parent_id)
            _check_count("tags", new.run_id, len(new.tags), limits.MAX_TAGS_PER_RUN)
            _check_count("properties", new.run_id, len(new.properties),
                         limits.MAX_PROPERTIES_PER_RUN)
            definition = json.dumps(new.definition) if new.definition else "{}"
            now = time.time()
            record = RunRecord(
                id=new.run_id, experiment=experiment, number=experiment.next_number,
                display_name=new.display_name, status=status, run_type=new.run_type,
                created_time=now, last_activity=now,
                start_time=now if status is RunStatus.RUNNING else None,
                end_time=now if status.is_terminal else None, parent_id=new.parent_id,
                description=new.description, compute_target=new.compute_target,
                definition=definition, tags=dict(new.tags), properties=dict(new.properties),
            )
            experiment.next_number += 1
            self._state.runs[new.run_id] = record
            return record.info()

    def get_run(self, run_id: str) -> RunInfo:
        with self._lock:
            return self._run(run_id).info()

    def _matching(self, query: RunQuery) -> list[RunRecord]:
        tests = _runs.predicates(query)
        return [r for r in self._state.runs.values() if all(test(r) for test in tests)]

    def search_runs(self, query: RunQuery) -> list[RunInfo]:
        with self._lock:
            found = _runs.ordered(self._matching(query), query.order_by)
            stop = None if query.limit is None else query.offset + query.limit
            return [r.info() for r in found[query.offset : stop]]

    def count_runs(self, query: RunQuery) -> int:
        with self._lock:
            return len(self._matching(query))

    def update_run(
        self, run_id: str, *, display_name: str | None = None, description: str | None = None
    ) -> RunInfo:
        with self._lock:
            record = self._run(run_id)
            if display_name is not None:
                record.display_name = display_name
            if description is not None:
                record.description = description
            if display_name is not None or description is not None:
                record.last_activity = time.time()
            return record.info()

    def set_status(
        self, run_id: str, status: RunStatus, *, error: ErrorInfo | None = None
    ) -> RunInfo:
        status = RunStatus(status)
        with self._lock:
            record = self._run(run_id)
            if record.status is status:
                return record.info()
            if record.status.is_terminal:
                raise RunStateError(
                    f"run {run_id!r} is already {record.status.value} and cannot become "
                    f"{status.value}; terminal states are final"
                )
            now = time.time()
            record.status, record.last_activity = status, now
            if status is RunStatus.RUNNING and record.start_time is None:
                record.start_time = now
            if status.is_terminal:
                record.end_time = now
            if error is not None:
                record.error = error
            return record.info()

    def restate_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        start_time: float | None = None,
        end_time: float | None = None,
    ) -> RunInfo:
        """Optional extension (see :mod:`runtrack.store.base`), as ``SqlStore``'s: set status
        and times as a client reports them; a non-terminal status clears ``end_time`` unless
        one is given, a terminal one without ``end_time`` ends now."""
        with self._lock:
            record = self._run(run_id)
            now = time.time()
            record.last_activity = now
            if status is not None:
                status = RunStatus(status)
                if status.is_terminal:
                    if end_time is None and not record.status.is_terminal:
                        record.end_time = now
                else:
                    record.end_time = None
                if status is RunStatus.RUNNING and record.start_time is None:
                    record.start_time = now
                record.status = status
            if start_time is not None:
                record.start_time = start_time
            if end_time is not None:
                record.end_time = end_time
            return record.info()

    def set_tags(self, run_id: str, tags: dict[str, str | None]) -> None:
        with self._lock:
            record = self._run(run_id)
            total = len(record.tags.keys() | tags.keys())
            _check_count("tags", run_id, total, limits.MAX_TAGS_PER_RUN)
            record.tags.update(tags)

    def remove_tags(self, run_id: str, keys: Sequence[str]) -> None:
        with self._lock:
            tags = self._run(run_id).tags
            for key in keys:
                tags.pop(key, None)

    def add_properties(self, run_id: str, properties: dict[str, str]) -> None:
        with self._lock:
            existing = self._run(run_id).properties
            for key, value in properties.items():
                if key in existing and existing[key] != value:
                    raise PropertyConflictError(
                        f"run {run_id!r} already has property {key!r}={existing[key]!r}; "
                        f"properties cannot change (tried {value!r}); use a tag for values "
                        "that change"
                    )
            total = len(existing.keys() | properties.keys())
            _check_count("properties", run_id, total, limits.MAX_PROPERTIES_PER_RUN)
            existing.update(properties)

    def delete_run(self, run_id: str) -> None:
        with self._lock:
            self._run(run_id)
            doomed, frontier = [run_id], {run_id}
            while frontier:
                children = [r.id for r in self._state.runs.values() if r.parent_id in frontier]
                doomed += children
                frontier = set(children)
            for gone in doomed:
                del self._state.runs[gone]
                self._state.inputs.pop(gone, None)

    # -- metrics ---------------------------------------------------------------------------------

    def ingest(self, run_id: str, batch: MetricBatch) -> int:
        with self._lock:
            record = self._state.runs.get(run_id)
            if record is None:
                raise NotFoundError(
                    f"run {run_id!r} does not exist; create it before logging to it"
                )
            size = len(batch.records)
            if size > limits.MAX_BATCH_RECORDS:
                raise LimitExceededError(
                    f"a batch holds {size} records, more than MAX_BATCH_RECORDS="
                    f"{limits.MAX_BATCH_RECORDS}; split it"
                )
            position = record.cursors.get(batch.stream, 0)
            if batch.first_seq < 0 or batch.first_seq > position:
                raise InvalidValueError(
                    f"batch for stream {batch.stream!r} of run {run_id!r} starts at sequence "
                    f"{batch.first_seq} but the store expects {position}: records are "
                    "missing; resend from the store's position (ingest_position)"
                )
            groups = group_records(batch.records[position - batch.first_seq :])
            for name, points in groups.items():
                known = record.series.get(name)
                if known is not None and known.kind.value != points.kind:
                    raise InvalidValueError(
                        f"metric {name!r} of run {run_id!r} holds {known.kind.value} values; "
                        f"it cannot also take {points.kind} values: log them under another name"
                    )
            new_names = [name for name in groups if name not in record.series]
            total = len(record.series) + len(new_names)
            if total > limits.MAX_METRIC_NAMES_PER_RUN:
                raise LimitExceededError(
                    f"run {run_id!r} would have {total} metric names, more than "
                    f"MAX_METRIC_NAMES_PER_RUN={limits.MAX_METRIC_NAMES_PER_RUN}"
                )
            # checked: from here on nothing raises
            for name in new_names:
                record.series[name] = Series(name, MetricKind(groups[name].kind))
            for name, text in batch.descriptions.items():
                if name in record.series and text:
                    record.series[name].description = text
            for name, points in groups.items():
                record.series[name].append(points)
            new_position = max(position, batch.first_seq + size)
            record.cursors[batch.stream] = new_position
            if groups:
                latest = max(max(points.times) for points in groups.values())
                record.last_activity = max(record.last_activity, latest)
            return new_position

    def ingest_position(self, run_id: str, stream: str) -> int:
        with self._lock:
            return self._run(run_id).cursors.get(stream, 0)

    def list_series(self, run_id: str) -> list[SeriesInfo]:
        with self._lock:
            return [s.info() for s in self._run(run_id).series.values()]

    def read_series(
        self, run_id: str, name: str, start: int = 0, end: int | None = None
    ) -> SeriesData:
        with self._lock:
            return self._series(run_id, name).read(start, end)

    def read_series_values(
        self, run_id: str, name: str, start: int = 0, end: int | None = None
    ) -> tuple[str, bytes] | None:
        """Optional extension (see :mod:`runtrack.store.base`): values ``start:end`` packed
        little-endian — ``f`` float64, ``i`` int64, ``b`` int8 booleans — when they are all
        of one such type, else None (read them with :meth:`read_series`)."""
        if start < 0 or (end is not None and end < start):
            return None
        with self._lock:
            values = self._series(run_id, name).values[start:end]
        return pack_values(values)

    def read_all_series(
        self, run_ids: Sequence[str], names: Sequence[str] | None = None
    ) -> dict[str, dict[str, SeriesData]]:
        with self._lock:
            return {
                run_id: {name: s.read() for name, s in self._picked(run_id, names)}
                for run_id in run_ids
            }

    def _picked(self, run_id: str, names: Sequence[str] | None) -> list[tuple[str, Series]]:
        """The run's series (those in ``names`` when given) in first-logged order; none
        for an unknown run."""
        record = self._state.runs.get(run_id)
        if record is None:
            return []
        wanted = None if names is None else set(names)
        return [(n, s) for n, s in record.series.items() if wanted is None or n in wanted]

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
        with self._lock:
            return self._series(run_id, name).downsample(buckets, x, x_min, x_max)

    def get_summaries(
        self, run_ids: Sequence[str], names: Sequence[str] | None = None
    ) -> dict[str, dict[str, SeriesInfo]]:
        with self._lock:
            return {
                run_id: {name: s.info() for name, s in self._picked(run_id, names)}
                for run_id in run_ids
            }

    # -- run inputs ---------------------------------------------------------------------------

    def log_run_inputs(self, run_id: str, inputs: Sequence[RunInputInfo]) -> None:
        with self._lock:
            self._run(run_id)
            logged = self._state.inputs.setdefault(run_id, [])
            present = {(i.name, i.digest, i.context) for i in logged}
            for item in inputs:
                ident = (item.name, item.digest, item.context)
                if ident not in present:
                    present.add(ident)
                    logged.append(replace(item, tags=dict(item.tags)))

    def get_run_inputs(self, run_ids: Sequence[str]) -> dict[str, list[RunInputInfo]]:
        with self._lock:
            return {
                run_id: [replace(i, tags=dict(i.tags)) for i in self._state.inputs.get(run_id, [])]
                for run_id in run_ids
            }

    def close(self) -> None:
        """Nothing to release: the data stays for the process's other stores of this name
        (an unnamed store's data goes with its last reference)."""


def _check_count(what: str, run_id: str, count: int, limit: int) -> None:
    if count > limit:
        name = f"MAX_{what.upper()}_PER_RUN"
        raise LimitExceededError(
            f"run {run_id!r} would have {count} {what}, more than {name}={limit}"
        )
