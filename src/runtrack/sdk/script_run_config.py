"""``ScriptRunConfig`` and friends: what ``experiment.submit()`` runs, and how.

Azure ML SDK v1 semantics (see docs/submitting.md):

* ``script`` (relative to ``source_directory``) plus ``arguments`` (stringified), or
  ``command`` (a list, stringified, or a shell string) — not both.
* ``config.run_config`` is always there and mutable (``run_config.environment``,
  ``environment_variables``, ``node_count``, ``target``…). A ``run_config`` passed in
  wins over ``compute_target``/``environment``/``distributed_job_config``/
  ``max_run_duration_seconds`` given alongside it; ``script``/``arguments``/``command``
  given directly win over those inside it.
* ``distributed_job_config``: :class:`MpiConfiguration` or :class:`PyTorchConfiguration`;
  its node count is copied into ``run_config.node_count``.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from runtrack.errors import InvalidTypeError, InvalidValueError
from runtrack.sdk.environment import Environment


@dataclass
class MpiConfiguration:
    """``process_count_per_node`` processes on each of ``node_count`` nodes."""

    process_count_per_node: int = 1
    node_count: int = 1

    def processes_per_node(self) -> int:
        return self.process_count_per_node


@dataclass
class PyTorchConfiguration:
    """``process_count`` processes in all (default: one per node) over ``node_count`` nodes."""

    communication_backend: str = "Nccl"
    process_count: int | None = None
    node_count: int = 1

    def processes_per_node(self) -> int:
        total = self.process_count or self.node_count
        if total % self.node_count:
            raise InvalidValueError(
                f"PyTorchConfiguration(process_count={total}, node_count={self.node_count}): "
                "process_count must be a multiple of node_count"
            )
        return total // self.node_count


DistributedConfig = MpiConfiguration | PyTorchConfiguration


@dataclass
class RunConfiguration:
    """The mutable run settings of a :class:`ScriptRunConfig` (``config.run_config``)."""

    script: str | None = None
    arguments: list[str] = field(default_factory=list)
    command: list[str] | str | None = None
    target: str = "local"
    environment: Environment = field(default_factory=Environment)
    environment_variables: dict[str, str] = field(default_factory=dict)
    node_count: int = 1
    distributed: DistributedConfig | None = None
    max_run_duration_seconds: float | None = None

    @property
    def process_count_per_node(self) -> int:
        return self.distributed.processes_per_node() if self.distributed else 1

    @property
    def framework(self) -> str:
        return "PyTorch" if isinstance(self.distributed, PyTorchConfiguration) else "Python"

    @property
    def communicator(self) -> str:
        if isinstance(self.distributed, MpiConfiguration):
            return "IntelMpi"
        if isinstance(self.distributed, PyTorchConfiguration):
            return self.distributed.communication_backend
        return "None"


def _stringify(values: Sequence[Any] | str | None, what: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    out = []
    for value in values:
        if isinstance(value, (str, int, float, bool)) or hasattr(value, "__fspath__"):
            out.append(str(value))
        else:
            raise InvalidTypeError(
                f"{what} elements must be str, int, float or paths; got "
                f"{type(value).__name__}: {value!r}"
            )
    return out


class ScriptRunConfig:
    """What to run (script or command) in which folder, where and with which Python."""

    def __init__(
        self,
        source_directory: str,
        script: str | None = None,
        arguments: Sequence[Any] | str | None = None,
        run_config: RunConfiguration | None = None,
        _telemetry_values: Any = None,
        compute_target: Any = None,
        environment: Environment | None = None,
        distributed_job_config: DistributedConfig | None = None,
        resume_from: Any = None,
        max_run_duration_seconds: float | None = None,
        command: Sequence[Any] | str | None = None,
        docker_runtime_config: Any = None,
    ) -> None:
        self.source_directory = str(source_directory)
        self.dataset_inputs: list[Any] = []
        if run_config is not None:
            if any(
                v is not None
                for v in (
                    compute_target,
                    environment,
                    distributed_job_config,
                    max_run_duration_seconds,
                )
            ):
                warnings.warn(
                    "ScriptRunConfig: run_config was given, so compute_target, environment, "
                    "distributed_job_config and max_run_duration_seconds are ignored",
                    UserWarning,
                    stacklevel=2,
                )
            self.run_config = copy.deepcopy(run_config)
        else:
            self.run_config = RunConfiguration()
            if compute_target is not None:
                self.run_config.target = getattr(compute_target, "name", None) or str(
                    compute_target
                )
            if environment is not None:
                self.run_config.environment = environment
            if distributed_job_config is not None:
                if not isinstance(distributed_job_config, (MpiConfiguration, PyTorchConfiguration)):
                    raise InvalidTypeError(
                        "distributed_job_config must be MpiConfiguration or PyTorchConfiguration, "
                        f"got {type(distributed_job_config).__name__}"
                    )
                distributed_job_config.processes_per_node()  # validates
                self.run_config.distributed = distributed_job_config
                self.run_config.node_count = distributed_job_config.node_count
            self.run_config.max_run_duration_seconds = max_run_duration_seconds
        if command is not None and (script is not None or arguments):
            raise InvalidValueError(
                "ScriptRunConfig takes either command= or script= (with arguments=), not both"
            )
        if script is not None:
            self.run_config.script = str(script)
        if arguments is not None:
            # dataset inputs among the arguments (``ds.as_named_input(...)``), recorded on submit
            self.dataset_inputs = [] if isinstance(arguments, str) else [
                a for a in arguments if callable(getattr(a, "to_run_input", None))
            ]
            self.run_config.arguments = _stringify(arguments, "arguments")
        if command is not None:
            self.run_config.command = (
                command if isinstance(command, str) else _stringify(command, "command")
            )

    # Azure exposes these as attributes of the config itself.
    @property
    def script(self) -> str | None:
        return self.run_config.script

    @property
    def arguments(self) -> list[str]:
        return self.run_config.arguments

    @property
    def command(self) -> list[str] | str | None:
        return self.run_config.command

    @property
    def environment(self) -> Environment:
        return self.run_config.environment

    @property
    def compute_target(self) -> str:
        return self.run_config.target

    @property
    def distributed_job_config(self) -> DistributedConfig | None:
        return self.run_config.distributed

    def argv(self) -> list[str] | str:
        """The command line to start: ``["python", script, *arguments]``, a command list
        (``python`` as its first element means the run's interpreter) or a shell string."""
        rc = self.run_config
        if rc.command is not None:
            return rc.command
        if not rc.script:
            raise InvalidValueError(
                "ScriptRunConfig needs script= (a file in source_directory) or command="
            )
        return ["python", rc.script, *rc.arguments]

    def definition(self) -> dict[str, Any]:
        """The ``runDefinition`` stored with the run (``get_details()``)."""
        rc = self.run_config
        return {
            "script": rc.script,
            "command": rc.command,
            "arguments": list(rc.arguments),
            "sourceDirectory": self.source_directory,
            "target": rc.target,
            "framework": rc.framework,
            "communicator": rc.communicator,
            "nodeCount": rc.node_count,
            "processCountPerNode": rc.process_count_per_node,
            "maxRunDurationSeconds": rc.max_run_duration_seconds,
            "environment": rc.environment.to_json(),
            "environmentVariables": dict(rc.environment_variables),
        }

    def __repr__(self) -> str:
        what = f"script={self.script!r}" if self.script else f"command={self.command!r}"
        return f"ScriptRunConfig(source_directory={self.source_directory!r}, {what})"
