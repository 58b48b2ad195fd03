"""The real mlflow client against ``runtrack server``, one test per fidelity rule of
docs/mlflow.md (issue #14): types, wording, client clocks, resumed runs, the Default
experiment, artifact locations, logged models, MLflow's latest value, SQL searches,
replayed requests and the web UI's chart route."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from tests.live_server import LiveServer

pytestmark = pytest.mark.timeout(180)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_wrong_types_and_changed_params_raise_mlflow_exceptions(mlflow: Any) -> None:
    from mlflow.exceptions import MlflowException, RestException
    from mlflow.protos.service_pb2 import CreateExperiment

    client = mlflow.MlflowClient()
    store = client._tracking_client.store  # the client's own REST store, raw JSON body
    with pytest.raises(RestException, match="Invalid value 123 for parameter 'name'"):
        store._call_endpoint(CreateExperiment, '{"name": 123}')
    exp_id = client.create_experiment(_name("types"))
    run = client.create_run(exp_id)
    client.log_param(run.info.run_id, "lr", "0.1")
    with pytest.raises(MlflowException, match="Changing param values is not allowed"):
        client.log_param(run.info.run_id, "lr", "0.2")


def test_client_times_and_resumed_runs(mlflow: Any) -> None:
    client = mlflow.MlflowClient()
    exp_id = client.create_experiment(_name("times"))
    run = client.create_run(exp_id, start_time=456)
    assert run.info.start_time == 456
    client.set_terminated(run.info.run_id, "FINISHED", end_time=789)
    ended = client.get_run(run.info.run_id).info
    assert (ended.status, ended.end_time) == ("FINISHED", 789)
    mlflow.set_experiment(experiment_id=exp_id)
    with mlflow.start_run(run_id=run.info.run_id):  # resume the finished run
        assert client.get_run(run.info.run_id).info.status == "RUNNING"
        mlflow.log_metric("after_resume", 1.0)
    again = client.get_run(run.info.run_id)
    assert again.info.status == "FINISHED"
    assert again.info.end_time >= ended.end_time
    assert again.data.metrics == {"after_resume": 1.0}


def test_default_experiment_and_artifact_location(mlflow: Any) -> None:
    client = mlflow.MlflowClient()
    names = {e.experiment_id: e.name for e in client.search_experiments()}
    assert names["0"] == "Default"
    exp_id = client.create_experiment(_name("loc"), artifact_location="s3://bucket/prefix")
    assert client.get_experiment(exp_id).artifact_location == "s3://bucket/prefix"


def test_logged_model_with_unknown_source_run(mlflow: Any) -> None:
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    exp_id = client.create_experiment(_name("models"))
    model = client.create_logged_model(exp_id, name="m", source_run_id=uuid.uuid4().hex)
    assert model.model_id.startswith("m-")
    with pytest.raises(MlflowException, match="datasets"):
        client.search_logged_models([exp_id], datasets=[{"dataset_name": "train"}])


def test_latest_value_and_search_follow_the_highest_step(mlflow: Any) -> None:
    client = mlflow.MlflowClient()
    exp_id = client.create_experiment(_name("latest"))
    ids = {}
    for name, (at_step_9, at_step_1) in {"low": (0.1, 0.9), "high": (0.8, 0.2)}.items():
        run = client.create_run(exp_id, run_name=name)
        client.log_metric(run.info.run_id, "acc", at_step_9, step=9)
        client.log_metric(run.info.run_id, "acc", at_step_1, step=1)  # arrives last
        ids[name] = run.info.run_id
    assert client.get_run(ids["low"]).data.metrics == {"acc": 0.1}
    found = mlflow.search_runs([exp_id], filter_string="metrics.acc > 0.5",
                               order_by=["metrics.acc DESC"])
    assert list(found["run_id"]) == [ids["high"]]
    ordered = client.search_runs([exp_id], order_by=["metrics.acc ASC"])
    assert [r.info.run_id for r in ordered] == [ids["low"], ids["high"]]


def test_replayed_log_batch_is_not_doubled(mlflow: Any, live_server: LiveServer) -> None:
    client = mlflow.MlflowClient()
    run = client.create_run(client.create_experiment(_name("replay")))
    body = {"run_id": run.info.run_id, "metrics": [
        {"key": "loss", "value": 0.5, "timestamp": int(time.time() * 1000), "step": 3}]}
    for _ in range(2):  # the client's retry after the first answer was lost
        answer = httpx.post(f"{live_server.url}/api/2.0/mlflow/runs/log-batch", json=body)
        assert answer.status_code == 200, answer.text
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(3, 0.5)]


def test_web_ui_chart_route(mlflow: Any, live_server: LiveServer) -> None:
    client = mlflow.MlflowClient()
    run = client.create_run(client.create_experiment(_name("chart")))
    for step in range(50):
        client.log_metric(run.info.run_id, "loss", 1 / (step + 1), step=step)
    answer = httpx.get(
        f"{live_server.url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
        params=[("run_ids", run.info.run_id), ("metric_key", "loss"), ("max_results", "5")])
    assert answer.status_code == 200, answer.text
    steps = [m["step"] for m in answer.json()["metrics"]]
    assert steps[0] == 0 and steps[-1] == 49 and len(steps) <= 6
