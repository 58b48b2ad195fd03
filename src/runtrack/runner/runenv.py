"""The environment variables each process of a submitted run gets.

These variables are the one protocol between the supervisor and the script (see
``runtrack.config.submitted_context``). :func:`extra_run_env` is the hook where other
integrations add their variables for a run (MLflow's ``MLFLOW_TRACKING_URI`` /
``MLFLOW_RUN_ID`` / ``MLFLOW_EXPERIMENT_NAME`` go there once a runtrack server can
answer MLflow clients for this workspace); it is called once per run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from runtrack import config
from runtrack.model import ExperimentInfo, RunInfo
from runtrack.runner.spec import RunSpec

#: a JSON file the supervisor writes before it starts the processes: the run and its
#: experiment as the store had them, and the run's metric kinds, so that
#: ``Run.get_context()`` can start logging without opening the store
ENV_PRELOAD = "RUNTRACK_RUN_PRELOAD"
PRELOAD_FILE = "preload.json"


@dataclass(frozen=True)
class Preload:
    run: RunInfo
    experiment: ExperimentInfo
    kinds: dict[str, str]


def write_preload(folder: Path, preload: Preload) -> Path:
    """Write ``preload`` into ``folder``; return the file's path."""
    path = folder / PRELOAD_FILE
    data = {"run": preload.run.to_json(), "experiment": preload.experiment.to_json(),
            "kinds": preload.kinds}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)
    return path


def read_preload(run_id: str) -> Preload | None:
    """The preload of run ``run_id`` named by ``RUNTRACK_RUN_PRELOAD`` (None when there
    is none, it cannot be read, or it is another run's)."""
    name = os.environ.get(ENV_PRELOAD)
    if not name:
        return None
    try:
        data = json.loads(Path(name).read_text(encoding="utf-8"))
        preload = Preload(RunInfo.from_json(data["run"]),
                          ExperimentInfo.from_json(data["experiment"]),
                          {str(k): str(v) for k, v in data["kinds"].items()})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return preload if preload.run.id == run_id else None

#: Integrations add functions here: (spec) -> variables for every process of the run.
EXTRA_ENV_HOOKS: list[object] = []


def extra_run_env(spec: RunSpec) -> dict[str, str]:
    """Variables other integrations want in a run (MLflow's, when available).

    MLflow variables are set only when the workspace is a runtrack server, whose
    ``/api/2.0/mlflow`` endpoints MLflow clients can log to; for a local workspace
    there is no MLflow-readable URI, so nothing is set.
    """
    env: dict[str, str] = {}
    if spec.tracking_uri.startswith(("http://", "https://")):
        env["MLFLOW_TRACKING_URI"] = spec.tracking_uri
        env["MLFLOW_RUN_ID"] = spec.run_id
        env["MLFLOW_EXPERIMENT_NAME"] = spec.experiment_name
    for hook in EXTRA_ENV_HOOKS:
        env.update(hook(spec))  # type: ignore[operator]
    return env


def base_env(spec: RunSpec, inherited: Mapping[str, str] | None = None) -> dict[str, str]:
    """Variables shared by every process of the run (inherited ones first)."""
    env = dict(os.environ if inherited is None else inherited)
    for key in [k for k in env if k.startswith(("RUNTRACK_", "AZUREML_", "MLFLOW_"))]:
        if key not in (config.ENV_TOKEN,):
            del env[key]
    env.update(
        {
            config.ENV_RUN_ID: spec.run_id,
            config.ENV_EXPERIMENT: spec.experiment_name,
            config.ENV_TRACKING_URI: spec.tracking_uri,
            config.ENV_SPOOL_DIR: spec.spool_dir,
            "AZUREML_RUN_ID": spec.run_id,
            "AZUREML_ARM_PROJECT_NAME": spec.experiment_name,
            "AZUREML_OUTPUT_DIRECTORY": "./outputs",
            "AZUREML_TARGET_TYPE": "local",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if spec.artifact_root:
        env[config.ENV_ARTIFACT_ROOT] = spec.artifact_root
    env.update(extra_run_env(spec))
    if "MLFLOW_TRACKING_URI" in env and env.get(config.ENV_TOKEN):
        # a server with --auth: MLflow clients send this as 'Authorization: Bearer'
        env["MLFLOW_TRACKING_TOKEN"] = env[config.ENV_TOKEN]
    env.update(spec.environment_variables)
    return env


def process_env(base: Mapping[str, str], spec: RunSpec, rank: int) -> dict[str, str]:
    """``base`` plus the rank variables of process ``rank`` (as torchrun sets them)."""
    per_node = spec.process_count_per_node
    env = dict(base)
    env[config.ENV_STREAM] = f"rank{rank}"
    env[config.ENV_RANK] = str(rank)
    if spec.world_size > 1:
        env.update(
            {
                "RANK": str(rank),
                "WORLD_SIZE": str(spec.world_size),
                "LOCAL_RANK": str(rank % per_node),
                "LOCAL_WORLD_SIZE": str(per_node),
                "NODE_RANK": str(rank // per_node),
                "GROUP_RANK": str(rank // per_node),
                "MASTER_ADDR": "127.0.0.1",
                "MASTER_PORT": str(spec.master_port),
                "OMPI_COMM_WORLD_RANK": str(rank),
                "OMPI_COMM_WORLD_SIZE": str(spec.world_size),
                "OMPI_COMM_WORLD_LOCAL_RANK": str(rank % per_node),
                "OMPI_COMM_WORLD_LOCAL_SIZE": str(per_node),
                "AZ_BATCH_MASTER_NODE": f"127.0.0.1:{spec.master_port}",
            }
        )
    return env
