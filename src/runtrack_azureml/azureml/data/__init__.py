"""``azureml.data``: runtrack's datasets (``runtrack.sdk.datasets``); output datasets are
not implemented."""

from runtrack.sdk._pending import OutputFileDatasetConfig
from runtrack.sdk.datasets import FileDataset, TabularDataset

__all__ = ["FileDataset", "OutputFileDatasetConfig", "TabularDataset"]
