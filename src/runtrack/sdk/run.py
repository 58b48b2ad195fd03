"""``Run``: one trial — its metrics, files, tags, properties, children and status."""

from __future__ import annotations

import builtins
import weakref
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property, partial
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO

from runtrack.model import ArtifactInfo, ErrorInfo, RunInfo, RunStatus, SeriesData
from runtrack.sdk._details import is_log, run_details, with_log_contents
from runtrack.sdk._offline import OfflineRun
from runtrack.sdk._run_children import RunChildren
from runtrack.sdk._run_end import RunEnding
from runtrack.sdk._run_fields import (
    check_description,
    check_display_name,
    error_info,
    outputs_dir,
    tag_strings,
)
from runtrack.sdk._run_files import RunFiles
from runtrack.sdk._run_log import install_log
from runtrack.sdk._run_metrics import RunMetrics
from runtrack.sdk._run_open import create_info, experiment_of, open_context
from runtrack.sdk._script_run import ScriptRunControl
from runtrack.types import StrPath

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from runtrack.sdk._listing import RunBatch
    from runtrack.sdk._run_open import RunFields
    from runtrack.sdk.experiment import Experiment
    from runtrack.sdk.script_run_config import ScriptRunConfig
    from runtrack.sdk.workspace import Workspace

_OfflineRun = OfflineRun  # name kept for code ported from azureml.core.run

__all__ = ["OfflineRun", "Run", "_OfflineRun"]


