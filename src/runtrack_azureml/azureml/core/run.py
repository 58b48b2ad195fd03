"""``azureml.core.run``."""

from __future__ import annotations

from runtrack.sdk.experiment import Experiment
from runtrack.sdk.run import OfflineRun, Run, _OfflineRun

__all__ = ["OfflineRun", "Run", "_OfflineRun", "get_run"]


def get_run(
    experiment: Experiment, run_id: str, rehydrate: bool = True, clean_up: bool = True
) -> Run:
    """Azure's module helper ``azureml.core.get_run``: the run ``run_id`` of ``experiment``."""
    return Run(experiment, run_id)
