# The usual "find or create a cluster" cell, then a run on it
import warnings

from azureml.core import Experiment, ScriptRunConfig, Workspace
from azureml.core.compute import AmlCompute, ComputeTarget
from azureml.core.compute_target import ComputeTargetException

ws = Workspace.from_config()
cluster_name = "cpu-cluster"
try:
    cpu_cluster = ComputeTarget(workspace=ws, name=cluster_name)
    raise AssertionError("a fresh workspace knows no cluster")
except ComputeTargetException:
    print("Creating a new compute target...")
    compute_config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        cpu_cluster = ComputeTarget.create(ws, cluster_name, compute_config)
cpu_cluster.wait_for_completion(show_output=True)
assert cluster_name in ws.compute_targets

run = Experiment(ws, "on-cluster").submit(
    ScriptRunConfig(source_directory="train", script="train.py", compute_target=cpu_cluster)
)
run.wait_for_completion()
assert run.get_details()["target"] == cluster_name
assert run.get_metrics()["on"] == cluster_name

try:
    ScriptRunConfig("train", "train.py", compute_target="gpu-cluster")
    Experiment(ws, "on-cluster").submit(
        ScriptRunConfig("train", "train.py", compute_target="gpu-cluster")
    )
    raise AssertionError("an unknown compute name is refused")
except Exception as exc:
    assert "map_compute_target" in str(exc)
print("CORPUS OK")