class Run:
    """A run of an experiment.

    ``Run(experiment, run_id)`` loads an existing run; new runs come from
    ``experiment.start_logging()``, ``experiment.submit()`` or ``run.child_run()``.

    Its metrics, files, children, ending and script-run control are helper objects
    (:class:`~runtrack.sdk._run_metrics.RunMetrics`, ``RunFiles``, ``RunChildren``,
    ``RunEnding``, ``ScriptRunControl``) that get the store, the artifact store and the
    run id; the methods here are the Azure ML v1 API and hand each call to one of them.
    Where a handle's record comes from (``get_context``, ``_create``) is in
    :mod:`runtrack.sdk._run_open`.
    """

    def __init__(
        self, experiment: Experiment, run_id: str, *, _info: RunInfo | None = None,
        _kinds: Mapping[str, str] | None = None, _listing: RunBatch | None = None,
    ):
        self.experiment = experiment
        ws = experiment.workspace
        self._store = ws.store
        self._artifacts = ws.artifacts
        self._info = _info if _info is not None else self._store.get_run(run_id)
        self.id = self._info.id
        # metric name -> kind: a listing passes the kinds it read for all its runs, a
        # submitted script the kinds its supervisor preloaded; otherwise read on first use
        self._metrics = RunMetrics(
            self._store, self._artifacts, self.id, ws.settings.spool_dir,
            kinds=dict(_kinds) if _kinds is not None else None,
            listing=_listing,
            on_spool_open=partial(install_log, weakref.ref(self)),
        )

    # -- loading -----------------------------------------------------------------------

    @classmethod
    def get(cls, workspace: Workspace, run_id: str) -> Run:
        """The run ``run_id`` of any experiment in ``workspace``."""
        info = workspace.store.get_run(run_id)
        return cls(experiment_of(workspace, info), run_id, _info=info)

    @classmethod
    def list(
        cls, experiment: Experiment, type: str | None = None, tags: Any = None,
        properties: Any = None, status: str | None = None, include_children: bool = False,
    ) -> Iterator[Run]:
        """Runs of ``experiment``, newest first (see ``Experiment.get_runs``)."""
        return experiment.get_runs(type=type, tags=tags, properties=properties, status=status,
                                   include_children=include_children)

    @classmethod
    def get_context(cls, allow_offline: bool = True, **kwargs: Any) -> Run | OfflineRun:
        """The submitted run this process belongs to; outside one, an offline run
        that prints what it would log (or ConfigError with ``allow_offline=False``)."""
        found = open_context(allow_offline)
        if isinstance(found, OfflineRun):
            return found
        run = cls(found.experiment, found.info.id, _info=found.info, _kinds=found.kinds)
        found.join(run._metrics, run._ending)
        return run

    @classmethod
    def _create(
        cls, experiment: Experiment, *, outputs: Path | None = None, **fields: Unpack[RunFields]
    ) -> Run:
        """A new run of ``experiment`` (``fields``: see
        :func:`~runtrack.sdk._run_open.create_info`); its ``outputs`` folder is uploaded
        when it ends."""
        info = create_info(experiment, **fields)
        run = cls(experiment, info.id, _info=info, _kinds={})  # a new run has no metrics yet
        run._ending.adopt(info, outputs)
        return run

    # -- identity ----------------------------------------------------------------------

    @property
    def info(self) -> RunInfo:
        """The run's record as this handle last read it (``get_status()`` and
        ``get_details()`` read it afresh); a runtrack addition."""
        return self._info

    @property
    def number(self) -> int:
        return self._info.number

    @property
    def type(self) -> str:
        return self._info.run_type

    @property
    def name(self) -> str:
        return self._info.display_name

    @property
    def display_name(self) -> str:
        return self._info.display_name

    @display_name.setter
    def display_name(self, value: str) -> None:
        self._info = self._store.update_run(self.id, display_name=check_display_name(value))

    @property
    def description(self) -> str | None:
        return self._info.description

    @description.setter
    def description(self, value: str) -> None:
        self._info = self._store.update_run(self.id, description=check_description(value))

    @property
    def status(self) -> str:
        return self._info.status.value

    @property
    def tags(self) -> dict[str, str | None]:
        return dict(self._info.tags)

    @property
    def properties(self) -> dict[str, str]:
        return dict(self._info.properties)

    @property
    def parent(self) -> Run | None:
        if self._info.parent_id is None:
            return None
        return Run(self.experiment, self._info.parent_id)

    def __str__(self) -> str:
        return (
            f"Run(Experiment: {self.experiment.name},\nId: {self.id},\n"
            f"Type: {self.type},\nStatus: {self.status})"
        )

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        from runtrack.sdk._html import run_html

        return run_html(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def _refresh(self) -> RunInfo:
        self._info = self._store.get_run(self.id)
        return self._info

    # -- status ------------------------------------------------------------------------

    def get_status(self) -> str:
        """Current status (refetched unless terminal)."""
        if not self._info.status.is_terminal:
            self._refresh()
            self._reap_orphan()
        return self.status

    def get_detailed_status(self) -> dict[str, Any]:
        return {"status": self.get_status(), "details": None}

    def _reap_orphan(self) -> None:
        """Resolve a script run whose supervisor died (called by get_status)."""
        if self._info.run_type == "script" and not self._ending.submitted:
            self._info = self._script.reap_orphan(self._info)

    @property
    def _script(self) -> ScriptRunControl:
        return ScriptRunControl(self._store, self._artifacts, self.id)

    @cached_property
    def _ending(self) -> RunEnding:
        """Made on first use: a Run a listing makes never ends in this process."""
        metrics = self._metrics
        return RunEnding(metrics)

    @property
    def _files(self) -> RunFiles:
        # helpers without state of their own are built per call: a Run a listing makes
        # costs only what it holds
        return RunFiles(self._artifacts, self.id)

    def wait_for_completion(
        self, show_output: bool = False, wait_post_processing: bool = False,
        raise_on_error: bool = True, *, timeout_seconds: float | None = None,
    ) -> dict[str, Any]:
        """Wait until the run reaches a terminal status; return ``get_details()``.

        ``show_output`` streams rank 0's log live with a header and a summary.
        A Failed run raises RunFailedError (``raise_on_error``); Canceled never
        raises. ``timeout_seconds`` (a runtrack addition) raises TimeoutError
        while the run keeps going. runtrack always waits through Finalizing, so
        ``wait_post_processing`` changes nothing.
        """
        if show_output:
            from runtrack.sdk._logview import stream_run

            stream_run(self, timeout=timeout_seconds)
        else:
            self._script.wait(self.get_status, timeout_seconds)
        details = self.get_details()
        if raise_on_error:
            self._script.raise_if_failed(details)
        return details

    def _finish(self, status: RunStatus, error: ErrorInfo | None = None) -> None:
        settled = self._ending.finish(
            self._info, status, error, close_spool=self._close_spool, refresh=self._refresh
        )
        if settled is not None:
            self._info = settled

    def start(self) -> None:
        """Move a NotStarted run to Running."""
        self._info = self._store.set_status(self.id, RunStatus.RUNNING)

    def complete(self, _set_status: bool = True) -> None:
        """Flush metrics, upload the outputs folder, mark the run Completed."""
        self._finish(RunStatus.COMPLETED)

    def fail(self, error_details: Any = None, error_code: str | None = None) -> None:
        """Mark the run Failed. ``error_details``: a message or an exception."""
        self._finish(RunStatus.FAILED, error_info(error_details, error_code))

    def cancel(self) -> None:
        """Mark the run Canceled (a submitted run: its process tree is stopped)."""
        if self._ending.submitted:
            print(f"Run {self.id}: cancel() from inside a submitted run is not supported")
            return
        if self._info.run_type == "script":
            self._info = self._script.cancel()
            return
        self._finish(RunStatus.CANCELED)

    def __enter__(self) -> Run:
        self._ending.enter()
        return self

    def __exit__(
        self, exc_type: builtins.type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        return self._ending.exit(
            self._info, exc, refresh=self._refresh, complete=self.complete, fail=self.fail
        )

    # -- details -----------------------------------------------------------------------

    def get_details(self) -> dict[str, Any]:
        """Azure-shaped details: runId, target, status, times, properties, logFiles…"""
        return run_details(self._store, self._refresh(), self.get_file_names())

    def get_details_with_logs(self) -> dict[str, Any]:
        """``get_details()`` with each log file's content instead of its reference."""
        return with_log_contents(self._artifacts, self.id, self.get_details())

    def get_all_logs(self, destination: str | None = None) -> builtins.list[str]:
        """Download every log file; return the local paths."""
        base = Path(destination or ".")
        return [self.download_file(p, base / p) for p in self.get_file_names() if is_log(p)]

    # -- tags and properties -----------------------------------------------------------

    def tag(self, key: str, value: Any = None) -> None:
        """Set one tag (a valueless tag has value None)."""
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Add or overwrite tags; non-str values are stored as str()."""
        values = tag_strings(tags)
        self._store.set_tags(self.id, values)
        self._info = self._info.changed(tags={**self._info.tags, **values})

    def get_tags(self) -> dict[str, str | None]:
        return dict(self._refresh().tags)

    def remove_tags(self, tags: str | Sequence[str]) -> None:
        keys = [tags] if isinstance(tags, str) else list(tags)
        self._store.remove_tags(self.id, keys)
        kept = {k: v for k, v in self._info.tags.items() if k not in keys}
        self._info = self._info.changed(tags=kept)

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        """Add properties. They are add-only: a different value for a key raises
        PropertyConflictError."""
        if not properties:
            return
        values = {k: v for k, v in tag_strings(properties).items() if v is not None}
        self._store.add_properties(self.id, values)
        self._info = self._info.changed(properties={**self._info.properties, **values})

    def get_properties(self) -> dict[str, str]:
        return dict(self._refresh().properties)

    def get_outputs(self) -> dict[str, str]:
        """Files under ``outputs/`` of this run: artifact path -> reference (a string
        ``download_file`` accepts). Complete for a finished run (outputs are uploaded
        when it ends)."""
        return self._files.output_refs()

    def get_portal_url(self) -> str:
        """The run's web-UI page (server or configured ``ui_url``), else its local folder."""
        return self.experiment.workspace.portal_url("runs", self.id)

    def web_view(self) -> str:
        """Where to look at this run, for the ``Web View:`` line of ``wait_for_completion``:
        its page when a server or a ``runtrack ui`` serves the workspace, else the command
        that opens one (``runtrack open <id>``)."""
        base = self.experiment.workspace.ui_base_url()
        if base is None:
            return f"runtrack open {self.id}  (starts the web UI for this workspace)"
        return f"{base.rstrip('/')}/runs/{self.id}"

    @property
    def input_datasets(self) -> dict[str, Any]:
        """The datasets given to this run (``ds.as_named_input("train")``): input name ->
        local path (``as_mount()``/``as_download()``) or the dataset itself."""
        from runtrack.sdk.datasets import input_datasets

        return input_datasets(self.experiment.workspace, self.id)

    def get_snapshot_id(self) -> str | None:
        return self._refresh().properties.get("ContentSnapshotId")

    def restore_snapshot(self, snapshot_id: str | None = None, path: str | None = None) -> str:
        """Save the run's snapshot as ``<path>/<snapshot id>.zip``; return that path
        (``path`` defaults to a temporary folder)."""
        return self._script.restore_snapshot(snapshot_id or self.get_snapshot_id(), path)

    def register_model(
        self, model_name: str, model_path: str | None = None, tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None, model_framework: str | None = None,
        model_framework_version: str | None = None, description: str | None = None,
        **_ignored: Any,
    ) -> Any:
        """Register this run's file or folder ``model_path`` (e.g. ``outputs/model.pkl``;
        default: ``model_name``) as the next version of ``model_name``; returns the
        :class:`runtrack.sdk.models.Model`."""
        from runtrack.sdk.models import Model

        props = dict(properties or {})
        if model_framework_version:
            props.setdefault("model_framework_version", model_framework_version)
        return Model._register_run_files(
            self.experiment.workspace, self.id, model_name, model_path or model_name,
            tags, props, description, model_framework,
        )

    # -- metrics (RunMetrics) ---------------------------------------------------------

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """Append one scalar (bool, int, float, str, None) to metric ``name``.

        The point is in the run's spool when this returns (it survives a crash of this
        process). Once the run's spool is open, ``run.log`` is the spool writer's
        scalar logger (:meth:`runtrack.spool.writer.SpoolWriter.scalar_logger`): the
        common case — a float or int under a known name, from the thread that started
        logging — is one 40-byte record written into a memory map (in C where
        runtrack's extension is built); anything else comes back to the checked slow
        path. A ``log = run.log`` taken before the spool opened is
        this method: it hands each call to the scalar logger once there is one.
        """
        fast = self.__dict__.get("log")
        if fast is not None:
            fast(name, value, description, step)
        else:
            self._log_slow(name, value, description, step)

    def _log_slow(self, name: str, value: Any, description: str, step: Any) -> None:
        self._metrics.log_slow(name, value, description, step)

    def log_list(self, name: str, value: Any, description: str = "") -> None:
        """Append every element of an iterable (list, tuple, generator, 1-D array).

        A 1-D numpy array of floats goes into the spool as one block of its bytes."""
        self._metrics.log_list(name, value, description)

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Append one row to table metric ``name``; each keyword is a column."""
        self._metrics.log_row(name, description, kwargs)

    def log_table(self, name: str, value: Any, description: str = "") -> None:
        """Append the rows of a dict of equal-length columns to table metric ``name``."""
        self._metrics.log_table(name, value, description)

    def log_image(
        self, name: str, path: Any = None, plot: Any = None, description: str = ""
    ) -> None:
        """Log an image from a file (``path``) or a matplotlib figure (``plot``)."""
        self._metrics.log_image(name, path, plot, description)

    def log_confusion_matrix(self, name: str, value: Any, description: str = "") -> None:
        """Log a confusion matrix document (dict or JSON string)."""
        self._metrics.log_json(name, "confusion_matrix", value, description)

    def log_accuracy_table(self, name: str, value: Any, description: str = "") -> None:
        """Log an accuracy table document (dict or JSON string)."""
        self._metrics.log_json(name, "accuracy_table", value, description)

    def log_residuals(self, name: str, value: Any, description: str = "") -> None:
        """Log a residuals histogram document (dict or JSON string)."""
        self._metrics.log_json(name, "residuals", value, description)

    def log_predictions(self, name: str, value: Any, description: str = "") -> None:
        """Log a predictions document (dict or JSON string)."""
        self._metrics.log_json(name, "predictions", value, description)

    def flush(self, timeout_seconds: float = 300) -> None:
        """Return once everything logged so far is stored and queryable."""
        self._metrics.flush(timeout_seconds)

    def _close_spool(self, timeout: float = 300) -> None:
        self.__dict__.pop("log", None)  # the next log() reopens a spool (slow path)
        self._metrics.close_spool(timeout)

    def get_metrics(
        self, name: str | None = None, recursive: bool = False, run_type: str | None = None,
        populate: bool = False,
    ) -> dict[str, Any]:
        """Metrics as Azure ML returns them: name -> value, list, or dict of columns.

        With ``recursive=True``: run id -> metrics for this run and its descendants
        (optionally only descendants of ``run_type``); runs without metrics omitted.
        """
        if not recursive:
            return self._metrics.metrics_of(self.id, name, populate)
        descendants = (
            child.id for child in self.get_children(recursive=True)
            if run_type is None or child.type == run_type
        )
        return self._metrics.get_metrics([self.id, *descendants], name, populate)

    def get_system_metrics(self, name: str | None = None) -> dict[str, Any]:
        """System metrics (``sys/…``: CPU, memory, disk, network, GPUs), shaped like
        ``get_metrics()``; that one leaves them out. See docs/system-metrics.md."""
        return self._metrics.get_system_metrics(name)

    def get_metric_series(self, name: str) -> SeriesData:
        """Every point of one metric with its step and time (index order)."""
        return self._metrics.get_metric_series(name)

    def get_metric_array(self, name: str) -> Any:
        """A numeric metric as a float64 numpy array (numpy must be installed).

        Long series are built straight from the store's packed chunks when the store
        offers that (``SqlStore`` does); otherwise from ``get_metric_series``.
        """
        return self._metrics.get_metric_array(name)

    # -- files (RunFiles) --------------------------------------------------------------

    def upload_file(
        self, name: str, path_or_stream: StrPath | BinaryIO, datastore_name: str | None = None
    ) -> ArtifactInfo:
        """Store a local file (or a binary stream) as artifact ``name``.

        An artifact path can be used once per run: uploading to a taken name raises
        ArtifactExistsError.
        """
        return self._files.upload_file(name, path_or_stream)

    def upload_files(
        self, names: Sequence[str], paths: Sequence[StrPath], return_artifacts: bool = False,
        timeout_seconds: float | None = None, datastore_name: str | None = None,
    ) -> builtins.list[ArtifactInfo] | None:
        """Upload several files: ``names[i]`` gets the content of ``paths[i]``."""
        infos = self._files.upload_files(names, paths)
        return infos if return_artifacts else None

    def upload_folder(
        self, name: str, path: StrPath, datastore_name: str | None = None
    ) -> builtins.list[ArtifactInfo]:
        """Upload every file under folder ``path`` as ``<name>/<relative path>``."""
        return self._files.upload_folder(name, path)

    def get_file_names(self) -> builtins.list[str]:
        """Paths of every artifact of the run (outputs, logs, images, uploads)."""
        return self._files.file_names()

    def download_file(
        self, name: str, output_file_path: StrPath | None = None, _validate_checksum: bool = False
    ) -> str:
        """Copy artifact ``name`` (a path or a ``runtrack://`` reference) to a local file.

        Default destination: its base name in the current folder; an existing folder as
        ``output_file_path`` receives it under its base name.
        """
        return self._files.download_file(name, output_file_path)

    def download_files(
        self, prefix: str | None = None, output_directory: StrPath | None = None,
        output_paths: Sequence[StrPath] | None = None, batch_size: int = 100,
        append_prefix: bool = True, timeout_seconds: float | None = None,
    ) -> builtins.list[str]:
        """Download every artifact under ``prefix`` (the whole run if None).

        Files land at ``<output_directory>/<artifact path>``; with ``append_prefix=False``
        a folder prefix is left out of that path (a prefix naming one file is not).
        """
        return self._files.download_files(prefix, output_directory, output_paths, append_prefix)

    # -- children (RunChildren) --------------------------------------------------------

    def child_run(
        self, name: str | None = None, run_id: str | None = None, outputs: str | None = None
    ) -> Run:
        """A started child run (use it as a context manager to complete it)."""
        return Run._create(
            self.experiment, run_id=run_id, run_type="child", display_name=name,
            parent_id=self.id, compute_target=self._info.compute_target,
            outputs=outputs_dir(outputs) if outputs else None,
        )

    def create_children(
        self, count: int | None = None, tag_key: str | None = None,
        tag_values: Sequence[str] | None = None,
    ) -> builtins.list[Run]:
        """Start ``count`` children (tagged ``batch_child_number``) or one per tag value."""
        return self._children.create(count, tag_key, tag_values)

    def get_children(
        self, recursive: bool = False, tags: Any = None, properties: Any = None,
        type: str | None = None, status: str | None = None,
    ) -> Iterator[Run]:
        """Child runs (all descendants with ``recursive=True``), oldest first."""
        return self._children.list(recursive, tags, properties, type, status)

    def submit_child(
        self, config: ScriptRunConfig, tags: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Run:
        """Submit ``config`` as a child of this run (``experiment.submit(config,
        _parent_run_id=self.id)``); inside it, ``Run.get_context().parent`` is this run."""
        return self.experiment.submit(config, tags=tags, _parent_run_id=self.id, **kwargs)

    @property
    def _children(self) -> RunChildren[Run]:
        """Built per call: its factories hold the experiment, never this run. Children
        are plain ``Run``s whatever this run's class (a sweep's trials are)."""
        experiment = self.experiment
        start = partial(Run._create, experiment, run_type="child", parent_id=self.id,
                        compute_target=self._info.compute_target)
        return RunChildren(self._store, self.id, start=lambda tags: start(tags=tags),
                           load=lambda info: Run(experiment, info.id, _info=info))

