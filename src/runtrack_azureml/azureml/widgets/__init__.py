"""``azureml.widgets``."""

from runtrack.widgets import RunDetails

__all__ = ["RunDetails"]
