# Structured metrics: confusion matrix and predictions, read back as artifacts
import json

from azureml.core import Experiment, Workspace

ws = Workspace.from_config()
run = Experiment(ws, "structured").start_logging(snapshot_directory=None)
cm = {
    "schema_type": "confusion_matrix",
    "schema_version": "1.0.0",
    "data": {"class_labels": ["0", "1"], "matrix": [[3, 1], [0, 4]]},
}
run.log_confusion_matrix("confusion", cm)
run.log_residuals(
    "residuals",
    json.dumps(
        {
            "schema_type": "residuals",
            "schema_version": "1.0.0",
            "data": {"bin_edges": [0, 1, 2], "bin_counts": [5, 3]},
        }
    ),
)
run.complete()

metrics = run.get_metrics()
assert isinstance(metrics["confusion"], str)  # a reference to the JSON artifact
assert "confusion" in run.get_file_names() and "residuals" in run.get_file_names()
populated = run.get_metrics(populate=True)
assert populated["confusion"].convert_to_object()["data"]["matrix"] == [[3, 1], [0, 4]]
try:
    run2 = Experiment(ws, "structured").start_logging(snapshot_directory=None)
    run2.log_confusion_matrix("bad", "{not json")
    raise AssertionError("invalid JSON is refused")
except Exception as exc:
    assert "JSON" in str(exc)
print("CORPUS OK")
