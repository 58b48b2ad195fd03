# DP-100 style: a script with arguments, submitted; numbers come back as numbers
from azureml.core import Environment, Experiment, ScriptRunConfig, Workspace
from azureml.widgets import RunDetails

ws = Workspace.from_config()
sklearn_env = Environment("sklearn-env")
script_config = ScriptRunConfig(
    source_directory="scripts",
    script="train_logistic.py",
    arguments=["--reg_rate", 0.1, "--max-iter", 500],
    environment=sklearn_env,
)
experiment = Experiment(workspace=ws, name="mslearn-train-iris")
run = experiment.submit(config=script_config)
RunDetails(run).show()  # plain Python: prints a one-line summary
run.wait_for_completion()

metrics = run.get_metrics()
for key in metrics:
    print(key, metrics.get(key))
assert metrics["Regularization Rate"] == 0.1
assert 0.5 < metrics["Accuracy"] <= 1.0
assert metrics["classes"] == [0, 1, 2]
assert run.get_details()["runDefinition"]["arguments"] == ["--reg_rate", "0.1", "--max-iter", "500"]
print("CORPUS OK")
