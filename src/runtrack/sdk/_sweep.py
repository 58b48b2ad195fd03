"""Running a HyperDrive sweep: the parent run, the driver thread, :class:`HyperDriveRun`.

The driver is a (non-daemon) thread of the process that submitted the sweep, so a script
that submits a sweep and returns still sees it through. It polls the store every
:data:`POLL_SECONDS`: it reads each active trial's primary metric, asks the policy which
trials to end (they are canceled with the reason as their error, code
``EarlyTermination``, and in the property ``runtrack.termination_reason``), tells the
sampling each finished trial's result, and starts new trials up to
``max_concurrent_runs``. Canceling the parent (from any process)
makes the driver cancel every active trial.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtrack.errors import NotFoundError, PropertyConflictError, RuntrackError
from runtrack.model import ErrorInfo, RunStatus
from runtrack.runner.inproc import InProcessTarget
from runtrack.runner.spec import CANCEL_ERROR_PROPERTY
from runtrack.runner.target import ComputeTarget, LocalTarget
from runtrack.runner.targets import target_for
from runtrack.sdk.hyperdrive import NoTerminationPolicy
from runtrack.sdk.run import Run

if TYPE_CHECKING:
    from runtrack.sdk.experiment import Experiment
    from runtrack.sdk.hyperdrive import HyperDriveConfig

log = logging.getLogger("runtrack")

POLL_SECONDS = 0.1
PARENT_POLL_SECONDS = 0.5
REASON_PROPERTY = "runtrack.termination_reason"
#: error code of a trial ended by the early termination policy
EARLY_TERMINATION = "EarlyTermination"
PARAMS_PROPERTY = "hyperparameters"
CONFIG_PROPERTY = "primary_metric_config"


class HyperDriveRun(Run):
    """The parent run of a sweep (Azure's ``HyperDriveRun``)."""

    def _primary(self) -> tuple[str, bool]:
        config = json.loads(self.get_properties().get(CONFIG_PROPERTY, "{}"))
        if not config:
            raise NotFoundError(f"run {self.id} is not a HyperDrive sweep")
        return str(config["name"]), config["goal"] == "maximize"

    def _ranked(self) -> list[tuple[float | None, Run]]:
        name, maximize = self._primary()
        children = list(self.get_children())
        summaries = self._store.get_summaries([c.id for c in children], [name])
        ranked: list[tuple[float | None, Run]] = []
        for child in children:
            info = summaries.get(child.id, {}).get(name)
            best = None if info is None else (info.maximum if maximize else info.minimum)
            ranked.append((best, child))
        with_value = [r for r in ranked if r[0] is not None]
        with_value.sort(key=lambda r: r[0] or 0.0, reverse=maximize)
        return with_value + [r for r in ranked if r[0] is None]

    def get_best_run_by_primary_metric(self, include_failed: bool = True,
                                       include_canceled: bool = True,
                                       **_ignored: Any) -> Run | None:
        """The trial with the best primary metric value (None if none reported it)."""
        skip = set()
        if not include_failed:
            skip.add("Failed")
        if not include_canceled:
            skip.add("Canceled")
        for value, child in self._ranked():
            if value is not None and child.get_status() not in skip:
                return child
        return None

    def get_children_sorted_by_primary_metric(self, top: int = 0, reverse: bool = False,
                                              discard_no_metric: bool = False,
                                              **_ignored: Any) -> list[dict[str, Any]]:
        """``[{run_id, hyperparameters, best_primary_metric, status}]``, best first
        (``reverse=True``: worst first); ``top=0`` means all."""
        rows = [
            {"run_id": child.id, "hyperparameters": child.get_properties().get(PARAMS_PROPERTY),
             "best_primary_metric": value, "status": child.get_status()}
            for value, child in self._ranked()
            if not (discard_no_metric and value is None)
        ]
        if reverse:
            rows.reverse()
        return rows[:top] if top else rows

    def get_metrics(self, name: str | None = None, recursive: bool = False,
                    run_type: str | None = None, populate: bool = False) -> dict[str, Any]:
        """Child run id -> that trial's metrics (as Azure's HyperDriveRun answers)."""
        return {c.id: c.get_metrics(name, populate=populate) for c in self.get_children()}

    def cancel(self) -> None:
        """Cancel the sweep: the driver cancels every active trial. With no driver in this
        process the trials are canceled here."""
        info = self._refresh()
        if not info.status.is_terminal:
            self._info = self._store.set_status(self.id, RunStatus.CANCELED)
        for child in self.get_children():
            if not RunStatus(child.get_status()).is_terminal:
                cancel_trial(child, "the sweep was canceled")


def cancel_trial(child: Run, reason: str, code: str = "Canceled") -> None:
    """Cancel a trial; ``reason`` becomes its error message (code ``code``) and its
    property ``runtrack.termination_reason``."""
    message = (f"the trial was stopped by the sweep's early termination policy: {reason}"
               if code == EARLY_TERMINATION else f"the trial was canceled: {reason}")
    error = ErrorInfo(code, message)
    with contextlib.suppress(PropertyConflictError):
        child.add_properties({REASON_PROPERTY: reason,
                              CANCEL_ERROR_PROPERTY: json.dumps(error.to_json())})
    child.cancel()


def start_sweep(experiment: Experiment, config: HyperDriveConfig,
                tags: Mapping[str, Any] | None) -> HyperDriveRun:
    """Create the parent run, snapshot the source into it once for every trial, and
    start the driver; return the parent at once."""
    from runtrack.runner.snapshot import snapshot_files
    from runtrack.sdk._submit import store_snapshot

    files = snapshot_files(Path(config.run_config.source_directory).resolve())
    goal = config.primary_metric_goal.value.lower()
    parent = Run._create(
        experiment, run_type="hyperdrive", status=RunStatus.RUNNING, tags=tags,
        properties={
            CONFIG_PROPERTY: json.dumps({"name": config.primary_metric_name, "goal": goal}),
            "max_total_runs": str(config.max_total_runs),
            "max_concurrent_runs": str(config.max_concurrent_runs),
            "sampling": type(config.hyperparameter_sampling).__name__,
            "policy": type(config.policy).__name__,
        },
        definition={"script": config.run_config.script,
                    "arguments": list(config.run_config.arguments)},
    )
    try:
        store_snapshot(parent, files)
    except BaseException as exc:
        experiment.workspace.store.set_status(
            parent.id, RunStatus.FAILED,
            error=ErrorInfo("SubmitFailed", f"storing the snapshot failed: {exc}"))
        raise
    sweep = HyperDriveRun(experiment, parent.id, _info=parent.info)
    config.hyperparameter_sampling.start(config.primary_metric_goal, config.max_total_runs)
    driver = threading.Thread(target=_Driver(experiment, config, sweep).run,
                              name=f"runtrack-sweep-{sweep.id}")
    driver.start()
    return sweep


class _Driver:
    def __init__(self, experiment: Experiment, config: HyperDriveConfig,
                 parent: HyperDriveRun) -> None:
        self.experiment = experiment
        self.config = config
        self.parent = parent
        ws = experiment.workspace
        self.store = ws.store
        self.active: dict[str, tuple[Run, Any]] = {}
        self.values: dict[str, list[float]] = {}
        #: set when a trial ended or a wait should end early; the loop waits on it
        self.wake = threading.Event()
        self.target: ComputeTarget | None = None
        name = config.run_config.run_config.target
        known = ws.compute_target_infos() if name not in (None, "", "local") else {}
        if isinstance(target_for(name, known), LocalTarget):
            # one warm process for every trial: no supervisor process to start per trial
            self.target = InProcessTarget(self.store, ws.artifacts, on_end=self._trial_ended)

        #: trials whose in-process supervisor has ended (their status is final)
        self.ended: set[str] = set()

    def _trial_ended(self, run_id: str) -> None:
        self.ended.add(run_id)
        self.wake.set()

    def run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # the sweep fails; the submitting program goes on
            log.exception("runtrack: sweep %s failed", self.parent.id)
            self._cancel_active("the sweep failed")
            with contextlib.suppress(RuntrackError):
                self.store.set_status(self.parent.id, RunStatus.FAILED,
                                      error=ErrorInfo("SweepFailed", f"the sweep failed: {exc}"))

    def _loop(self) -> None:
        cfg = self.config
        deadline = time.time() + cfg.max_duration_minutes * 60
        started, exhausted = 0, False
        next_parent_check = 0.0
        while True:
            if time.monotonic() >= next_parent_check:
                if self.store.get_run(self.parent.id).status.is_terminal:  # canceled outside
                    self._cancel_active("the sweep was canceled")
                    return
                next_parent_check = time.monotonic() + PARENT_POLL_SECONDS
            self._refresh()
            ended = cfg.policy.stop(self.values, list(self.active), cfg.primary_metric_goal)
            for run_id, reason in ended.items():
                self._end(run_id, reason, EARLY_TERMINATION)
            if time.time() >= deadline:
                self._cancel_active(f"max_duration_minutes={cfg.max_duration_minutes} passed")
                exhausted = True
            while (not exhausted and started < cfg.max_total_runs
                   and len(self.active) < cfg.max_concurrent_runs):
                nxt = cfg.hyperparameter_sampling.next()
                if nxt is None:
                    exhausted = True
                    break
                self._start(*nxt, number=started)
                started += 1
            if not self.active and (exhausted or started >= cfg.max_total_runs):
                break
            # trial ends wake the driver at once; only a policy needs metric polling
            idle = self.target is not None and isinstance(cfg.policy, NoTerminationPolicy)
            self.wake.wait(PARENT_POLL_SECONDS if idle else POLL_SECONDS)
            self.wake.clear()
        if isinstance(self.target, InProcessTarget):  # the trials' clean-up and log index
            self.target.join()
        if not self.store.get_run(self.parent.id).status.is_terminal:
            self.store.set_status(self.parent.id, RunStatus.COMPLETED)

    def _start(self, token: Any, params: dict[str, Any], number: int) -> None:
        from runtrack.sdk._submit import submit

        child_config = copy.deepcopy(self.config.run_config)
        extra = [part for k, v in params.items() for part in (f"--{k}", str(v))]
        child_config.run_config.arguments = [*child_config.run_config.arguments, *extra]
        child = submit(self.experiment, child_config, parent_id=self.parent.id,
                       properties={PARAMS_PROPERTY: json.dumps(params, sort_keys=True)},
                       display_name=f"{self.parent.display_name}_{number}",
                       target=self.target, snapshot_id=self.parent.id)
        self.active[child.id] = (child, token)
        self.values[child.id] = []

    def _refresh(self) -> None:
        """Read the active trials' primary metric values (while a policy needs them, and
        once a trial has ended) and retire the trials that ended."""
        maximize = self.config.primary_metric_goal.value == "MAXIMIZE"
        watching = not isinstance(self.config.policy, NoTerminationPolicy)
        for run_id, (_child, token) in list(self.active.items()):
            if self.target is not None:  # told by the in-process supervisor
                ended = run_id in self.ended
            else:
                ended = self.store.get_run(run_id).status.is_terminal
            if watching or ended:
                self._read_values(run_id)
            if ended:
                del self.active[run_id]
                self.ended.discard(run_id)
                reported = self.values[run_id]
                best = (max(reported) if maximize else min(reported)) if reported else None
                self.config.hyperparameter_sampling.tell(token, best)

    def _read_values(self, run_id: str) -> None:
        try:
            data = self.store.read_series(run_id, self.config.primary_metric_name)
        except NotFoundError:
            return
        self.values[run_id] = [float(v) for v in data.values
                               if isinstance(v, (int, float)) and not isinstance(v, bool)]

    def _end(self, run_id: str, reason: str, code: str = "Canceled") -> None:
        cancel_trial(self.active[run_id][0], reason, code)

    def _cancel_active(self, reason: str) -> None:
        for run_id in list(self.active):
            self._end(run_id, reason)
