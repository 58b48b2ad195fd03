"""The real mlflow client against ``runtrack server``: the flows people use, and the
same runs read back through runtrack's SDK (one run, two views)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import LiveServer

pytestmark = pytest.mark.timeout(180)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _workspace(server: LiveServer) -> Any:
    from runtrack import Workspace

    return Workspace(str(server.workspace))


def test_fluent_run_is_a_runtrack_run(mlflow: Any, live_server: LiveServer, tmp_path: Path) -> None:
    exp_name = _name("fluent")
    exp_id = mlflow.set_experiment(exp_name).experiment_id
    folder = tmp_path / "upload"
    (folder / "sub").mkdir(parents=True)
    (folder / "notes.txt").write_text("hello")
    (folder / "sub" / "deep.csv").write_text("a,b\n1,2\n")
    with mlflow.start_run(run_name="parent", tags={"team": "vision"}) as run:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"optimizer": "adam", "epochs": 3})
        mlflow.set_tag("stage", "dev")
        mlflow.log_metric("loss", 1.0, step=0)
        mlflow.log_metric("loss", 0.5, step=1)
        mlflow.log_metrics({"loss": 0.25, "acc": 0.75}, step=2)
        mlflow.log_artifact(str(folder / "notes.txt"))
        mlflow.log_artifacts(str(folder), artifact_path="bundle")
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("child_metric", 7.0)
    client = mlflow.MlflowClient()
    got = client.get_run(run.info.run_id)
    assert got.info.experiment_id == exp_id
    assert got.info.run_name == "parent"
    assert got.info.status == "FINISHED"
    assert got.info.lifecycle_stage == "active"
    assert got.info.artifact_uri == f"mlflow-artifacts:/{exp_id}/{run.info.run_id}/artifacts"
    assert got.data.params == {"lr": "0.01", "optimizer": "adam", "epochs": "3"}
    assert got.data.metrics == {"loss": 0.25, "acc": 0.75}
    assert got.data.tags["team"] == "vision"
    assert got.data.tags["stage"] == "dev"
    assert got.data.tags["mlflow.runName"] == "parent"
    child_run = client.get_run(child.info.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == run.info.run_id
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5), (2, 0.25)]
    assert all(abs(m.timestamp / 1000 - time.time()) < 600 for m in history)

    # the same run through runtrack's SDK, on the server's SQLite workspace
    from runtrack import Run

    ws = _workspace(live_server)
    try:
        rt = Run.get(ws, run.info.run_id)
        assert rt.get_metrics() == {"loss": [1.0, 0.5, 0.25], "acc": 0.75}
        assert rt.get_properties() == {"lr": "0.01", "optimizer": "adam", "epochs": "3"}
        assert rt.get_tags()["stage"] == "dev"
        assert rt.display_name == "parent"
        assert rt.get_status() == "Completed"
        assert rt.type == "mlflow"
        assert rt.experiment.name == exp_name
        assert set(rt.get_file_names()) == {"notes.txt", "bundle/notes.txt", "bundle/sub/deep.csv"}
        children = list(rt.get_children())
        assert [c.id for c in children] == [child.info.run_id]
        assert children[0].get_metrics() == {"child_metric": 7.0}
    finally:
        ws.close()


def test_artifacts_list_and_download(mlflow: Any, tmp_path: Path) -> None:
    mlflow.set_experiment(_name("artifacts"))
    src = tmp_path / "src"
    (src / "odd dir").mkdir(parents=True)
    (src / "top.txt").write_text("top")
    (src / "odd dir" / "epoch=1-step=16.ckpt").write_bytes(b"\x00\x01" * 1000)
    (src / "empty.bin").write_bytes(b"")
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(src), artifact_path="out")
        mlflow.log_text("just text", "notes/readme.md")
    client = mlflow.MlflowClient()
    top = {(f.path, f.is_dir) for f in client.list_artifacts(run.info.run_id)}
    assert top == {("out", True), ("notes", True)}
    inner = {f.path: f.file_size for f in client.list_artifacts(run.info.run_id, "out")}
    assert inner == {"out/top.txt": 3, "out/odd dir": None, "out/empty.bin": None}
    target = tmp_path / "down"
    target.mkdir()
    local = Path(client.download_artifacts(run.info.run_id, "out", str(target)))
    assert (local / "top.txt").read_text() == "top"
    assert (local / "odd dir" / "epoch=1-step=16.ckpt").read_bytes() == b"\x00\x01" * 1000
    assert (local / "empty.bin").read_bytes() == b""
    assert mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/notes/readme.md") == "just text"


def test_long_metric_history_is_paged(mlflow: Any, live_server: LiveServer) -> None:
    from mlflow.entities import Metric

    mlflow.set_experiment(_name("history"))
    client = mlflow.MlflowClient()
    run = client.create_run(mlflow.get_experiment_by_name(
        mlflow.get_experiment(mlflow.tracking.fluent._get_experiment_id()).name
    ).experiment_id)
    count = 25_500
    now = int(time.time() * 1000)
    points = [Metric("series", float(i) / 7, now + i, i) for i in range(count)]
    client.log_batch(run.info.run_id, metrics=points)
    first = httpx.get(
        f"{live_server.url}/api/2.0/mlflow/metrics/get-history",
        params={"run_id": run.info.run_id, "metric_key": "series", "max_results": 25_000},
        timeout=60,
    ).json()
    assert len(first["metrics"]) == 25_000
    assert json.loads(base64.urlsafe_b64decode(first["next_page_token"])) == {"offset": 25_000}
    history = client.get_metric_history(run.info.run_id, "series")
    assert len(history) == count
    assert [m.step for m in history] == list(range(count))
    assert history[-1].value == pytest.approx((count - 1) / 7)
    assert history[123].timestamp == now + 123
    assert client.get_run(run.info.run_id).data.metrics["series"] == pytest.approx((count - 1) / 7)


def test_search_runs_filter_order_and_pages(mlflow: Any) -> None:
    exp_id = mlflow.set_experiment(_name("search")).experiment_id
    ids = {}
    for name, lr, score, stage in (("a", "0.1", 0.5, "dev"), ("b", "0.01", 0.9, "prod"),
                                   ("c", "0.001", 0.7, "prod"), ("d", "0.01", 0.2, "dev")):
        with mlflow.start_run(run_name=name, tags={"stage": stage}) as run:
            mlflow.log_param("lr", lr)
            mlflow.log_metric("score", score)
        ids[name] = run.info.run_id
    with mlflow.start_run(run_name="no-score"):
        mlflow.log_param("lr", "0.5")

    def names(**kwargs: Any) -> list[str]:
        found = mlflow.search_runs([exp_id], output_format="list", **kwargs)
        return [r.info.run_name for r in found]

    assert names(filter_string="metrics.score > 0.4", order_by=["metrics.score DESC"]) == [
        "b", "c", "a"]
    assert names(filter_string="params.lr = '0.01' and tags.stage = 'dev'") == ["d"]
    # params sort as strings; ties keep the default order (newest first)
    assert names(filter_string="params.lr LIKE '0.0%'", order_by=["params.lr ASC"]) == [
        "c", "d", "b"]
    assert names(filter_string="tags.stage ILIKE 'PR%'", order_by=["attributes.run_name"]) == [
        "b", "c"]
    assert names(filter_string=f"attributes.run_id IN ('{ids['a']}', '{ids['c']}')",
                 order_by=["run_name DESC"]) == ["c", "a"]
    assert names(filter_string="attributes.status = 'FINISHED' and metrics.score <= 0.2") == ["d"]
    # runs without the metric sort last in both directions; default order is newest first
    assert names(order_by=["metrics.score ASC"])[-1] == "no-score"
    assert names(order_by=["metrics.score DESC"])[-1] == "no-score"
    assert names() == ["no-score", "d", "c", "b", "a"]
    client = mlflow.MlflowClient()
    page1 = client.search_runs([exp_id], max_results=2, order_by=["attributes.run_name ASC"])
    assert [r.info.run_name for r in page1] == ["a", "b"] and page1.token
    page2 = client.search_runs([exp_id], max_results=2, order_by=["attributes.run_name ASC"],
                               page_token=page1.token)
    page3 = client.search_runs([exp_id], max_results=2, order_by=["attributes.run_name ASC"],
                               page_token=page2.token)
    assert [r.info.run_name for r in page2] == ["c", "d"]
    assert [r.info.run_name for r in page3] == ["no-score"] and not page3.token
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="only AND"):
        client.search_runs([exp_id], filter_string="metrics.score > 1 OR metrics.score < 0")


def test_search_and_manage_experiments(mlflow: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    client = mlflow.MlflowClient()
    first = client.create_experiment(f"team-{tag}/one", tags={"owner": "ci"})
    second = client.create_experiment(f"team-{tag}/two")
    found = mlflow.search_experiments(filter_string=f"name LIKE 'team-{tag}/%'",
                                      order_by=["name DESC"])
    assert [e.name for e in found] == [f"team-{tag}/two", f"team-{tag}/one"]
    assert [e.experiment_id for e in mlflow.search_experiments(
        filter_string=f"tags.owner = 'ci' and name LIKE 'team-{tag}%'")] == [first]
    client.set_experiment_tag(second, "note", "x")
    assert client.get_experiment(second).tags == {"note": "x"}
    client.rename_experiment(second, f"team-{tag}/renamed")
    assert client.get_experiment_by_name(f"team-{tag}/renamed").experiment_id == second
    client.delete_experiment(first)
    assert client.get_experiment(first).lifecycle_stage == "deleted"
    active = {e.experiment_id for e in mlflow.search_experiments()}
    deleted = {e.experiment_id for e in mlflow.search_experiments(view_type=2)}
    assert first not in active and first in deleted and second in active
    client.restore_experiment(first)
    assert client.get_experiment(first).lifecycle_stage == "active"
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="RESOURCE_ALREADY_EXISTS"):
        client.create_experiment(f"team-{tag}/one")
    assert client.get_experiment_by_name(f"missing-{tag}") is None


def test_delete_and_restore_run(mlflow: Any, live_server: LiveServer) -> None:
    exp_id = mlflow.set_experiment(_name("delete")).experiment_id
    with mlflow.start_run() as keep:
        pass
    with mlflow.start_run() as doomed:
        mlflow.log_metric("m", 1)
    client = mlflow.MlflowClient()
    client.delete_run(doomed.info.run_id)
    assert client.get_run(doomed.info.run_id).info.lifecycle_stage == "deleted"
    active = [r.info.run_id for r in client.search_runs([exp_id])]
    assert active == [keep.info.run_id]
    deleted = [r.info.run_id for r in client.search_runs([exp_id], run_view_type=2)]
    assert deleted == [doomed.info.run_id]
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="active"):
        client.log_metric(doomed.info.run_id, "m", 2)
    client.restore_run(doomed.info.run_id)
    assert len(client.search_runs([exp_id])) == 2
    assert "mlflow.lifecycleStage" not in client.get_run(doomed.info.run_id).data.tags


def test_default_experiment_is_id_zero(mlflow: Any, live_server: LiveServer) -> None:
    with mlflow.start_run() as run:
        mlflow.log_metric("x", 1)
    assert run.info.experiment_id == "0"
    assert mlflow.get_experiment("0").name == "Default"
    ws = _workspace(live_server)
    try:
        from runtrack import Run

        assert Run.get(ws, run.info.run_id).experiment.name == "Default"
    finally:
        ws.close()


def test_params_are_immutable_and_tags_mutable(mlflow: Any) -> None:
    from mlflow.exceptions import MlflowException

    mlflow.set_experiment(_name("params"))
    with mlflow.start_run() as run:
        mlflow.log_param("p", "1")
        mlflow.log_param("p", "1")  # same value: fine
        with pytest.raises(MlflowException) as caught:
            mlflow.log_param("p", "2")
        assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
        mlflow.set_tag("t", "1")
        mlflow.set_tag("t", "2")
        mlflow.set_tag("mlflow.runName", "renamed")
        client = mlflow.MlflowClient()
        client.delete_tag(run.info.run_id, "t")
        with pytest.raises(MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
            client.delete_tag(run.info.run_id, "t")
    got = mlflow.MlflowClient().get_run(run.info.run_id)
    assert got.data.params == {"p": "1"}
    assert "t" not in got.data.tags
    assert got.info.run_name == "renamed"


def test_wire_errors_have_mlflow_shape(live_server: LiveServer) -> None:
    base = f"{live_server.url}/api/2.0/mlflow"
    miss = httpx.get(f"{base}/experiments/get-by-name", params={"experiment_name": "nope-x"})
    assert miss.status_code == 404
    assert miss.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    run = httpx.get(f"{base}/runs/get", params={"run_id": "0" * 32})
    assert (run.status_code, run.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    bad = httpx.post(f"{base}/runs/search", json={"experiment_ids": ["0"], "filter": "x ~ 1"})
    assert (bad.status_code, bad.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    for method, path in (("GET", "/api/3.0/mlflow/server-info"),
                         ("POST", "/api/2.0/mlflow/traces"),
                         ("POST", "/api/2.0/mlflow/runs/log-model")):
        answer = httpx.request(method, f"{live_server.url}{path}", json={})
        assert answer.status_code == 404, path
        assert answer.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    mpu = httpx.post(f"{live_server.url}/api/2.0/mlflow-artifacts/mpu/create/0/x", json={})
    assert (mpu.status_code, mpu.json()["error_code"]) == (501, "NOT_IMPLEMENTED")
    unsafe = httpx.put(f"{live_server.url}/api/2.0/mlflow-artifacts/artifacts/0/r/artifacts/a%23b",
                       content=b"x")
    assert unsafe.status_code == 400
    nan = httpx.post(f"{base}/runs/log-metric", json={"run_id": "0" * 32, "key": "k",
                                                      "value": "NaN", "timestamp": 1})
    assert nan.status_code == 404


def test_nan_and_infinity_round_trip(mlflow: Any) -> None:
    import math

    mlflow.set_experiment(_name("nan"))
    with mlflow.start_run() as run:
        mlflow.log_metric("odd", float("nan"), step=0)
        mlflow.log_metric("odd", float("inf"), step=1)
        mlflow.log_metric("neg", float("-inf"))
    client = mlflow.MlflowClient()
    values = [m.value for m in client.get_metric_history(run.info.run_id, "odd")]
    assert math.isnan(values[0]) and values[1] == math.inf
    metrics = client.get_run(run.info.run_id).data.metrics
    assert metrics["odd"] == math.inf and metrics["neg"] == -math.inf


@pytest.mark.parametrize(
    "raw_path",
    ["0/%2e%2e/x/artifacts/a.txt", "0/r/artifacts/%2e%2e/%2e%2e/secret.txt",
     "0/r/artifacts/a%5C..%5Cb", "0/r/artifacts/a%00b", "0/.mlflow/artifacts/runs/x/io.json",
     "%2Fetc%2Fpasswd"],
)
def test_artifact_proxy_paths_are_confined(live_server: LiveServer, raw_path: str) -> None:
    url = f"{live_server.url}/api/2.0/mlflow-artifacts/artifacts/{raw_path}"
    with httpx.Client() as client:
        for method in ("GET", "PUT"):
            request = client.build_request(method, url, content=b"x")
            request.url = httpx.URL(url)  # keep the encoded form as sent
            answer = client.send(request)
            assert answer.status_code in (400, 404), (method, raw_path, answer.text)
            assert answer.json()["error_code"] in (
                "INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST", "ENDPOINT_NOT_FOUND")
    unknown_model = httpx.put(
        f"{live_server.url}/api/2.0/mlflow-artifacts/artifacts/0/models/m-x/artifacts/f",
        content=b"x")
    assert unknown_model.status_code == 404
