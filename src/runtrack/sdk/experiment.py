"""``Experiment``: a named group of runs in a workspace (get-or-create)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from runtrack import limits
from runtrack.errors import InvalidTypeError, InvalidValueError, LimitExceededError
from runtrack.model import ExperimentInfo, RunQuery, RunStatus

if TYPE_CHECKING:
    from runtrack.sdk.run import Run
    from runtrack.sdk.script_run_config import ScriptRunConfig
    from runtrack.sdk.workspace import Workspace

NAME_PATTERN = re.compile(r"^[a-zA-Z0-9][\w\-]{0,254}$")


def check_experiment_name(name: object) -> str:
    if not isinstance(name, str):
        raise InvalidTypeError(f"experiment name must be a str, got {type(name).__name__}")
    if len(name) > limits.MAX_EXPERIMENT_NAME_LENGTH:
        raise LimitExceededError(
            f"experiment name of {len(name)} characters is not valid: over the limit of "
            f"{limits.MAX_EXPERIMENT_NAME_LENGTH} (runtrack.limits.MAX_EXPERIMENT_NAME_LENGTH)"
        )
    if not NAME_PATTERN.match(name) or len(name) > limits.MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidValueError(
            f"experiment name {name!r} is not valid: use 1-255 letters, digits, '_' or '-', "
            "starting with a letter or digit (e.g. 'train-on-local')"
        )
    return name


class Experiment:
    """``Experiment(workspace, name)`` gets the experiment, creating it if needed."""

    def __init__(self, workspace: Workspace, name: str, _info: ExperimentInfo | None = None):
        self.workspace = workspace
        self._info = _info or workspace.store.get_or_create_experiment(check_experiment_name(name))

    @property
    def name(self) -> str:
        return self._info.name

    @property
    def id(self) -> str:
        return self._info.id

    @property
    def tags(self) -> dict[str, str | None]:
        return dict(self._info.tags)

    @property
    def archived(self) -> bool:
        return self._info.archived

    def __str__(self) -> str:
        return f"Experiment(Name: {self.name},\nWorkspace: {self.workspace.name})"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        from runtrack.sdk._html import experiment_html

        return experiment_html(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Experiment) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def _refresh(self) -> None:
        self._info = self.workspace.store.get_experiment(self.id)

    @classmethod
    def list(cls, workspace: Workspace, experiment_name: str | None = None) -> list[Experiment]:
        return [
            cls(workspace, info.name, _info=info)
            for info in workspace.store.list_experiments()
            if experiment_name is None or info.name == experiment_name
        ]

    # -- runs --------------------------------------------------------------------------

    def start_logging(
        self,
        outputs: Any = None,
        snapshot_directory: str | None = ".",
        run_id: str | None = None,
        display_name: str | None = None,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
        **_ignored: Any,
    ) -> Run:
        """Create and start an interactive run.

        ``outputs`` (default ``./outputs``, created now) is uploaded when the run ends.
        ``snapshot_directory`` (default ``"."``, as in Azure ML) is zipped into the run
        as its snapshot (property ``ContentSnapshotId``), honouring ``.amlignore`` /
        ``.gitignore`` and the snapshot limits; ``None`` skips it. Use the run as a
        context manager to complete it (or fail it on an exception) automatically.
        """
        from runtrack.sdk._run_fields import outputs_dir
        from runtrack.sdk.run import Run

        files = None
        if snapshot_directory is not None:
            from runtrack.sdk._snapshot import snapshot_files_for

            files = snapshot_files_for(snapshot_directory)  # before the run exists
        run = Run._create(
            self,
            run_id=run_id,
            run_type="interactive",
            display_name=display_name,
            description=description,
            tags=tags,
            outputs=outputs_dir(outputs),
        )
        if files is not None:
            from runtrack.sdk._submit import store_snapshot

            try:
                store_snapshot(run, files)
            except BaseException as exc:
                run.fail(exc)
                raise
        return run

    def submit(
        self,
        config: ScriptRunConfig,
        tags: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        show_output: bool = False,
        _parent_run_id: str | None = None,
        **_ignored: Any,
    ) -> Run:
        """Submit ``config`` (a ScriptRunConfig): the run is returned at once, Queued.

        Its supervisor prepares and runs it (see docs/submitting.md). With
        ``show_output=True`` this waits and streams rank 0's log until the run ends.
        ``_parent_run_id`` (Azure's name) makes it a child of that run.
        """
        from runtrack.sdk._submit import submit

        sweep = getattr(config, "_submit_to", None)  # a HyperDriveConfig
        if callable(sweep):
            run: Run = sweep(self, tags)
        else:
            run = submit(self, config, tags=tags, run_id=run_id, parent_id=_parent_run_id)
        if show_output:
            run.wait_for_completion(show_output=True, raise_on_error=False)
        return run

    def get_portal_url(self) -> str:
        """The experiment's web-UI page (server or configured ``ui_url``), else the
        workspace's local folder."""
        return self.workspace.portal_url("experiments", self.id)

    def get_runs(
        self,
        type: str | None = None,
        tags: Any = None,
        properties: Any = None,
        status: str | Sequence[str] | None = None,
        include_children: bool = False,
    ) -> Iterator[Run]:
        """Runs newest first: top-level ones, and descendants with ``include_children``.

        ``tags``/``properties``: a key (has it), a list of keys, or a {key: value} dict.
        The runs' series (names, kinds, counts) are read in one store call per 200
        runs, and ``get_metrics()`` on the runs of one listing reads their points in
        bulk (many runs per store call), never returning points older than the store's.
        """
        from runtrack.sdk._listing import RUNS_PER_READ, RunBatch, series_index
        from runtrack.sdk.run import Run

        store = self.workspace.store
        found = store.search_runs(self._run_query(type, tags, properties, status,
                                                  include_children))
        for start in range(0, len(found), RUNS_PER_READ):  # a page's series at a time
            page = found[start : start + RUNS_PER_READ]
            index = series_index(store, [info.id for info in page])
            batch = RunBatch(store, index)
            for info in page:
                kinds = {name: kind for name, (kind, _) in index[info.id].items()}
                yield Run(self, info.id, _info=info, _kinds=kinds, _listing=batch)

    def search_runs(
        self,
        metrics: Sequence[str] | None = None,
        *,
        type: str | None = None,
        tags: Any = None,
        properties: Any = None,
        status: str | Sequence[str] | None = None,
        include_children: bool = False,
        frame: bool | None = None,
    ) -> Any:
        """The runs of ``get_runs`` (same filters, same order) as a table, one row per
        run: a pandas DataFrame when pandas is installed (``frame=False``: a list of
        dicts). Columns: the run's fields, then ``metrics.<name>`` (last value),
        ``metrics_min.<name>`` and ``metrics_max.<name>`` for every scalar metric (only
        ``metrics`` when given; system metrics only when named), then
        ``properties.<key>`` and ``tags.<key>``. One store read for any number of runs;
        see docs/listing.md.
        """
        from runtrack.sdk._runs_table import runs_table

        query = self._run_query(type, tags, properties, status, include_children)
        return runs_table(self.workspace.store, query, metrics, frame)

    def _run_query(
        self, type: str | None, tags: Any, properties: Any,
        status: str | Sequence[str] | None, include_children: bool,
    ) -> RunQuery:
        from runtrack.sdk._run_fields import tag_filter

        statuses = [status] if isinstance(status, str) else status
        return RunQuery(
            experiment_ids=[self.id],
            run_type=type,
            tags=tag_filter(tags),
            properties=tag_filter(properties),
            status=[RunStatus(s) for s in statuses] if statuses else None,
            include_children=include_children,
        )

    # -- tags --------------------------------------------------------------------------

    def tag(self, key: str, value: Any = None) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        from runtrack.sdk._run_fields import tag_strings

        self.workspace.store.set_experiment_tags(self.id, tag_strings(tags))
        self._refresh()

    def remove_tags(self, tags: str | Sequence[str]) -> None:
        keys = [tags] if isinstance(tags, str) else list(tags)
        self.workspace.store.remove_experiment_tags(self.id, keys)
        self._refresh()

    def archive(self) -> None:
        self._info = self.workspace.store.update_experiment(self.id, archived=True)

    def reactivate(self, new_name: str | None = None) -> None:
        self._info = self.workspace.store.update_experiment(
            self.id, archived=False, name=check_experiment_name(new_name) if new_name else None
        )
