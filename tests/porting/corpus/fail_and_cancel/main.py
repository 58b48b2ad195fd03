# manage-runs: cancel and fail runs; a run used as a context manager fails on an exception
from azureml.core import Experiment, Workspace

ws = Workspace.from_config()
exp = Experiment(workspace=ws, name="cancel-fail")

local_run = exp.start_logging()
local_run.log(name="Some metric", value=1)
local_run.fail(error_details="Something went wrong", error_code="MyError")
assert local_run.get_status() == "Failed"
error = local_run.get_details()["error"]["error"]
assert error["code"] == "MyError" and error["message"] == "Something went wrong"

to_cancel = exp.start_logging()
to_cancel.cancel()
assert to_cancel.get_status() == "Canceled"

try:
    with exp.start_logging() as failing:
        raise ValueError("bad data")
except ValueError:
    pass
assert failing.get_status() == "Failed"
assert failing.get_details()["error"]["error"]["message"] == (
    "User program failed with ValueError: bad data"
)

with exp.start_logging() as ok_run:
    raise SystemExit(0)  # counts as success and is swallowed
assert ok_run.get_status() == "Completed"
print("CORPUS OK")
