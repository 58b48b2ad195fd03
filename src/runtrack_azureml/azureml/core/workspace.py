"""``azureml.core.workspace``."""

from runtrack.sdk.workspace import Workspace

__all__ = ["Workspace"]
