# Workspace fields and constructors as notebooks use them
from azureml.core import Experiment, Workspace

ws = Workspace.from_config()
print("Workspace name: " + ws.name)
print("Subscription id: " + ws.subscription_id)
print("Resource group: " + ws.resource_group)
print("Azure region: " + ws.location)
assert ws.name == "ml-workspace"
assert ws.subscription_id == "00000000-1111-2222-3333-444444444444"
assert ws.resource_group == "ml-rg"
print(ws.name, ws.resource_group, ws.location, ws.subscription_id, sep="\t")

same = Workspace("00000000-1111-2222-3333-444444444444", "ml-rg", "ml-workspace")
assert (same.subscription_id, same.resource_group, same.name) == (
    ws.subscription_id,
    ws.resource_group,
    "ml-workspace",
)
by_name = Workspace.get(
    name="ml-workspace", subscription_id=ws.subscription_id, resource_group="ml-rg"
)
assert by_name.name == "ml-workspace"
Experiment(ws, "first").start_logging(snapshot_directory=None).complete()
assert "first" in by_name.experiments  # one store behind all three
assert sorted(e.name for e in Experiment.list(same)) == ["first"]

uri = ws.get_mlflow_tracking_uri()
assert uri.startswith("sqlite:///") and uri.endswith("mlflow.db")
print("CORPUS OK")
