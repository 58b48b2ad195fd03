# DP-100 lab style: an inline experiment from a notebook, then its details
import json
import os

import numpy as np
from azureml.core import Experiment, Workspace
from azureml.widgets import RunDetails

ws = Workspace.from_config()
print(ws.name, "loaded")
experiment = Experiment(workspace=ws, name="mslearn-diabetes")
run = experiment.start_logging()
print("Starting experiment:", experiment.name)

data = np.random.RandomState(0).randint(0, 2, size=(100, 3))
row_count = len(data)
run.log("observations", row_count)
pregnant = np.bincount(data[:, 0])
run.log_list("pregnancy categories", pregnant.tolist())

os.makedirs("outputs", exist_ok=True)
with open("outputs/sample.json", "w") as f:
    json.dump({"rows": row_count}, f)
run.complete()  # uploads ./outputs

RunDetails(run).show()
details = run.get_details()
for key in (
    "runId",
    "target",
    "status",
    "startTimeUtc",
    "endTimeUtc",
    "properties",
    "inputDatasets",
    "outputDatasets",
    "runDefinition",
    "logFiles",
    "submittedBy",
):
    assert key in details, key
assert details["status"] == "Completed"
metrics = run.get_metrics()
assert metrics["observations"] == 100
assert sum(metrics["pregnancy categories"]) == 100
assert "outputs/sample.json" in run.get_file_names()
url = run.get_portal_url()
assert run.id in url
print("Run in portal:", url, "Experiment:", experiment.get_portal_url())
assert run.get_properties()["ContentSnapshotId"]  # start_logging snapshots "." by default
print("CORPUS OK")
