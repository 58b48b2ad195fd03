# An environment with CondaDependencies: runtrack builds it, and the run still imports runtrack
import warnings

from azureml.core import Environment, Experiment, ScriptRunConfig, Workspace
from azureml.core.conda_dependencies import CondaDependencies

ws = Workspace.from_config()
env = Environment("sklearn-env")
env.python.conda_dependencies = CondaDependencies.create(
    conda_packages=["scikit-learn"], pip_packages=["azureml-defaults"]
)
assert env.python.user_managed_dependencies is False
config = ScriptRunConfig(source_directory="src", script="train.py", environment=env)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    run = Experiment(ws, "built-env").submit(config)
assert any("azureml-defaults" in str(w.message) for w in caught)
run.wait_for_completion(show_output=True)
metrics = run.get_metrics()
import sklearn  # noqa: E402

assert metrics["sklearn"] == sklearn.__version__
assert metrics["in_venv"] is True
print("CORPUS OK")
