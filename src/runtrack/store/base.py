"""The storage seam: :class:`TrackingStore` and :class:`ArtifactStore`.

Everything that reads or writes tracking data goes through these two protocols.
``SqlStore`` (SQLite, PostgreSQL) talks to a database; ``RestStore`` implements the
same protocol over HTTP against ``runtrack server``. The contract suite in
``tests/store/contract.py`` runs against every implementation.

Contract, shared by all implementations:

* Each public call is one unit of work: it fully happens or not at all.
* Missing experiments, runs, series and artifacts raise
  :class:`runtrack.errors.NotFoundError`; nothing returns None for "missing" unless
  the method says so.
* Returned values are fresh (never views of internal state).
* Times are unix seconds (float).

Optional extensions, each a small runtime-checkable protocol below, found with
``isinstance(store, SeriesValuesReader)`` and so on (a store without them stays complete):

* :class:`SeriesValuesReader`,
  ``read_series_values(run_id, name, start=0, end=None) -> (encoding, bytes) | None``:
  the values of a series range packed little-endian — ``"f"`` float64, ``"i"`` int64,
  ``"b"`` int8 booleans — or None when the range is not one such encoding. Lets the
  SDK build a list or a numpy array of a long series without a Python object per
  point (``SqlStore`` has it).
* :class:`RunRestater`,
  ``restate_run(run_id, *, status=None, start_time=None, end_time=None) -> RunInfo``:
  set status and times as a client reports them, terminal states included (MLflow's
  face: client clocks, resumed runs). Without it the MLflow routes keep the
  lifecycle rules of ``set_status`` (``SqlStore`` has it).
* :class:`LogSearchStore`, log search (``SqlStore`` and ``RestStore`` have it; see
  docs/logs.md):
  ``index_log_lines(run_id, path, first_line, lines) -> int`` adds cleaned lines of a
  run's log file numbered from ``first_line`` (1-based), idempotently, and returns the
  next line number expected; ``log_index_position(run_id, path) -> int`` is that
  number; ``search_logs(LogQuery) -> list[LogHit]`` finds lines across runs.
* :class:`ServesArtifacts`, ``artifacts``: the :class:`ArtifactStore` that belongs with
  the tracking store (``RestStore``: the server owns the files).
* :class:`RunTextSearch`, ``search_runs_text(RunQuery, words) -> (runs, total)``: the
  runs page's search box inside the store (``SqlStore`` has it; without it the page
  matches the runs in Python).
* The bulk reads of listings and charts (:class:`MetricTableReader`,
  :class:`SeriesIndexReader`, :class:`TopPointReader`, :class:`BulkDownsampler`) are
  in :mod:`runtrack.store.readers`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, runtime_checkable

from runtrack.model import (
    ArtifactInfo,
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

if TYPE_CHECKING:
    from runtrack.catalog import (  # annotations only: not loaded by ``import runtrack``
        ComputeTargetInfo,
        DatasetInfo,
        ModelVersionInfo,
        RegisteredModelInfo,
        RunInputInfo,
    )
    from runtrack.logsearch import LogHit, LogQuery


@runtime_checkable
class TrackingStore(Protocol):
    """Experiments, runs and metric series; the model registry; datasets and run inputs."""

    # -- experiments -------------------------------------------------------------

    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        """The experiment called ``name``, created (atomically) if it does not exist.

        The name is validated by the caller (``runtrack.sdk``); the store only
        guarantees uniqueness.
        """
        ...

    def get_experiment(self, experiment_id: str) -> ExperimentInfo:
        """By id; NotFoundError if there is none."""
        ...

    def get_experiment_by_name(self, name: str) -> ExperimentInfo | None:
        """By name, or None."""
        ...

    def list_experiments(self, include_archived: bool = False) -> list[ExperimentInfo]:
        """All experiments, with ``run_count`` (top-level runs) and ``last_activity``
        filled, by name."""
        ...

    def set_experiment_tags(self, experiment_id: str, tags: dict[str, str | None]) -> None:
        """Add or overwrite the given tags."""
        ...

    def remove_experiment_tags(self, experiment_id: str, keys: Sequence[str]) -> None:
        """Remove the given tag keys; unknown keys are ignored."""
        ...

    def update_experiment(
        self, experiment_id: str, *, name: str | None = None, archived: bool | None = None
    ) -> ExperimentInfo:
        """Rename and/or archive/restore. ConflictError if the new name is taken."""
        ...

    # -- runs ----------------------------------------------------------------------

    def create_run(self, new: NewRun) -> RunInfo:
        """Create the run ``new`` describes; its ``number`` is the next one in its experiment.

        ``start_time`` is set when ``status`` is Running. ConflictError if the id
        is taken; NotFoundError if the experiment or parent does not exist.
        """
        ...

    def get_run(self, run_id: str) -> RunInfo:
        """By id; NotFoundError if there is none."""
        ...

    def search_runs(self, query: RunQuery) -> list[RunInfo]:
        """Runs matching ``query``, ordered and paged as it says."""
        ...

    def count_runs(self, query: RunQuery) -> int:
        """How many runs ``search_runs`` would return without limit/offset."""
        ...

    def update_run(
        self, run_id: str, *, display_name: str | None = None, description: str | None = None
    ) -> RunInfo:
        """Change the mutable descriptive fields given (None = leave as is)."""
        ...

    def set_status(
        self, run_id: str, status: RunStatus, *, error: ErrorInfo | None = None
    ) -> RunInfo:
        """Move the run to ``status``.

        Running sets ``start_time`` (once); a terminal status sets ``end_time``.
        Setting the status a run already has is a no-op. A run in a terminal state
        cannot move again: RunStateError.
        """
        ...

    def set_tags(self, run_id: str, tags: dict[str, str | None]) -> None:
        """Add or overwrite the given tags."""
        ...

    def remove_tags(self, run_id: str, keys: Sequence[str]) -> None:
        """Remove the given tag keys; unknown keys are ignored."""
        ...

    def add_properties(self, run_id: str, properties: dict[str, str]) -> None:
        """Add properties. Re-adding a key with the same value is a no-op; with a
        different value PropertyConflictError, and nothing of the call is applied."""
        ...

    def delete_run(self, run_id: str) -> None:
        """Remove the run, its children, series and points."""
        ...

    # -- metrics ---------------------------------------------------------------------

    def ingest(self, run_id: str, batch: MetricBatch) -> int:
        """Apply ``batch`` idempotently and return the stream's next expected sequence.

        Records with a sequence number below the stream's position are skipped
        (already applied). A batch that starts beyond the position (a gap) raises
        InvalidValueError and applies nothing. Series are created on first use,
        summaries are updated in the same unit of work.
        """
        ...

    def ingest_position(self, run_id: str, stream: str) -> int:
        """Next sequence number the store expects from ``stream`` (0 if unseen)."""
        ...

    def list_series(self, run_id: str) -> list[SeriesInfo]:
        """Every series of the run with its summary, in first-logged order."""
        ...

    def read_series(
        self, run_id: str, name: str, start: int = 0, end: int | None = None
    ) -> SeriesData:
        """Points ``start`` (inclusive) to ``end`` (exclusive) of one series."""
        ...

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
        """At most ``buckets`` buckets over the numeric points of a scalar series,
        each keeping first, last, min and max, so spikes survive. ``x`` is
        ``index``, ``step`` or ``time``; ``x_min``/``x_max`` zoom into a range."""
        ...

    def get_summaries(
        self, run_ids: Sequence[str], names: Sequence[str] | None = None
    ) -> dict[str, dict[str, SeriesInfo]]:
        """Summaries of the given runs (all names when ``names`` is None), without
        reading points. Runs with no series map to an empty dict."""
        ...

    def read_all_series(
        self, run_ids: Sequence[str], names: Sequence[str] | None = None
    ) -> dict[str, dict[str, SeriesData]]:
        """Every point of every series of the given runs (only ``names`` when given),
        by run id then name in first-logged order, in one read: the bulk twin of
        ``read_series`` for listings that need many runs' values. Runs with no series
        (or unknown ids) map to an empty dict."""
        ...

    # -- model registry ---------------------------------------------------------------------

    def create_registered_model(
        self, name: str, *, description: str | None = None,
        tags: dict[str, str | None] | None = None,
    ) -> RegisteredModelInfo:
        """Create a model with no versions. ConflictError if ``name`` is taken."""
        ...

    def get_registered_model(self, name: str) -> RegisteredModelInfo:
        """By name; NotFoundError (naming the models that exist) if there is none."""
        ...

    def list_registered_models(self) -> list[RegisteredModelInfo]:
        """Every registered model, by name."""
        ...

    def update_registered_model(
        self, name: str, *, new_name: str | None = None, description: str | None = None
    ) -> RegisteredModelInfo:
        """Rename and/or describe. ConflictError if ``new_name`` is taken."""
        ...

    def delete_registered_model(self, name: str) -> list[ModelVersionInfo]:
        """Delete the model and all its versions; returns the deleted versions (whose
        files the caller removes)."""
        ...

    def create_model_version(
        self, name: str, *, source: str, files: str | None = None, run_id: str | None = None,
        description: str | None = None, tags: dict[str, str | None] | None = None,
        properties: dict[str, str] | None = None,
    ) -> ModelVersionInfo:
        """The next version of ``name`` (1 for a new name; the model is created when
        missing). Concurrent calls for one name get distinct versions; a deleted
        version's number is never handed out again."""
        ...

    def get_model_version(self, name: str, version: int) -> ModelVersionInfo:
        """NotFoundError naming the versions (or models) that exist if absent."""
        ...

    def list_model_versions(self, name: str | None = None) -> list[ModelVersionInfo]:
        """Versions of ``name`` (NotFoundError if unknown) or of every model, ordered by
        model name and version."""
        ...

    def update_model_version(
        self, name: str, version: int, *, description: str | None = None,
        stage: str | None = None,
    ) -> ModelVersionInfo:
        """Change the description and/or stage (None = leave as is)."""
        ...

    def delete_model_version(self, name: str, version: int) -> ModelVersionInfo:
        """Delete one version (and the aliases pointing at it); returns it."""
        ...

    def set_model_tags(
        self, name: str, tags: dict[str, str | None], *, version: int | None = None
    ) -> None:
        """Add or overwrite tags of the model, or of one version when ``version`` is given."""
        ...

    def remove_model_tags(
        self, name: str, keys: Sequence[str], *, version: int | None = None
    ) -> None:
        """Remove tag keys of the model or of one version; unknown keys are ignored."""
        ...

    def add_model_version_properties(
        self, name: str, version: int, properties: dict[str, str]
    ) -> None:
        """Add-only, as run properties: PropertyConflictError on a changed value."""
        ...

    def set_model_alias(self, name: str, alias: str, version: int) -> None:
        """Point ``alias`` at ``version`` (moving it if it pointed elsewhere)."""
        ...

    def delete_model_alias(self, name: str, alias: str) -> None:
        """Remove an alias; NotFoundError if the model has no such alias."""
        ...

    # -- datasets and run inputs -------------------------------------------------------------

    def register_dataset(
        self, name: str, *, kind: str, definition: dict[str, Any], digest: str,
        description: str | None = None, tags: dict[str, str] | None = None,
        create_new_version: bool = True,
    ) -> DatasetInfo:
        """The next version of dataset ``name`` (1 for a new name). With
        ``create_new_version=False`` an existing name returns its latest version when the
        digest and kind match, else ConflictError."""
        ...

    def get_dataset(self, name: str, version: int | None = None) -> DatasetInfo:
        """A version (the latest when None); NotFoundError naming what exists."""
        ...

    def list_datasets(self, name: str | None = None) -> list[DatasetInfo]:
        """Versions of ``name`` (NotFoundError if unknown) or of every dataset, by name
        and version."""
        ...

    def log_run_inputs(self, run_id: str, inputs: Sequence[RunInputInfo]) -> None:
        """Record datasets the run read; an input equal in (name, digest, context) to
        one already recorded is skipped. NotFoundError if the run does not exist."""
        ...

    def get_run_inputs(self, run_ids: Sequence[str]) -> dict[str, list[RunInputInfo]]:
        """The inputs of each run, in logged order (runs without inputs map to [])."""
        ...

    # -- named compute targets ------------------------------------------------------------

    def add_compute_target(
        self, name: str, kind: str, address: str | None = None
    ) -> ComputeTargetInfo:
        """Name a compute target of this workspace (kind ``local`` or ``ray`` + its
        job-submission address). ConflictError if the name exists; InvalidValueError
        for ``local`` (always there), an unknown kind or a bad address."""
        ...

    def list_compute_targets(self) -> list[ComputeTargetInfo]:
        """The named compute targets, by name (``local`` is implied, not listed)."""
        ...

    def remove_compute_target(self, name: str) -> None:
        """Forget a named compute target; NotFoundError if there is none of that name."""
        ...

    def close(self) -> None:
        """Release connections. The store must not be used afterwards."""
        ...


