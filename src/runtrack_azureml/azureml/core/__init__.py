"""``azureml.core`` names, served by runtrack."""

from runtrack import (
    Environment,
    Experiment,
    Run,
    RunConfiguration,
    ScriptRunConfig,
    Workspace,
)
from runtrack._version import __version__ as VERSION
from runtrack.sdk.compute import ComputeTarget
from runtrack.sdk.datasets import Dataset, Datastore
from runtrack.sdk.models import Model

from .run import get_run

ScriptRun = Run

__all__ = [
    "VERSION",
    "ComputeTarget",
    "Dataset",
    "Datastore",
    "Environment",
    "Experiment",
    "Model",
    "Run",
    "RunConfiguration",
    "ScriptRun",
    "ScriptRunConfig",
    "Workspace",
    "get_run",
]
