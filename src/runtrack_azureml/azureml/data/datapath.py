"""``azureml.data.datapath`` (pending: NotImplementedError on use)."""

from runtrack.sdk._pending import DataPath

__all__ = ["DataPath"]
