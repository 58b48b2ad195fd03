"""Where a run handle's record comes from: the construction path behind ``Run.get``,
``Run.get_context()`` and ``Run._create`` (``start_logging``, ``submit``, child runs,
sweeps).

This module reads or creates the run's record and finds its experiment; ``Run``'s class
methods make the handle from them (this module does not import ``runtrack.sdk.run``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from runtrack.config import SubmittedContext, submitted_context
from runtrack.errors import ConfigError
from runtrack.model import NewRun, RunInfo, RunStatus
from runtrack.sdk._names import new_display_name, new_run_id
from runtrack.sdk._offline import OfflineRun
from runtrack.sdk._run_fields import (
    check_description,
    check_display_name,
    check_run_id,
    tag_strings,
)

if TYPE_CHECKING:
    from runtrack.sdk._run_end import RunEnding
    from runtrack.sdk._run_metrics import RunMetrics
    from runtrack.sdk.experiment import Experiment
    from runtrack.sdk.workspace import Workspace


def experiment_of(workspace: Workspace, info: RunInfo) -> Experiment:
    """The run's experiment, read (never created: the store may be read-only)."""
    from runtrack.sdk.experiment import Experiment

    exp_info = workspace.store.get_experiment(info.experiment_id)
    return Experiment(workspace, exp_info.name, _info=exp_info)


@dataclass(frozen=True)
class SubmittedRun:
    """The run a submitted script's process belongs to, as ``Run.get_context()`` finds it."""

    experiment: Experiment
    info: RunInfo
    #: metric name -> kind, preloaded by the supervisor; None: read on first use
    kinds: Mapping[str, str] | None
    context: SubmittedContext

    def join(self, metrics: RunMetrics, ending: RunEnding) -> None:
        """Set up the handle's helpers for this process, and its Python logging: the
        supervisor sets the final status, and ships the metrics when it named a stream
        (a multi-process run); ranks above 0 log their metrics as ``rank<N>/<name>``."""
        ctx = self.context
        ending.submitted = True
        metrics.ship_in_process = ctx.stream is None
        metrics.stream_prefix = ctx.stream
        metrics.metric_prefix = f"rank{ctx.rank}/" if ctx.rank else ""
        from runtrack.sdk._process_log import attach_process_log

        attach_process_log(ctx.rank or 0)


def open_context(allow_offline: bool) -> SubmittedRun | OfflineRun:
    """The submitted run this process belongs to; outside one, an offline run (or
    ConfigError with ``allow_offline=False``)."""
    ctx = submitted_context()
    if ctx is None:
        if not allow_offline:
            raise ConfigError(
                "Run.get_context(allow_offline=False) was called outside a submitted run; "
                "submit the script with experiment.submit(ScriptRunConfig(...))"
            )
        return OfflineRun()
    from runtrack.runner.runenv import read_preload
    from runtrack.sdk.workspace import Workspace

    preload = read_preload(ctx.run_id)
    if preload is not None:  # from the supervisor: no store to open before logging
        from runtrack.sdk.experiment import Experiment

        ws = Workspace(_lazy_store=True)
        experiment = Experiment(ws, preload.experiment.name, _info=preload.experiment)
        return SubmittedRun(experiment, preload.run, preload.kinds, ctx)
    ws = Workspace()
    info = ws.store.get_run(ctx.run_id)
    return SubmittedRun(experiment_of(ws, info), info, None, ctx)


class RunFields(TypedDict, total=False):
    """What ``Run._create`` passes on to :func:`create_info` (see its defaults)."""

    run_id: str | None
    run_type: str
    status: RunStatus
    display_name: str | None
    description: str | None
    tags: Mapping[str, Any] | None
    parent_id: str | None
    properties: Mapping[str, Any] | None
    definition: dict[str, object] | None
    compute_target: str


def create_info(
    experiment: Experiment,
    *,
    run_id: str | None = None,
    run_type: str = "interactive",
    status: RunStatus = RunStatus.RUNNING,
    display_name: str | None = None,
    description: str | None = None,
    tags: Mapping[str, Any] | None = None,
    parent_id: str | None = None,
    properties: Mapping[str, Any] | None = None,
    definition: dict[str, object] | None = None,
    compute_target: str = "local",
) -> RunInfo:
    """Check the fields of a new run of ``experiment`` and create it in the store (a
    new id and display name unless given); return its record."""
    if run_id is not None:
        check_run_id(run_id)
    return experiment.workspace.store.create_run(NewRun(
        experiment.id,
        run_id or new_run_id(experiment.name),
        display_name=check_display_name(display_name) or new_display_name(),
        run_type=run_type,
        status=status,
        parent_id=parent_id,
        tags=tag_strings(tags or {}),
        properties={k: v for k, v in tag_strings(properties or {}).items() if v is not None},
        description=None if description is None else check_description(description),
        compute_target=compute_target,
        definition=definition or {},
    ))
