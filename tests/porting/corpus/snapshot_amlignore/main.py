# start_logging() snapshots the current folder, honouring .amlignore
import zipfile

from azureml.core import Experiment, Workspace

ws = Workspace.from_config()
exp = Experiment(ws, "snapshots")
run = exp.start_logging()
snapshot_id = run.get_properties()["ContentSnapshotId"]
assert run.get_snapshot_id() == snapshot_id
run.complete()
zip_path = run.restore_snapshot(path="restored")
names = set(zipfile.ZipFile(zip_path).namelist())
assert {"main.py", "src/train.py", "config.json", ".amlignore"} <= names
assert "data/big.bin" not in names and "src/model.ckpt" not in names

bare = exp.start_logging(snapshot_directory=None)
assert "ContentSnapshotId" not in bare.get_properties()
bare.complete()
sub = exp.start_logging(snapshot_directory="src")
# the ignore file is read from the root of the folder snapshotted (src has none)
assert set(zipfile.ZipFile(sub.restore_snapshot(path="r2")).namelist()) == {
    "train.py",
    "model.ckpt",
}
sub.complete()
print("CORPUS OK")
