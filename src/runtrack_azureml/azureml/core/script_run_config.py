"""``azureml.core.script_run_config``."""

from runtrack.sdk.script_run_config import ScriptRunConfig

__all__ = ["ScriptRunConfig"]
