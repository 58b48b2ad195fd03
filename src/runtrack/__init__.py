"""runtrack — experiment tracking with the Azure ML SDK v1 run API, self-hosted.

Importing runtrack is cheap: no SQLAlchemy, FastAPI, numpy or Pillow is loaded until
a workspace is opened or a feature that needs them is used, and the names a script that
only logs does not use (the submission configuration classes) are imported on first
use (PEP 562 ``__getattr__``).
"""

from typing import TYPE_CHECKING, Any

from runtrack._version import __version__
from runtrack.errors import (
    ArtifactExistsError,
    ConfigError,
    ConflictError,
    InvalidTypeError,
    InvalidValueError,
    LimitExceededError,
    NotFoundError,
    PropertyConflictError,
    RunFailedError,
    RunStateError,
    RuntrackError,
    StoreUnavailableError,
)
from runtrack.model import MetricKind, RunStatus
from runtrack.sdk._artifacts import Artifact, ImageArtifact, JsonArtifact
from runtrack.sdk.experiment import Experiment
from runtrack.sdk.run import OfflineRun, Run
from runtrack.sdk.workspace import Workspace

if TYPE_CHECKING:
    from runtrack.sdk.environment import CondaDependencies, Environment
    from runtrack.sdk.script_run_config import (
        MpiConfiguration,
        PyTorchConfiguration,
        RunConfiguration,
        ScriptRunConfig,
    )

VERSION = __version__  # Azure ML's spelling (azureml.core.VERSION)

#: public names imported on first use, and their modules
_LAZY = {
    "CondaDependencies": "runtrack.sdk.environment",
    "Environment": "runtrack.sdk.environment",
    "MpiConfiguration": "runtrack.sdk.script_run_config",
    "PyTorchConfiguration": "runtrack.sdk.script_run_config",
    "RunConfiguration": "runtrack.sdk.script_run_config",
    "ScriptRunConfig": "runtrack.sdk.script_run_config",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runtrack' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

__all__ = [
    "VERSION",
    "Artifact",
    "ArtifactExistsError",
    "CondaDependencies",
    "ConfigError",
    "ConflictError",
    "Environment",
    "Experiment",
    "ImageArtifact",
    "InvalidTypeError",
    "InvalidValueError",
    "JsonArtifact",
    "LimitExceededError",
    "MetricKind",
    "MpiConfiguration",
    "NotFoundError",
    "OfflineRun",
    "PropertyConflictError",
    "PyTorchConfiguration",
    "Run",
    "RunConfiguration",
    "RunFailedError",
    "RunStateError",
    "RunStatus",
    "RuntrackError",
    "ScriptRunConfig",
    "StoreUnavailableError",
    "Workspace",
    "__version__",
]
