# In the style of how-to-use-azureml/track-and-monitor-experiments/logging-api.ipynb
import os

import matplotlib

matplotlib.use("Agg")
import azureml.core
import matplotlib.pyplot as plt
import numpy as np
from azureml.core import Experiment, Workspace

print("This notebook was created using version", azureml.core.VERSION, "of the Azure ML SDK")

ws = Workspace.from_config()
print(
    "Workspace name: " + ws.name,
    "Azure region: " + ws.location,
    "Subscription id: " + ws.subscription_id,
    "Resource group: " + ws.resource_group,
    sep="\n",
)

experiment = Experiment(workspace=ws, name="logging-api-test")
run = experiment.start_logging()

# scalars, repeated under one name
run.log(name="Single value", value=3)
for i in range(-10, 10):
    run.log(name="Sigmoid", value=1 / (1 + np.exp(-i)))
run.log_list(name="Fibonacci", value=[0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89])
sines = {"angle": [], "sine": []}
for i in range(-10, 10):
    angle = i / 2.0
    run.log_row(name="Cosine Wave", angle=angle, cos=np.cos(angle))
    sines["angle"].append(angle)
    sines["sine"].append(np.sin(angle))
run.log_table(name="Sine Wave", value=sines)

plt.plot([0, 1, 2], [0, 1, 4])
run.log_image(name="Quadratic", plot=plt)

os.makedirs("files", exist_ok=True)
with open("files/myfile.txt", "w") as f:
    f.write("Azure Machine Learning\n")
run.upload_file(name="logging-api/myfile.txt", path_or_stream="files/myfile.txt")
run.upload_folder(name="important_files", path="files")
run.complete()

# what azureml-core returns
assert run.get_status() == "Completed"
metrics = run.get_metrics()
assert metrics["Single value"] == 3
assert isinstance(metrics["Sigmoid"], list) and len(metrics["Sigmoid"]) == 20
assert metrics["Fibonacci"] == [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89]
assert sorted(metrics["Cosine Wave"]) == ["angle", "cos"]
assert len(metrics["Cosine Wave"]["angle"]) == 20
assert len(metrics["Sine Wave"]["sine"]) == 20
assert isinstance(metrics["Quadratic"], str)  # an artifact reference string
assert run.get_metrics(name="Fibonacci") == {"Fibonacci": metrics["Fibonacci"]}
assert run.get_metrics(name="nope") == {}
names = run.get_file_names()
assert "logging-api/myfile.txt" in names and "important_files/myfile.txt" in names
assert any(n.startswith("Quadratic_") and n.endswith(".png") for n in names)
run.download_file(name="logging-api/myfile.txt", output_file_path="downloaded.txt")
with open("downloaded.txt") as f:
    assert f.read() == "Azure Machine Learning\n"
assert str(experiment).startswith("Experiment(Name: logging-api-test,")
print("CORPUS OK")
