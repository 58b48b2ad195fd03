# Data access code, unchanged: upload to the default datastore, register a tabular dataset,
# read it back by name as a DataFrame
from azureml.core import Dataset, Workspace
from azureml.data import OutputFileDatasetConfig

ws = Workspace.from_config()
with open("diabetes.csv", "w") as fh:
    fh.write("age,bmi,y\n50,30.5,1\n42,22.1,0\n")
default_ds = ws.get_default_datastore()
default_ds.upload_files(files=["./diabetes.csv"], target_path="diabetes-data/", overwrite=True)
tab_data_set = Dataset.Tabular.from_delimited_files(path=(default_ds, "diabetes-data/*.csv"))
tab_data_set = tab_data_set.register(
    workspace=ws, name="diabetes dataset", description="diabetes data", create_new_version=True
)
again = Dataset.get_by_name(ws, name="diabetes dataset")
frame = again.to_pandas_dataframe()
assert list(frame.columns) == ["age", "bmi", "y"] and len(frame) == 2, frame
assert again.version == 1
try:  # output datasets are not implemented: the name imports, using it says so
    OutputFileDatasetConfig(name="prepped")
    raise AssertionError("OutputFileDatasetConfig is not implemented")
except NotImplementedError as exc:
    assert "output datasets" in str(exc)
print("CORPUS OK")
