"""``azureml.data.datapath`` (not implemented: NotImplementedError on use)."""

from runtrack.sdk._pending import DataPath

__all__ = ["DataPath"]
