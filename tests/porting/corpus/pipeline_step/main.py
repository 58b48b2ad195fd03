# Pipeline-like driver: a parent run submits its steps as child runs
from azureml.core import Experiment, ScriptRunConfig, Workspace

ws = Workspace.from_config()
exp = Experiment(ws, "pipeline-steps")
pipeline_run = exp.start_logging(snapshot_directory=None)

prep = pipeline_run.submit_child(ScriptRunConfig("steps", "prep.py", arguments=["--rows", 5]))
prep.wait_for_completion(show_output=False)
train = exp.submit(ScriptRunConfig("steps", "train.py"), _parent_run_id=pipeline_run.id)
train.wait_for_completion()
pipeline_run.complete()

assert prep.parent.id == pipeline_run.id and train.parent.id == pipeline_run.id
assert {c.id for c in pipeline_run.get_children()} == {prep.id, train.id}
metrics = pipeline_run.get_metrics()
assert metrics["prep_rows"] == 5 and metrics["trained"] == 1
assert pipeline_run.get_tags()["stage"] == "prepared"
assert pipeline_run.get_properties()["prep_step"] == prep.id
outputs = prep.get_outputs()
assert list(outputs) == ["outputs/prepped.csv"]
prep.download_file(outputs["outputs/prepped.csv"], "prepped.csv")
with open("prepped.csv") as f:
    assert f.read().count("\n") == 5
assert pipeline_run.get_metrics(recursive=True)[train.id] == {"accuracy": 0.75}
# a top-level submitted run has no parent
assert exp.submit(ScriptRunConfig("steps", "train.py")).parent is None
print("CORPUS OK")
