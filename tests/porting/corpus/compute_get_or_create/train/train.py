from azureml.core import Run

run = Run.get_context()
run.log("on", run.get_details()["target"])
