"""``azureml.core.conda_dependencies``."""

from runtrack.sdk.environment import CondaDependencies

__all__ = ["CondaDependencies"]
