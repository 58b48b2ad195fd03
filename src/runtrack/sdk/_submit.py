"""``Experiment.submit(ScriptRunConfig)``: snapshot, create the run, hand it to a target.

Order: the source folder is checked against the snapshot limits first (no run is
created for a folder that cannot be snapshotted), then the run is created Queued,
the snapshot is stored in it (``snapshot.zip``, property ``ContentSnapshotId``), and
the compute target starts the supervisor. Anything failing after the run exists
marks it Failed with code ``SubmitFailed`` and re-raises.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtrack.errors import InvalidTypeError, InvalidValueError
from runtrack.model import ErrorInfo, RunStatus
from runtrack.runner import snapshot as snap
from runtrack.runner.spec import PROCESS_INFO, PROCESS_STATUS, WORLD_SIZE_PROPERTY, RunSpec
from runtrack.runner.target import ComputeTarget
from runtrack.runner.targets import target_for
from runtrack.sdk.script_run_config import ScriptRunConfig

if TYPE_CHECKING:
    from runtrack.sdk.experiment import Experiment
    from runtrack.sdk.run import Run

RUNS_FOLDER = "runtrack_runs"


def _argv(config: ScriptRunConfig, source: Path) -> list[str]:
    argv = config.argv()
    if isinstance(argv, str):
        return ["/bin/sh", "-c", argv]
    if config.script is not None and not (source / config.script).is_file():
        raise InvalidValueError(
            f"script {config.script!r} is not a file in source_directory {str(source)!r}"
        )
    return argv


def store_snapshot(run: Run, files: list[snap.SnapshotFile]) -> None:
    """Zip ``files`` into ``run`` as snapshot.zip and record ContentSnapshotId."""
    with tempfile.TemporaryFile() as buf:
        snap.write_zip(files, buf)
        buf.seek(0)
        run.experiment.workspace.artifacts.put(run.id, snap.SNAPSHOT_ARTIFACT, buf)
    run.add_properties({"ContentSnapshotId": run.id})


def submit(
    experiment: Experiment,
    config: ScriptRunConfig,
    tags: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    *,
    parent_id: str | None = None,
    properties: Mapping[str, Any] | None = None,
    display_name: str | None = None,
    target: ComputeTarget | None = None,
    snapshot_id: str | None = None,
) -> Run:
    """Start ``config`` as a new script run of ``experiment``; return it at once.
    ``parent_id``/``properties``/``display_name`` are for sweeps' trials, and so are
    ``target`` (runs it instead of the one ``config`` names) and ``snapshot_id`` (the
    run whose snapshot holds the source already: none is taken)."""
    from runtrack.sdk.run import Run

    if not isinstance(config, ScriptRunConfig):
        raise InvalidTypeError(
            f"experiment.submit() takes a ScriptRunConfig, got {type(config).__name__}"
        )
    rc = config.run_config
    if target is None:
        named = rc.target not in (None, "", "local")  # 'local' needs no look-up
        target = target_for(rc.target, experiment.workspace.compute_target_infos() if named else {})
    source = Path(config.source_directory).resolve()
    files = snap.snapshot_files(source) if snapshot_id is None else []
    argv = _argv(config, source)
    env = rc.environment
    skipped = env.python.skipped_requirements()
    if skipped:
        warnings.warn(
            f"environment {env.name!r}: not installing {', '.join(skipped)} (conda-only, or "
            "azureml packages that runtrack serves itself)",
            UserWarning,
            stacklevel=3,
        )
    world = rc.node_count * rc.process_count_per_node
    if rc.node_count < 1 or world < 1:
        raise InvalidValueError("node_count and process counts must be at least 1")
    static = {
        **(properties or {}),
        "ProcessInfoFile": PROCESS_INFO,
        "ProcessStatusFile": PROCESS_STATUS,
        WORLD_SIZE_PROPERTY: str(world),
        "azureml.runsource": "experiment",
    }
    if snapshot_id is not None:
        static["ContentSnapshotId"] = snapshot_id
    run = Run._create(
        experiment,
        run_id=run_id,
        run_type="script",
        status=RunStatus.QUEUED,
        tags=tags,
        definition=config.definition(),
        compute_target=rc.target or target.name,
        parent_id=parent_id,
        properties=static,
        display_name=display_name,
    )
    ws = experiment.workspace
    try:
        if snapshot_id is None:
            store_snapshot(run, files)
        if config.dataset_inputs:
            ws.store.log_run_inputs(run.id, [d.to_run_input() for d in config.dataset_inputs])
        workdir = Path(tempfile.gettempdir()) / RUNS_FOLDER / run.id
        workdir.mkdir(parents=True, exist_ok=True)
        spec = RunSpec(
            run_id=run.id,
            experiment_name=experiment.name,
            tracking_uri=ws.settings.tracking_uri,
            artifact_root=ws.settings.artifact_root,
            spool_dir=str(ws.settings.spool_dir),
            workdir=str(workdir),
            command=argv,
            python=env.python.interpreter_path or sys.executable,
            requirements=env.python.resolved_requirements(),
            env_cache=str(Path(ws.settings.spool_dir).parent / "envs"),
            environment_variables={
                **{str(k): str(v) for k, v in env.environment_variables.items()},
                **{str(k): str(v) for k, v in rc.environment_variables.items()},
            },
            node_count=rc.node_count,
            process_count_per_node=rc.process_count_per_node,
            max_run_duration_seconds=rc.max_run_duration_seconds,
            source_directory=str(source),
            snapshot_run_id=snapshot_id or "",
        )
        run.add_properties(target.submit(spec))
    except BaseException as exc:
        ws.store.set_status(
            run.id, RunStatus.FAILED, error=ErrorInfo("SubmitFailed", f"submitting failed: {exc}")
        )
        raise
    return run
