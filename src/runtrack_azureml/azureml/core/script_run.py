"""``azureml.core.script_run``: a submitted run is a runtrack Run."""

from runtrack.sdk.run import Run as ScriptRun

__all__ = ["ScriptRun"]
