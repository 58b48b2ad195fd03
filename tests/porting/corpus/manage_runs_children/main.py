# In the style of manage-runs.ipynb: child runs
from azureml.core import Experiment, Workspace

ws = Workspace.from_config()
exp = Experiment(workspace=ws, name="child-runs")

with exp.start_logging() as parent_run:
    parent_run.log("A", 1)
    for c in range(5):
        with parent_run.child_run() as child:
            child.log(name="Hello from child run", value=c)
    children = parent_run.create_children(count=3)
    for c, child in enumerate(children):
        child.log(name="batch", value=c)
        child.complete()

assert parent_run.get_status() == "Completed"
kids = list(parent_run.get_children())
assert len(kids) == 8
assert all(k.get_status() == "Completed" for k in kids)
assert [k.get_tags()["azureml.batch_child_number"] for k in kids[5:]] == ["0", "1", "2"]
assert kids[0].parent.id == parent_run.id
everything = parent_run.get_metrics(recursive=True)
assert everything[parent_run.id] == {"A": 1}
assert everything[kids[3].id] == {"Hello from child run": 3}
assert len(everything) == 9
# top-level listing leaves the children out unless asked
assert len(list(exp.get_runs())) == 1
assert len(list(exp.get_runs(include_children=True))) == 9
print("CORPUS OK")
