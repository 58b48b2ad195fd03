"""``azureml.core.dataset``: datasets are pending (NotImplementedError on use)."""

from runtrack.sdk._pending import Dataset

__all__ = ["Dataset"]
