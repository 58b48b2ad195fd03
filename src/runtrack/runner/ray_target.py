"""The Ray compute target: a submitted run becomes one Ray job (``ray job submit``).

Submitting side (:class:`RayTarget`): the run's snapshot (the source folder less what
its ignore file names) is copied into a fresh folder that becomes the job's
``working_dir``; the environment's pip requirements become the job's ``pip`` runtime
environment; the installed ``runtrack`` package travels as a ``py_modules`` entry, so
the cluster imports the same runtrack as the submitter. The job's entrypoint is the
run's supervisor (``python -m runtrack.cli._supervise --ray SPEC``).

Cluster side (:class:`RaySupervisor`, the job's driver): the usual supervisor, except
that the working folder is Ray's ``working_dir`` and that each rank runs in a Ray actor
placed in a placement group of ``node_count`` bundles (STRICT_SPREAD when there is more
than one node). A local stand-in process per rank (:mod:`runtrack.runner.ray_rank`)
relays the actor's output and exit code, so log capture, per-process files, status
from exit codes, cancel and the time limit are the local supervisor's.

The run's property ``runtrack.ray`` records ``{"address", "job_id"}``; liveness and
cancel ask Ray's job API at that address.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from runtrack import config
from runtrack.errors import ConfigError
from runtrack.model import ErrorInfo, RunInfo, RunStatus
from runtrack.runner import procs, ray_outputs
from runtrack.runner import spec as layout
from runtrack.runner.capture import FolderMirror
from runtrack.runner.snapshot import snapshot_files
from runtrack.runner.spec import RunSpec, json_property
from runtrack.runner.supervisor import PrepareFailed, Supervisor
from runtrack.store.base import ArtifactStore, TrackingStore

#: Run property: where the run's Ray job is, {"address", "job_id"} as JSON.
RAY_PROPERTY = "runtrack.ray"
#: The spec file the supervisor reads, at the top of the job's working_dir.
SPEC_FILE = ".runtrack-spec.json"
#: Ray namespace of runtrack's placement groups (the stand-ins find them by name).
NAMESPACE = "runtrack"
#: Environment variable of a stand-in: the variables its rank's process gets (JSON).
RANK_ENV = "RUNTRACK_RAY_RANK_ENV"
#: Seconds to wait for the placement group (all nodes of the run) before failing.
PLACEMENT_TIMEOUT_ENV = "RUNTRACK_RAY_PLACEMENT_TIMEOUT"
PLACEMENT_TIMEOUT = 120.0
#: Seconds between looks at a cancel while waiting for the placement.
PLACEMENT_POLL = 0.5
#: Seconds a canceled run's supervisor gets to end its Ray job before Ray stops it.
CANCEL_GRACE = 10.0
#: Seconds to wait for a just-started cluster's job agent to take the job.
AGENT_WAIT = 60.0
_LIVE_STATES = {"PENDING", "RUNNING"}


def _ray_missing(exc: ImportError) -> ConfigError:
    return ConfigError(
        f"the Ray compute target needs Ray ({exc}); install it with "
        "pip install 'runtrack[ray]' (or 'ray[default]')"
    )


def placement_timeout() -> float:
    """Seconds to wait for the run's placement group (:data:`PLACEMENT_TIMEOUT_ENV`)."""
    raw = os.environ.get(PLACEMENT_TIMEOUT_ENV) or ""
    try:
        value = float(raw) if raw else PLACEMENT_TIMEOUT
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ConfigError(
            f"{PLACEMENT_TIMEOUT_ENV}={raw!r} is not a number of seconds > 0; "
            f"unset it for the default ({PLACEMENT_TIMEOUT:g} s)"
        )
    return value


def group_name(run_id: str) -> str:
    """The name of the run's placement group."""
    return f"runtrack-{run_id}"


def stage(spec: RunSpec) -> tuple[Path, dict[str, Any]]:
    """The job's working_dir (the snapshot's files and the spec, in a fresh folder under
    ``spec.workdir``) and its runtime environment."""
    working = Path(spec.workdir) / "ray_working_dir"
    shutil.rmtree(working, ignore_errors=True)
    for file in snapshot_files(Path(spec.source_directory)):  # the ignore files apply
        dest = working / file.rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file.path, dest)
    working.mkdir(parents=True, exist_ok=True)
    spec.save(working / SPEC_FILE)
    placement_timeout()  # a bad value fails the submit, not the run on the cluster
    env_vars = {"PYTHONUNBUFFERED": "1"}
    for name in (PLACEMENT_TIMEOUT_ENV, config.ENV_TOKEN):  # a server workspace's token
        if os.environ.get(name):
            env_vars[name] = os.environ[name]
    runtime_env: dict[str, Any] = {
        "working_dir": str(working),
        # the submitter's runtrack, importable on every node of the cluster
        "py_modules": [str(Path(__file__).resolve().parents[1])],
        "env_vars": env_vars,
    }
    if spec.requirements is not None:
        runtime_env["pip"] = list(spec.requirements)
    return working, runtime_env


