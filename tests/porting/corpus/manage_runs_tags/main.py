# In the style of manage-runs.ipynb: tags, properties, queries
from azureml.core import Experiment, Run, Workspace

ws = Workspace.from_config()
exp = Experiment(workspace=ws, name="explore-runs")

runs = []
for i in range(3):
    run = exp.start_logging(snapshot_directory=None)
    run.tag("quality", "great run" if i == 1 else "fine run")
    run.tag("Competition Rank", i)
    run.add_properties({"author": "azureml-user"})
    runs.append(run)
    run.complete()

run = runs[1]
assert run.get_tags()["Competition Rank"] == "1"  # non-str values become str
run.tag("worth another look")
assert run.get_tags()["worth another look"] is None

try:
    run.add_properties({"author": "different-user"})
    raise AssertionError("properties are add-only")
except Exception as e:
    print("Caught:", e)
assert run.get_properties()["author"] == "azureml-user"

found = list(exp.get_runs(tags={"quality": "great run"}))
assert [r.id for r in found] == [run.id]
assert len(list(exp.get_runs(tags="worth another look"))) == 1
assert len(list(Run.list(exp, properties={"author": "azureml-user"}))) == 3
newest_first = [r.id for r in exp.get_runs()]
assert newest_first == [r.id for r in reversed(runs)]

fetched = Run(exp, run.id)
assert fetched.id == run.id and fetched.get_status() == "Completed"
assert Run.get(ws, run.id).tags == fetched.tags
run.remove_tags(["quality"])
assert "quality" not in run.get_tags()
print("CORPUS OK")
