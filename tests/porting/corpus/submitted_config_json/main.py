from azureml.core import Experiment, ScriptRunConfig, Workspace

ws = Workspace.from_config()
exp = Experiment(ws, "config-in-snapshot")
exp.start_logging(snapshot_directory=None).complete()
run = exp.submit(ScriptRunConfig(source_directory="project", script="report.py"))
run.wait_for_completion()
metrics = run.get_metrics()
assert metrics["runs_seen"] == 2 and metrics["sees_itself"] is True
print("CORPUS OK")
