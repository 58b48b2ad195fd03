# A HyperDrive notebook cell, unchanged: a grid over --reg, Bandit policy, best run by AUC
from azureml.core import Experiment, ScriptRunConfig, Workspace
from azureml.train.hyperdrive import (
    BanditPolicy,
    GridParameterSampling,
    HyperDriveConfig,
    PrimaryMetricGoal,
    choice,
)

ws = Workspace.from_config()
script_config = ScriptRunConfig(source_directory="trial", script="train.py")
params = GridParameterSampling({"--reg": choice(0.01, 0.1)})
hyperdrive = HyperDriveConfig(
    run_config=script_config,
    hyperparameter_sampling=params,
    policy=BanditPolicy(evaluation_interval=2, slack_factor=0.1),
    primary_metric_name="AUC",
    primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
    max_total_runs=2,
    max_concurrent_runs=2,
)
run = Experiment(ws, "hd").submit(hyperdrive)
run.wait_for_completion()
assert run.get_status() == "Completed", run.get_status()
children = list(run.get_children())
assert len(children) == 2
best = run.get_best_run_by_primary_metric()
assert best.get_metrics()["AUC"] == 0.9, best.get_metrics()
assert best.get_details()["runDefinition"]["arguments"] == ["--reg", "0.01"], best.get_details()
print("CORPUS OK")