class RayTarget:
    """Runs submitted runs as jobs on the Ray cluster at ``address`` (the job-submission
    address, e.g. ``http://127.0.0.1:8265``)."""

    name = "ray"

    def __init__(self, address: str) -> None:
        self.address = address

    def _client(self) -> Any:
        try:
            from ray.job_submission import JobSubmissionClient
        except ImportError as exc:
            raise _ray_missing(exc) from exc
        return JobSubmissionClient(self.address)

    def submit(self, spec: RunSpec) -> dict[str, str]:
        working, runtime_env = stage(spec)
        client = self._client()
        # not Ray's "uploading package" lines in the submitter's terminal or notebook
        loggers = [logging.getLogger(n) for n in ("ray", "ray.dashboard.modules.dashboard_sdk")]
        levels = [lg.level for lg in loggers]
        for lg in loggers:
            lg.setLevel(logging.WARNING)
        submission_id = f"runtrack-{spec.run_id}-{os.urandom(3).hex()}"
        deadline = time.monotonic() + AGENT_WAIT
        retried = False
        try:
            while True:
                try:
                    job_id = client.submit_job(
                        entrypoint=f"python -m runtrack.cli._supervise --ray {SPEC_FILE}",
                        runtime_env=runtime_env,
                        submission_id=submission_id,
                        metadata={"runtrack_run_id": spec.run_id},
                    )
                    break
                except Exception as exc:  # a cluster that just started: agents not up
                    text = f"{type(exc).__name__}: {exc}"
                    if "already exists" in text and retried:  # our first try got through
                        job_id = submission_id
                        break
                    transient = "No available agent" in text or "ConnectionError" in text
                    if not transient or time.monotonic() > deadline:
                        raise
                    retried = True
                    time.sleep(1.0)
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)
            # Ray zipped and uploaded the folder during submit_job
            shutil.rmtree(working, ignore_errors=True)
        return {RAY_PROPERTY: json.dumps({"address": self.address, "job_id": job_id})}

    @staticmethod
    def _job(info: RunInfo) -> tuple[str, str] | None:
        data = json_property(info.properties, RAY_PROPERTY)
        if data is None or "address" not in data or "job_id" not in data:
            return None
        return str(data["address"]), str(data["job_id"])

    def job_state(self, info: RunInfo) -> tuple[str | None, str]:
        """(Ray's job state, or None when the cluster cannot be asked; why)."""
        job = self._job(info)
        if job is None:
            return None, "the run has no Ray job recorded"
        address, job_id = job
        try:
            from ray.job_submission import JobSubmissionClient

            job_info = JobSubmissionClient(address).get_job_info(job_id)
        except ImportError as exc:
            raise _ray_missing(exc) from exc
        except Exception as exc:  # the cluster is gone, or answers with an error
            return None, f"the Ray cluster at {address} cannot be reached ({exc})"
        state = str(getattr(job_info.status, "value", job_info.status))
        return state, f"Ray job {job_id} is {state}: {job_info.message or 'no message'}"

    def is_alive(self, info: RunInfo) -> bool | None:
        if self._job(info) is None:
            return None
        state, _ = self.job_state(info)
        return state in _LIVE_STATES

    def end_reason(self, info: RunInfo) -> str:
        """Why the run ended without its supervisor recording it (for the reaper)."""
        _, why = self.job_state(info)
        return f"{why}; the run's supervisor on the cluster ended without recording its end"

    def request_cancel(self, info: RunInfo) -> bool:
        """Stop the run's Ray job. The caller has set the run CancelRequested, which the
        supervisor polls: it stops every rank, uploads what they left and ends the job;
        a job still running after :data:`CANCEL_GRACE` seconds is stopped through Ray's
        job API (SIGTERM to the supervisor, which does the same, then SIGKILL)."""
        job = self._job(info)
        if job is None:
            return False
        address, job_id = job
        try:
            client = RayTarget(address)._client()
            deadline = time.monotonic() + CANCEL_GRACE
            while time.monotonic() < deadline:
                state = str(getattr(client.get_job_status(job_id), "value", ""))
                if state not in _LIVE_STATES:
                    return True
                time.sleep(0.2)
            return bool(client.stop_job(job_id))
        except ConfigError:
            raise
        except Exception:
            return False


