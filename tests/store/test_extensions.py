"""The store's optional extensions are protocols found with isinstance, the NewRun value
travels the wire unchanged, and a workspace reaches its stores through public names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtrack import Experiment, Workspace
from runtrack.model import NewRun, RunStatus
from runtrack.store.base import (
    LogSearchStore,
    RunRestater,
    SeriesValuesReader,
    ServesArtifacts,
    TrackingStore,
)
from runtrack.store.sql import SqlStore
from tests.inprocess import InProcessServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[InProcessServer]:
    served = InProcessServer(tmp_path / "server-ws")
    yield served
    served.close()


def test_sql_store_has_its_extensions(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'rt.db'}")
    try:
        assert isinstance(store, TrackingStore)
        for extension in (SeriesValuesReader, RunRestater, LogSearchStore):
            assert isinstance(store, extension), extension.__name__
        assert not isinstance(store, ServesArtifacts)  # its files live beside it
    finally:
        store.close()


def test_rest_store_has_its_extensions(server: InProcessServer) -> None:
    store = server.store()
    assert isinstance(store, TrackingStore)
    assert isinstance(store, LogSearchStore) and isinstance(store, ServesArtifacts)
    assert not isinstance(store, SeriesValuesReader) and not isinstance(store, RunRestater)


def test_new_run_round_trips_through_json_and_the_server(server: InProcessServer) -> None:
    store = server.store()
    exp = store.get_or_create_experiment("e")
    new = NewRun(
        exp.id, "r1", display_name="first", run_type="script", status=RunStatus.QUEUED,
        tags={"t": "1", "bare": None}, properties={"p": "x"}, compute_target="gpu",
        description="d", definition={"script": "train.py", "args": [1, 2]},
    )
    assert NewRun.from_json(new.to_json()) == new
    info = store.create_run(new)
    assert (info.id, info.display_name, info.status, info.run_type) == (
        "r1", "first", RunStatus.QUEUED, "script"
    )
    assert info.tags == {"t": "1", "bare": None} and info.properties == {"p": "x"}
    assert info.definition == {"script": "train.py", "args": [1, 2]}
    assert (info.compute_target, info.description) == ("gpu", "d")


def test_old_clients_null_collections_are_empty() -> None:
    sent: dict[str, Any] = {
        "experiment_id": "1", "run_id": "r", "display_name": "r", "run_type": "script",
        "status": "Running", "tags": None, "properties": None, "definition": None,
    }
    new = NewRun.from_json(sent)
    assert (new.tags, new.properties, new.definition) == ({}, {}, {})


def test_a_store_without_packed_reads_still_serves_metrics(server: InProcessServer,
                                                           tmp_path: Path) -> None:
    ws = Workspace(server.url, artifact_root=str(tmp_path / "files"))
    ws.store.close()
    ws.store = server.store()  # RestStore: no read_series_values
    run = Experiment(ws, "plain").start_logging(snapshot_directory=None)
    for i in range(5):
        run.log("loss", i * 0.5, step=i)
    run.log("flag", True)
    run.complete()
    assert run.get_metrics() == {"loss": [0.0, 0.5, 1.0, 1.5, 2.0], "flag": True}


def test_run_fields_follow_tag_and_property_changes(exp: Experiment) -> None:
    run = exp.start_logging(snapshot_directory=None)
    run.tag("a", 1)
    run.set_tags({"b": "two", "c": None})
    run.remove_tags(["a"])
    run.add_properties({"p": 3})
    assert run.tags == run.get_tags() == {"b": "two", "c": None}
    assert run.properties == run.get_properties() == {"p": "3"}
    run.complete()


def test_workspace_stores_are_public(ws: Workspace) -> None:
    assert isinstance(ws.store, TrackingStore)
    assert ws.settings.tracking_uri == ws.tracking_uri
    assert not hasattr(ws, "_store") and not hasattr(ws, "_artifacts")
