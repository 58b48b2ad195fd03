# Experiment-level calls from notebooks: list, tags, archive, run lookup helpers
from azureml.core import Experiment, Workspace, get_run

ws = Workspace.from_config()
exp = Experiment(workspace=ws, name="tagged")
exp.tag("team", "vision")
exp.set_tags({"owner": "alice"})
assert exp.tags == {"team": "vision", "owner": "alice"}
run = exp.start_logging(snapshot_directory=None)
run.display_name = "baseline"
run.description = "first try"
run.complete()
assert get_run(exp, run.id).display_name == "baseline"
assert ws.get_run(run.id).description == "first try"
assert [e.name for e in Experiment.list(ws)] == ["tagged"]
assert list(ws.experiments) == ["tagged"]
exp.archive()
assert exp.archived
exp.reactivate()
assert not exp.archived
assert str(run) == f"Run(Experiment: tagged,\nId: {run.id},\nType: {run.type},\nStatus: Completed)"
print("CORPUS OK")
