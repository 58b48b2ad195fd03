"""``azureml.core.compute_target``."""

from runtrack.sdk.compute import ComputeTargetException

__all__ = ["ComputeTargetException"]
