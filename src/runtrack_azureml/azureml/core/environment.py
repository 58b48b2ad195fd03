"""``azureml.core.environment``."""

from runtrack.sdk.environment import CondaDependencies, Environment, PythonSection

__all__ = ["CondaDependencies", "Environment", "PythonSection"]
