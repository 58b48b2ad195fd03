# MLOpsPython-style evaluate step: compare the new run with the best earlier one
import os

from azureml.core import Experiment, Run, Workspace
from azureml.core.model import Model

ws = Workspace.from_config()
exp = Experiment(workspace=ws, name="mlops-train")
for mse in (3200.5, 2950.25, 3100.0):
    run = exp.start_logging(snapshot_directory=None)
    run.log("mse", mse)
    run.tag("BuildId", "42")
    run.complete()
new_run = Run(exp, run.id)


def get_best_run(experiment, metric):
    best, best_value = None, None
    for r in experiment.get_runs(tags={"BuildId": "42"}):
        value = r.get_metrics().get(metric)
        if value is not None and (best_value is None or value < best_value):
            best, best_value = r, value
    return best, best_value


best, best_mse = get_best_run(exp, "mse")
assert best_mse == 2950.25
promote = new_run.get_metrics()["mse"] <= best_mse
print("New model performs better, promoting" if promote else "Keeping the current model")
assert promote is False
new_run.tag("evaluated", str(promote))
assert Run.get(ws, new_run.id).get_tags()["evaluated"] == "False"

os.makedirs("outputs", exist_ok=True)
with open("outputs/model.pkl", "wb") as fh:
    fh.write(b"a pickled model")
model = Model.register(workspace=ws, model_path="outputs/model.pkl", model_name="diabetes")
assert (model.name, model.version) == ("diabetes", 1)
assert [m.version for m in Model.list(ws, name="diabetes")] == [1]
print("CORPUS OK")
