# Data access code imports unchanged; using a dataset says that feature is pending
from azureml.core import Dataset, Datastore, Workspace
from azureml.data import FileDataset, OutputFileDatasetConfig, TabularDataset
from azureml.data.datapath import DataPath

ws = Workspace.from_config()
calls = [
    lambda: Datastore.get_default(ws),
    lambda: Dataset.Tabular.from_delimited_files(path=[(ws, "data/*.csv")]),
    lambda: Dataset.get_by_name(ws, name="diabetes dataset"),
    lambda: Dataset.File.from_files(path="data/"),
    lambda: OutputFileDatasetConfig(name="prepped"),
    lambda: DataPath(None, "x"),
]
for call in calls:
    try:
        call()
        raise AssertionError("datasets are pending")
    except NotImplementedError as exc:
        assert "datasets" in str(exc), exc
assert isinstance(TabularDataset, type) and isinstance(FileDataset, type)
print("CORPUS OK")
