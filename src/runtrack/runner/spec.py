"""What a compute target needs to run a submitted run, and where its logs go.

:class:`RunSpec` is written by the SDK at submit time and read by the supervisor (a
JSON file), so it holds only plain values. The log layout functions are the one place
that names the files of a run's logs; the SDK's viewers use them too.

Log layout (artifact paths of the run)::

    user_logs/std_log.txt                              one process
    user_logs/std_log_process_<RR>.txt                 one file per process (rank RR)
    user_logs/node_<NN>/std_log_process_<RR>.txt       multi-node: one folder per node
    system_logs/prepare.txt, environment.txt,          phase logs of the supervisor
      execution.txt, post.txt
    system_logs/process_info.json                      one JSON object per process
    system_logs/process_status.json                    one JSON object per event
    logs/runtrack/<rank>_<pid>.log                     runtrack's own Python log per process
    logs/…                                             the script's ./logs, shipped live
    outputs/…                                          the script's ./outputs, at the end
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PREPARE_LOG = "system_logs/prepare.txt"
ENVIRONMENT_LOG = "system_logs/environment.txt"
EXECUTION_LOG = "system_logs/execution.txt"
POST_LOG = "system_logs/post.txt"
PROCESS_INFO = "system_logs/process_info.json"
PROCESS_STATUS = "system_logs/process_status.json"

#: Run property holding where the supervisor runs: {"host", "pid", "started"} as JSON.
SUPERVISOR_PROPERTY = "runtrack.supervisor"
#: Run property recording the number of processes (ranks) of the run.
WORLD_SIZE_PROPERTY = "runtrack.world_size"
#: Run property set by whoever asks for a cancel with a reason (e.g. a sweep's early
#: termination policy): an ErrorInfo as JSON, which becomes the Canceled run's error.
CANCEL_ERROR_PROPERTY = "runtrack.cancel_error"


def json_property(properties: dict[str, str], key: str) -> dict[str, Any] | None:
    """The JSON object a runner property holds (None if unset or not an object)."""
    raw = properties.get(key)
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class RunSpec:
    """Everything the supervisor needs; ``to_json``/``from_json`` round-trip it.

    ``command``: argv to start in each process; the first element ``"python"`` stands
    for the run's interpreter. ``requirements``: None = the user-managed interpreter
    ``python``; a list = a virtual environment built from these pip requirements
    (cached under ``env_cache``). ``environment_variables`` are added to each process.
    The source is unpacked from ``snapshot.zip`` of run ``snapshot_run_id or run_id``.
    """

    run_id: str
    experiment_name: str
    tracking_uri: str
    artifact_root: str | None
    spool_dir: str
    workdir: str
    command: list[str]
    python: str
    requirements: list[str] | None = None
    env_cache: str = ""
    environment_variables: dict[str, str] = field(default_factory=dict)
    node_count: int = 1
    process_count_per_node: int = 1
    max_run_duration_seconds: float | None = None
    master_port: int = 0
    grace_seconds: float = 5.0
    #: the submitted source folder (targets that ship it themselves, e.g. Ray, read it)
    source_directory: str = ""
    #: the run whose snapshot.zip holds the source ('' = this run; a sweep's trials share
    #: the sweep's snapshot)
    snapshot_run_id: str = ""

    @property
    def world_size(self) -> int:
        return self.node_count * self.process_count_per_node

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> RunSpec:
        data: dict[str, Any] = json.loads(text)
        return cls(**data)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")


def user_log_path(rank: int, node_rank: int, node_count: int, world_size: int) -> str:
    """Artifact path of the stdout+stderr log of process ``rank``."""
    if world_size == 1:
        return "user_logs/std_log.txt"
    name = f"std_log_process_{rank:02d}.txt"
    if node_count > 1:
        return f"user_logs/node_{node_rank:02d}/{name}"
    return f"user_logs/{name}"


def rank_log_paths(node_count: int, process_count_per_node: int) -> list[str]:
    """Every process's log path, indexed by global rank."""
    world = node_count * process_count_per_node
    return [
        user_log_path(rank, rank // process_count_per_node, node_count, world)
        for rank in range(world)
    ]
