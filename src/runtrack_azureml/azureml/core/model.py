"""``azureml.core.model``: the model registry is pending (NotImplementedError on use)."""

from runtrack.sdk._pending import Model

__all__ = ["Model"]
