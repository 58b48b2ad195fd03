"""``azureml.core.compute``: names map to runtrack targets (``local``)."""

from runtrack.sdk.compute import AmlCompute, ComputeInstance, ComputeTarget

__all__ = ["AmlCompute", "ComputeInstance", "ComputeTarget"]