@runtime_checkable
class ArtifactStore(Protocol):
    """Files of runs, addressed by (run id, relative POSIX path).

    Paths are normalised and confined to the run: absolute paths, ``..`` segments
    and empty paths raise InvalidValueError.
    """

    def put(
        self, run_id: str, path: str, source: bytes | BinaryIO, *, overwrite: bool = False
    ) -> ArtifactInfo:
        """Store a file, streaming from ``source``. ArtifactExistsError if the path
        exists and ``overwrite`` is false."""
        ...

    def append(self, run_id: str, path: str, data: bytes) -> int:
        """Append to a (log) file, creating it; return its new size."""
        ...

    def open(self, run_id: str, path: str) -> BinaryIO:
        """Open for binary reading; NotFoundError if absent."""
        ...

    def read_range(self, run_id: str, path: str, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes from ``offset`` (for tailing logs)."""
        ...

    def list(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        """Files under ``prefix`` (a folder path), sorted by path."""
        ...

    def exists(self, run_id: str, path: str) -> bool:
        ...

    def delete_run(self, run_id: str) -> None:
        """Remove every file of the run."""
        ...


def iter_chunks(source: BinaryIO, size: int = 1 << 20) -> Iterator[bytes]:
    """Read ``source`` in chunks of ``size`` bytes (bounded memory copies)."""
    while True:
        block = source.read(size)
        if not block:
            return
        yield block



def is_safe_path(path: str) -> bool:
    """Whether ``path`` is a clean run-relative POSIX path that UTF-8 can encode: no
    empty, ``.`` or ``..`` segment, no backslash, drive, NUL or leading ``/``. Every path
    ``ArtifactStore.list`` returns is one, so it is safe as a zip member name or as a
    file to write under a download folder."""
    if not path or "\\" in path or "\x00" in path or path[1:2] == ":":
        return False
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


# -- optional extensions of TrackingStore (see the module doc) -------------------------------


@runtime_checkable
class SeriesValuesReader(Protocol):
    """A store that hands out a numeric series' values packed, without Python objects."""

    def read_series_values(
        self, run_id: str, name: str, start: int = 0, end: int | None = None
    ) -> tuple[str, bytes] | None:
        """``(encoding, little-endian bytes)`` — ``"f"`` float64, ``"i"`` int64, ``"b"``
        int8 booleans — or None when the range is not one such encoding."""
        ...


@runtime_checkable
class RunRestater(Protocol):
    """A store that takes a run's status and times as a client reports them."""

    def restate_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        start_time: float | None = None,
        end_time: float | None = None,
    ) -> RunInfo:
        """Set what is given, terminal states included (no lifecycle rules)."""
        ...


