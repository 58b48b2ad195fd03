# Inside a submitted run whose snapshot holds config.json: from_config() sees the real workspace
from azureml.core import Experiment, Run, Workspace

run = Run.get_context()
ws = Workspace.from_config()
assert ws.name == "inner" and ws.resource_group == "rg"
exp = Experiment(ws, run.experiment.name)
ids = [r.id for r in exp.get_runs()]
run.log("runs_seen", len(ids))
run.log("sees_itself", run.id in ids)
