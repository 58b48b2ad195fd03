"""``azureml.core.runconfig``."""

from runtrack.sdk.script_run_config import (
    MpiConfiguration,
    PyTorchConfiguration,
    RunConfiguration,
)

__all__ = ["MpiConfiguration", "PyTorchConfiguration", "RunConfiguration"]
