"""``azureml.data``: datasets are pending (NotImplementedError on use)."""

from runtrack.sdk._pending import FileDataset, OutputFileDatasetConfig, TabularDataset

__all__ = ["FileDataset", "OutputFileDatasetConfig", "TabularDataset"]
