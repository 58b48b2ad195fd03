# DP-100 style: an environment from a conda specification, registered and fetched back
import warnings

from azureml.core import Environment, Workspace
from azureml.core.conda_dependencies import CondaDependencies

ws = Workspace.from_config()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    env = Environment.from_conda_specification("experiment_env", "environment.yml")
text = " ".join(str(w.message) for w in caught)
assert "cudatoolkit" in text and "azureml-defaults" in text  # named, not installed
deps = env.python.conda_dependencies
assert "joblib" in deps.pip_packages and "scikit-learn" in deps.conda_packages
assert env.python.user_managed_dependencies is False

env.register(workspace=ws)
assert env.version == "1"
env.register(workspace=ws)
assert env.version == "2"
registered = Environment.get(ws, "experiment_env")
assert registered.version == "2" and registered.name == "experiment_env"
assert "joblib" in registered.python.conda_dependencies.pip_packages
assert Environment.get(ws, "experiment_env", version="1").version == "1"
for env_name in Environment.list(workspace=ws):
    print("Name:", env_name)
assert "experiment_env" in Environment.list(workspace=ws)

pip_env = Environment("pip-env")
pip_env.python.conda_dependencies = CondaDependencies.create(pip_packages=["joblib"])
pip_env.python.conda_dependencies.add_pip_package("scikit-learn")
pip_env.python.conda_dependencies.set_python_version("3.11")
assert pip_env.python.user_managed_dependencies is False

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    curated = Environment.get(workspace=ws, name="AzureML-sklearn-0.24-ubuntu18.04-py37-cpu")
    curated.docker.enabled = True
    curated.docker.base_image = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04"
assert any("curated" in str(w.message) for w in caught)
assert sum("Docker" in str(w.message) for w in caught) == 1  # warned once
try:
    Environment.get(ws, "never-registered")
    raise AssertionError("unknown environments raise")
except Exception as exc:
    assert "register" in str(exc)
print("CORPUS OK")
