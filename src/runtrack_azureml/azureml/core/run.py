"""``azureml.core.run``."""

from runtrack.sdk.run import OfflineRun, Run, _OfflineRun, get_run

__all__ = ["OfflineRun", "Run", "_OfflineRun", "get_run"]
