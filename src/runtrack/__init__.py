"""runtrack — experiment tracking with the Azure ML SDK v1 run API, self-hosted.

Importing runtrack is cheap: no SQLAlchemy, FastAPI, numpy or Pillow is loaded until
a workspace is opened or a feature that needs them is used.
"""

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
from runtrack.sdk.environment import CondaDependencies, Environment
from runtrack.sdk.experiment import Experiment
from runtrack.sdk.run import OfflineRun, Run
from runtrack.sdk.script_run_config import (
    MpiConfiguration,
    PyTorchConfiguration,
    RunConfiguration,
    ScriptRunConfig,
)
from runtrack.sdk.workspace import Workspace

VERSION = __version__  # Azure ML's spelling (azureml.core.VERSION)

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
