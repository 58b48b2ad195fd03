"""The real mlflow client's model registry against ``runtrack server``: register,
versions, aliases, tags, stages, searches, ``models:/`` downloads, and the same rows
seen through runtrack's Azure-shaped ``Model``."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import LiveServer

pytestmark = [
    pytest.mark.timeout(300),
    # mlflow.sklearn.log_model warns about its own type hints and pip inference
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
]


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _fit(alpha: float) -> Any:
    from sklearn.linear_model import Ridge

    return Ridge(alpha=alpha).fit([[0.0], [1.0], [2.0]], [0.0, 1.0, 2.5])


def test_register_alias_download(mlflow: Any, live_server: LiveServer, tmp_path: Path) -> None:
    import mlflow.sklearn

    mlflow.set_experiment(_name("registry"))
    name = _name("ridge")
    runs = []
    for alpha in (0.1, 1.0):
        with mlflow.start_run() as run:
            mlflow.sklearn.log_model(_fit(alpha), name="model", pip_requirements=[])
        runs.append(run.info.run_id)
        registered = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
        assert registered.status == "READY"
    client = mlflow.MlflowClient()
    v1 = client.get_model_version(name, "1")
    assert (v1.version, v1.run_id, v1.current_stage) == ("1", runs[0], "None")
    assert client.get_registered_model(name).latest_versions[0].version == "2"

    client.set_registered_model_alias(name, "champion", "1")
    assert client.get_model_version_by_alias(name, "champion").version == "1"
    by_alias = mlflow.sklearn.load_model(f"models:/{name}@champion")
    by_number = mlflow.sklearn.load_model(f"models:/{name}/2")
    assert by_alias.alpha == 0.1 and by_number.alpha == 1.0
    local = mlflow.artifacts.download_artifacts(f"models:/{name}/1", dst_path=str(tmp_path / "d"))
    assert (Path(local) / "MLmodel").is_file()

    client.set_registered_model_tag(name, "team", "vision")
    client.set_model_version_tag(name, "2", "validated", "yes")
    client.delete_model_version_tag(name, "2", "validated")
    client.set_model_version_tag(name, "1", "validated", "yes")
    client.update_registered_model(name, description="ridge models")
    client.update_model_version(name, "2", description="bigger alpha")
    client.transition_model_version_stage(name, "2", "Production")
    assert [v.version for v in client.get_latest_versions(name, stages=["Production"])] == ["2"]

    found = client.search_registered_models(filter_string=f"name = '{name}'")
    assert [m.name for m in found] == [name] and found[0].tags == {"team": "vision"}
    assert found[0].description == "ridge models" and found[0].aliases == {"champion": "1"}
    assert name in [m.name for m in client.search_registered_models("name LIKE 'ridge-%'")]
    versions = client.search_model_versions(f"name = '{name}' AND tags.validated = 'yes'")
    assert [v.version for v in versions] == ["1"]
    assert [v.version for v in client.search_model_versions(f"run_id = '{runs[1]}'")] == ["2"]

    client.delete_registered_model_alias(name, "champion")
    client.delete_model_version(name, "1")
    assert [v.version for v in client.search_model_versions(f"name = '{name}'")] == ["2"]
    client.rename_registered_model(name, name + "-x")
    assert client.get_model_version(name + "-x", "2").description == "bigger alpha"
    client.delete_registered_model(name + "-x")
    assert client.search_registered_models(f"name = '{name}-x'") == []


def test_errors_in_mlflow_shape(mlflow: Any, live_server: LiveServer) -> None:
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    name = _name("known")
    client.create_registered_model(name)
    with pytest.raises(MlflowException, match="already exists") as exists:
        client.create_registered_model(name)
    assert exists.value.error_code == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(MlflowException, match=name) as missing:
        client.get_registered_model("nope")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException, match="versions are: none"):
        client.get_model_version(name, "3")
    with pytest.raises(MlflowException, match="reserved"):
        client.set_registered_model_alias(name, "latest", "1")
    with pytest.raises(MlflowException, match="OR"):
        client.search_model_versions("name = 'a' OR name = 'b'")


def test_one_registry_two_faces(mlflow: Any, live_server: LiveServer, tmp_path: Path) -> None:
    import mlflow.sklearn

    from runtrack import Workspace
    from runtrack.sdk.models import Model

    ws = Workspace(live_server.url)
    try:
        weights = tmp_path / "weights.bin"
        weights.write_bytes(b"azure-face")
        Model.register(ws, str(weights), "shared-model", tags={"from": "azure"})
        mlflow.set_experiment(_name("faces"))
        with mlflow.start_run() as run:
            mlflow.sklearn.log_model(_fit(0.5), name="model", pip_requirements=[])
        mlflow.register_model(f"runs:/{run.info.run_id}/model", "shared-model")

        client = mlflow.MlflowClient()
        v1 = client.get_model_version("shared-model", "1")
        assert v1.tags == {"from": "azure"}
        got = mlflow.artifacts.download_artifacts("models:/shared-model/1",
                                                  dst_path=str(tmp_path / "m1"))
        assert (Path(got) / "weights.bin").read_bytes() == b"azure-face"

        v2 = Model(ws, "shared-model")
        assert (v2.version, v2.run_id) == (2, run.info.run_id)
        folder = Path(v2.download(str(tmp_path / "m2")))
        assert (folder / "MLmodel").is_file()
        assert [m.version for m in Model.list(ws, name="shared-model")] == [2, 1]
    finally:
        ws.close()