class RaySupervisor(Supervisor):
    """The supervisor as the driver of a Ray job (see the module doc)."""

    def __init__(self, spec: RunSpec, store: TrackingStore, artifacts: ArtifactStore) -> None:
        super().__init__(spec, store, artifacts)
        self.workdir = Path.cwd()  # Ray's working_dir: the snapshot
        self.owns_workdir = False
        self.logs = FolderMirror(str(self.workdir / "logs"), artifacts, spec.run_id, "logs")
        self.group: Any = None
        self.placed = False
        self.token = ""  # what marks this (the driver's) folder, see ray_outputs
        self.master_addr = "127.0.0.1"

    def prepare(self) -> tuple[str, dict[str, str]]:
        self.set_status(RunStatus.PREPARING)
        job = os.environ.get("RAY_JOB_ID") or os.environ.get("RAY_JOB_SUBMISSION_ID", "")
        self.phase(
            layout.PREPARE_LOG,
            f"run {self.spec.run_id}: Ray job {job}, working_dir {self.workdir}",
        )
        (self.workdir / "outputs").mkdir(exist_ok=True)
        (self.workdir / "logs").mkdir(exist_ok=True)
        what = "pip " + " ".join(self.spec.requirements) if self.spec.requirements else "none"
        self.phase(
            layout.ENVIRONMENT_LOG,
            f"Ray runtime environment: interpreter {sys.executable}; requirements: {what}",
        )
        self.token = ray_outputs.mark_folder(self.workdir)
        self.place()
        return sys.executable, {}

    def place(self) -> None:
        """Reserve the run's nodes (its placement group), waiting at most the placement
        timeout; a cancel ends the wait (the run then ends Canceled)."""
        import ray
        from ray.util.placement_group import placement_group

        spec = self.spec
        ray.init(address="auto", namespace=NAMESPACE, log_to_driver=False)
        strategy = "STRICT_SPREAD" if spec.node_count > 1 else "PACK"
        timeout = placement_timeout()
        self.phase(
            layout.PREPARE_LOG,
            f"waiting for Ray to place {spec.node_count} node(s) ({strategy}, 1 CPU each; "
            f"at most {timeout:g} s)",
        )
        self.group = placement_group(
            [{"CPU": 1.0}] * spec.node_count, strategy=strategy, name=group_name(spec.run_id)
        )
        ready = self.group.ready()
        deadline = time.monotonic() + timeout
        while not ray.wait([ready], timeout=min(PLACEMENT_POLL, timeout))[0]:
            self._poll_cancel()
            if self.cancel_requested.is_set():
                return
            if time.monotonic() >= deadline:
                nodes = len([n for n in ray.nodes() if n.get("Alive")])  # type: ignore[no-untyped-call]
                raise PrepareFailed(ErrorInfo(
                    "PlacementTimeout",
                    f"Ray could not place the run's {spec.node_count} node(s) ({strategy}, "
                    f"1 CPU each) within {timeout:g} s; the cluster has {nodes} live "
                    f"node(s). Use a smaller node_count or a bigger cluster, or wait longer "
                    f"(set {PLACEMENT_TIMEOUT_ENV} in the submitting process)",
                ))
        self.placed = True

    def launch(self, python: str, extra: dict[str, str]) -> None:
        import ray
        from ray.util.placement_group import placement_group_table

        spec = self.spec
        strategy = "STRICT_SPREAD" if spec.node_count > 1 else "PACK"
        first = placement_group_table(self.group)["bundles_to_node_id"][0]
        for node in ray.nodes():  # type: ignore[no-untyped-call]
            if node.get("NodeID") == first:
                self.master_addr = str(node.get("NodeManagerAddress") or self.master_addr)
        self.phase(
            layout.EXECUTION_LOG,
            f"Ray placement group {group_name(spec.run_id)}: {spec.node_count} bundle(s), "
            f"{strategy}; master {self.master_addr}",
        )
        super().launch(python, extra)

    def spawn_rank(
        self, argv: list[str], env: dict[str, str], rank: int, leader: int | None
    ) -> Any:
        spec = self.spec
        env = dict(env)
        if spec.world_size > 1:
            env["MASTER_ADDR"] = self.master_addr
            env["AZ_BATCH_MASTER_NODE"] = f"{self.master_addr}:{spec.master_port}"
        env["AZUREML_TARGET_TYPE"] = "ray"
        # what the run adds to this process's environment travels to the rank's node
        shipped = {k: v for k, v in env.items() if os.environ.get(k) != v}
        stand_in = dict(env)
        stand_in[RANK_ENV] = json.dumps(shipped)
        cpus = round(1.0 / spec.process_count_per_node, 4)
        command = [
            sys.executable, "-m", "runtrack.runner.ray_rank",
            group_name(spec.run_id), str(rank // spec.process_count_per_node), str(cpus),
            "--", *argv,
        ]
        return procs.spawn(command, cwd=str(self.workdir), env=stand_in, group=leader)

    def finish(self, status: RunStatus, error: ErrorInfo | None) -> RunStatus:
        if self.placed and self.procs:  # every node's ./outputs, for the upload
            ray_outputs.collect(
                self.group, self.spec.node_count, self.workdir, self.token,
                lambda line: self.phase(layout.POST_LOG, line),
            )
        try:
            return super().finish(status, error)
        finally:
            if self.group is not None:
                try:
                    import ray
                    from ray.util.placement_group import remove_placement_group

                    remove_placement_group(self.group)
                    ray.shutdown()
                except Exception:  # the cluster may be going away with the job
                    pass

