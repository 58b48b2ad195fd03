"""Datasets (Azure v1 face): tabular and file datasets over local paths, globs, fsspec
URLs and the default datastore; versions; and a submitted script reading its named input,
with the run's lineage recorded."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runtrack import Experiment, ScriptRunConfig, Workspace
from runtrack.errors import ConflictError, NotFoundError
from runtrack.sdk.datasets import Dataset, Datastore, FileDataset, TabularDataset


def _csvs(folder: Path) -> Path:
    (folder / "part").mkdir(parents=True)
    (folder / "part" / "a.csv").write_text("x,y\n1,2\n3,4\n")
    (folder / "part" / "b.csv").write_text("x,y\n5,6\n")
    return folder / "part"


def test_tabular_register_versions_and_read(ws: Workspace, tmp_path: Path) -> None:
    part = _csvs(tmp_path)
    ds = Dataset.Tabular.from_delimited_files(str(part / "*.csv"))
    assert ds.to_pandas_dataframe()["x"].tolist() == [1, 3, 5]
    assert ds.take(1)["y"].tolist() == [2]
    first = ds.register(ws, "points", description="xy", tags={"src": "test"})
    assert (first.name, first.version, first.id) == ("points", 1, "points:1")
    assert ds.register(ws, "points").version == 1  # same definition and files: kept
    (part / "c.csv").write_text("x,y\n7,8\n")
    with pytest.raises(ConflictError, match="create_new_version=True"):
        ds.register(ws, "points")
    second = ds.register(ws, "points", create_new_version=True)
    assert second.version == 2 and second.digest != first.digest
    got = Dataset.get_by_name(ws, "points")
    assert isinstance(got, TabularDataset) and got.version == 2
    assert got.to_pandas_dataframe()["x"].tolist() == [1, 3, 5, 7]
    assert Dataset.get_by_name(ws, "points", version=1).description == "xy"
    assert list(ws.datasets) == ["points"] and ws.datasets["points"].version == 2
    listed = Dataset.Tabular.from_delimited_files([str(part / "a.csv"), str(part / "b.csv")])
    assert len(listed.to_pandas_dataframe()) == 3


def test_parquet_and_errors(ws: Workspace, tmp_path: Path) -> None:
    import pandas as pd

    pd.DataFrame({"a": [1, 2]}).to_parquet(tmp_path / "t.parquet")
    ds = Dataset.Tabular.from_parquet_files(str(tmp_path / "t.parquet"))
    assert ds.to_pandas_dataframe()["a"].tolist() == [1, 2]
    with pytest.raises(NotFoundError, match="matches no file"):
        Dataset.Tabular.from_delimited_files(str(tmp_path / "nothing-*.csv"))
    with pytest.raises(NotFoundError, match="no dataset is registered yet"):
        Dataset.get_by_name(ws, "missing")
    ds.register(ws, "known")
    with pytest.raises(NotFoundError, match="versions are: 1"):
        Dataset.get_by_name(ws, "known", version=3)


def test_file_dataset_over_fsspec_download_and_mount(ws: Workspace, tmp_path: Path) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe("/i13data/imgs/one.txt", b"1")
    fs.pipe("/i13data/imgs/sub/two.txt", b"22")
    ds = Dataset.File.from_files("memory://i13data/imgs")
    assert sorted(ds.to_path()) == ["/one.txt", "/sub/two.txt"]
    paths = ds.download(str(tmp_path / "dl"))
    assert sorted(Path(p).relative_to(tmp_path / "dl").as_posix() for p in paths) == [
        "one.txt", "sub/two.txt"]
    with ds.mount() as ctx:
        assert (Path(ctx.mount_point) / "sub" / "two.txt").read_bytes() == b"22"
    assert not Path(ctx.mount_point).exists()  # the temporary copy is gone
    local = Dataset.File.from_files(str(tmp_path / "dl"))
    with local.mount() as ctx:  # local files are used in place
        assert ctx.mount_point == str(tmp_path / "dl")
    assert isinstance(ds.register(ws, "imgs"), FileDataset)


def test_default_datastore_upload(ws: Workspace, tmp_path: Path) -> None:
    part = _csvs(tmp_path)
    store = ws.get_default_datastore()
    assert store.name == "workspaceblobstore" and list(ws.datastores) == [store.name]
    store.upload(str(part), target_path="tables")
    with pytest.raises(FileExistsError):
        store.upload_files([str(part / "a.csv")], target_path="tables")
    store.upload_files([str(part / "a.csv")], target_path="tables", overwrite=True)
    ds = Dataset.Tabular.from_delimited_files((store, "tables/*.csv"))
    assert len(ds.to_pandas_dataframe()) == 3
    assert Datastore.get(ws, "workspaceblobstore").root == store.root
    with pytest.raises(NotFoundError, match="workspaceblobstore"):
        Datastore(ws, "other")


def test_submitted_script_reads_its_named_inputs(exp: Experiment, tmp_path: Path) -> None:
    part = _csvs(tmp_path)
    table = Dataset.Tabular.from_delimited_files(str(part / "*.csv")).register(
        exp.workspace, "points")
    files = Dataset.File.from_files(str(part))
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text(textwrap.dedent("""
        import os, sys
        from runtrack import Run
        run = Run.get_context()
        folder = sys.argv[3]
        assert run.input_datasets["raw"] == folder, (run.input_datasets, folder)
        frame = run.input_datasets["points"].to_pandas_dataframe()
        run.log("rows", len(frame))
        run.log("files", len(os.listdir(folder)))
    """))
    config = ScriptRunConfig(
        str(source), "train.py",
        arguments=["--points", table.as_named_input("points"),
                   files.as_named_input("raw").as_mount()],
    )
    assert config.arguments == ["--points", "DatasetConsumptionConfig:points", str(part)]
    run = exp.submit(config)
    run.wait_for_completion(raise_on_error=False)
    assert run.get_status() == "Completed", run.get_details()
    assert run.get_metrics() == {"rows": 3, "files": 2}
    inputs = exp.workspace.store.get_run_inputs([run.id])[run.id]
    assert [(i.name, i.dataset_name, i.dataset_version) for i in inputs] == [
        ("points", "points", 1), ("raw", None, None)]
    assert inputs[0].digest == table.digest and inputs[1].tags["mode"] == "mount"
    details = run.get_details()["inputDatasets"]
    assert details[0]["dataset"]["id"] == "points:1"
    assert details[1]["consumptionDetails"] == {"type": "RunInput", "inputName": "raw",
                                                "mechanism": "Mount"}