@runtime_checkable
class LogSearchStore(Protocol):
    """A store with a log search index (see docs/logs.md)."""

    def index_log_lines(self, run_id: str, path: str, first_line: int, lines: Sequence[str]) -> int:
        """Index cleaned lines numbered from ``first_line``; the next line expected."""
        ...

    def log_index_position(self, run_id: str, path: str) -> int:
        """The next line number :meth:`index_log_lines` expects for ``path``."""
        ...

    def search_logs(self, query: LogQuery) -> list[LogHit]:
        """Lines across runs that match ``query``, newest first."""
        ...


@runtime_checkable
class RunTextSearch(Protocol):
    """A store that searches runs' texts (the runs page's search box, issue #15)."""

    def search_runs_text(
        self, query: RunQuery, words: Sequence[str]
    ) -> tuple[list[RunInfo], int]:
        """The runs ``query`` selects in which every word (any case) appears in the
        display name, id, number, run type, or a tag's or property's ``key=value`` (the
        key alone for a tag without value); in the query's order, offset and limit; and
        how many match before paging."""
        ...


@runtime_checkable
class ServesArtifacts(Protocol):
    """A tracking store that comes with its own artifact store."""

    @property
    def artifacts(self) -> ArtifactStore:
        """The artifact store that goes with this tracking store."""
        ...
