# A training script run directly (not submitted): Run.get_context() is offline
import subprocess
import sys

from azureml.core.run import Run, _OfflineRun

run = Run.get_context()
assert run.id.startswith("OfflineRun")
assert run._run_id.startswith("OfflineRun")
assert isinstance(run, _OfflineRun)
run.log("accuracy", 0.9)
run.log_list("losses", [0.5, 0.3])
run.tag("mode", "offline")
run.complete()

try:
    Run.get_context(allow_offline=False)
    raise AssertionError("outside a submitted run this raises")
except Exception as exc:  # azureml: RunEnvironmentException
    from azureml.exceptions import RunEnvironmentException

    assert isinstance(exc, RunEnvironmentException)

out = subprocess.run(
    [
        sys.executable,
        "-c",
        "from azureml.core import Run\nr = Run.get_context(); r.log('loss', 0.25)",
    ],
    capture_output=True,
    text=True,
    check=True,
)
assert "Attempted to log scalar metric loss:\n0.25" in out.stdout
print("CORPUS OK")
