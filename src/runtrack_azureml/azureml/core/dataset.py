"""``azureml.core.dataset``: runtrack's datasets (``runtrack.sdk.datasets``)."""

from runtrack.sdk.datasets import Dataset

__all__ = ["Dataset"]
