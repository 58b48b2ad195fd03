"""``azureml.core.experiment``."""

from runtrack.sdk.experiment import Experiment

__all__ = ["Experiment"]
