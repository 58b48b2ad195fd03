"""MLflow's documented REST behaviour, request by request, against runtrack's MLflow face
(a real ``runtrack server`` over SQLite). Each test names the MLflow rule it pins."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import LiveServer

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"


@pytest.fixture(scope="module")
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


def _ok(answer: Any) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


def _error(answer: Any, status: int, code: str) -> str:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error_code"] == code, body
    message: str = body["message"]
    return message


def _experiment(api: httpx.Client) -> str:
    name = f"exp-{uuid.uuid4().hex[:8]}"
    return str(_ok(api.post(f"{API}/experiments/create", json={"name": name}))["experiment_id"])


def _run(api: httpx.Client, exp_id: str | None = None, **fields: Any) -> dict[str, Any]:
    body = {"experiment_id": exp_id or _experiment(api), **fields}
    run: dict[str, Any] = _ok(api.post(f"{API}/runs/create", json=body))["run"]
    return run


def _log(api: httpx.Client, run_id: str, key: str, value: float, step: int, ts: int) -> None:
    _ok(api.post(f"{API}/runs/log-metric",
                 json={"run_id": run_id, "key": key, "value": value, "step": step,
                       "timestamp": ts}))


# -- 1. routes: the web UI's /ajax-api twins and artifacts/list ------------------------------


def test_every_route_has_its_ajax_api_twin(api: httpx.Client) -> None:
    run = _run(api)
    run_id = run["info"]["run_id"]
    _log(api, run_id, "loss", 1.0, 0, 1000)
    history = _ok(api.get(f"{AJAX}/metrics/get-history",
                          params={"run_id": run_id, "metric_key": "loss"}))
    assert [m["value"] for m in history["metrics"]] == [1.0]
    got = _ok(api.get(f"{AJAX}/runs/get", params={"run_id": run_id}))
    assert got["run"]["info"]["run_id"] == run_id
    _error(api.get(f"{AJAX}/no-such-route"), 404, "ENDPOINT_NOT_FOUND")


def test_history_bulk_lists_points_of_several_runs(api: httpx.Client) -> None:
    exp_id = _experiment(api)
    first, second = (_run(api, exp_id)["info"]["run_id"] for _ in range(2))
    for step in range(3):
        _log(api, first, "acc", step / 10, step, 1000 + step)
    _log(api, second, "acc", 0.5, 7, 5000)
    data = _ok(api.get(f"{AJAX}/metrics/get-history-bulk",
                       params=[("run_id", first), ("run_id", second), ("metric_key", "acc")]))
    got = sorted((m["run_id"], m["step"], m["value"]) for m in data["metrics"])
    assert got == sorted([(first, 0, 0.0), (first, 1, 0.1), (first, 2, 0.2), (second, 7, 0.5)])
    message = _error(api.get(f"{AJAX}/metrics/get-history-bulk", params={"metric_key": "acc"}),
                     400, "INVALID_PARAMETER_VALUE")
    assert message == "GetMetricHistoryBulk request must specify at least one run_id."


def test_history_bulk_interval_samples_steps_and_keeps_the_ends(api: httpx.Client) -> None:
    exp_id = _experiment(api)
    long_run, short_run = (_run(api, exp_id)["info"]["run_id"] for _ in range(2))
    _ok(api.post(f"{API}/runs/log-batch", json={"run_id": long_run, "metrics": [
        {"key": "loss", "value": float(s), "step": s, "timestamp": 1000 + s} for s in range(100)
    ]}))
    for step in (3, 41):
        _log(api, short_run, "loss", -1.0, step, 2000 + step)
    data = _ok(api.get(f"{AJAX}/metrics/get-history-bulk-interval",
                       params=[("run_ids", long_run), ("run_ids", short_run),
                               ("metric_key", "loss"), ("max_results", "10")]))
    long_steps = [m["step"] for m in data["metrics"] if m["run_id"] == long_run]
    short_steps = [m["step"] for m in data["metrics"] if m["run_id"] == short_run]
    assert long_steps == sorted(long_steps)
    assert {0, 99, 3, 41} <= set(long_steps)  # every run's first and last step survive
    assert len(long_steps) <= 10 + 4
    assert short_steps == [3, 41]
    window = _ok(api.get(f"{API}/metrics/get-history-bulk-interval",
                         params=[("run_ids", long_run), ("metric_key", "loss"),
                                 ("start_step", "10"), ("end_step", "20")]))
    assert [m["step"] for m in window["metrics"]] == list(range(10, 21))
    message = _error(api.get(f"{API}/metrics/get-history-bulk-interval",
                             params=[("run_ids", long_run), ("metric_key", "loss"),
                                     ("start_step", "10")]),
                     400, "INVALID_PARAMETER_VALUE")
    assert "both must be specified" in message
    message = _error(api.get(f"{API}/metrics/get-history-bulk-interval",
                             params=[("run_ids", long_run), ("metric_key", "loss"),
                                     ("max_results", "0")]),
                     400, "INVALID_PARAMETER_VALUE")
    assert message == "max_results must be between 1 and 2500."


def test_artifacts_list_and_upload_artifact(api: httpx.Client) -> None:
    run = _run(api)
    run_id = run["info"]["run_id"]
    _ok(api.post(f"{AJAX}/upload-artifact", params={"run_uuid": run_id, "path": "dir/a.txt"},
                 content=b"hello"))
    listed = _ok(api.get(f"{API}/artifacts/list", params={"run_id": run_id}))
    assert listed["root_uri"] == run["info"]["artifact_uri"]
    assert listed["files"] == [{"path": "dir", "is_dir": True}]
    inner = _ok(api.get(f"{AJAX}/artifacts/list", params={"run_id": run_id, "path": "dir"}))
    assert inner["files"] == [{"path": "a.txt", "is_dir": False, "file_size": 5}]
    message = _error(api.get(f"{API}/artifacts/list",
                             params={"run_id": run_id, "path": "../path"}),
                     400, "INVALID_PARAMETER_VALUE")
    assert message.startswith("Invalid path")
    _error(api.post(f"{AJAX}/upload-artifact", params={"run_uuid": run_id, "path": "x"}),
           400, "INVALID_PARAMETER_VALUE")
    # MLflow serves upload-artifact to its web UI only
    _error(api.post(f"{API}/upload-artifact", params={"run_uuid": run_id, "path": "x"},
                    content=b"1"), 404, "ENDPOINT_NOT_FOUND")


# -- 2. field types, checked as MLflow's server checks them --------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field", "shown", "type_name"),
    [
        ("/experiments/create", {"name": 123}, "name", "123", "int"),
        ("/runs/get", {"run_id": 31}, "run_id", "31", "int"),
        ("/runs/create", {"experiment_id": "0", "start_time": "soon"}, "start_time",
         '"soon"', "str"),
        ("/runs/search", {"experiment_ids": "0"}, "experiment_ids", '"0"', "str"),
        ("/runs/search", {"experiment_ids": ["0"], "order_by": [1]}, "order_by", "[1]",
         "list"),
    ],
)
def test_wrong_field_types_are_invalid_parameter_value(
    api: httpx.Client, path: str, body: dict[str, Any], field: str, shown: str, type_name: str
) -> None:
    method = "GET" if path == "/runs/get" else "POST"
    answer = api.request(method, f"{API}{path}", json=body)
    message = _error(answer, 400, "INVALID_PARAMETER_VALUE")
    assert message == (
        f"Invalid value {shown} for parameter '{field}' supplied:  Hint: Value was of type "
        f"'{type_name}'. See the API docs for more information about request parameters."
    )


def test_set_tag_value_must_be_a_string(api: httpx.Client) -> None:
    run_id = _run(api)["info"]["run_id"]
    answer = api.post(f"{API}/runs/set-tag", json={"run_id": run_id, "key": "k", "value": 41})
    assert "for parameter 'value'" in _error(answer, 400, "INVALID_PARAMETER_VALUE")
    got = _ok(api.get(f"{API}/runs/get", params={"run_id": run_id}))
    assert "k" not in {t["key"] for t in got["run"]["data"]["tags"]}


def test_missing_required_field_has_mlflows_message(api: httpx.Client) -> None:
    message = _error(api.post(f"{API}/experiments/create", json={}), 400,
                     "INVALID_PARAMETER_VALUE")
    assert message == ("Missing value for required parameter 'name'. See the API docs for "
                       "more information about request parameters.")


def test_numbers_as_decimal_strings_are_accepted(api: httpx.Client) -> None:
    run_id = _run(api, start_time="1700000000123")["info"]["run_id"]
    _ok(api.post(f"{API}/runs/log-metric", json={
        "run_id": run_id, "key": "m", "value": "0.5", "timestamp": "1700000000999", "step": "3"}))
    history = _ok(api.get(f"{API}/metrics/get-history", params={"run_id": run_id,
                                                                "metric_key": "m"}))
    assert history["metrics"] == [{"key": "m", "value": 0.5, "timestamp": 1700000000999,
                                   "step": 3}]


# -- 3. MLflow's wording where its clients and tests match it --------------------------------


def test_log_batch_limits_use_mlflows_wording(api: httpx.Client) -> None:
    run_id = _run(api)["info"]["run_id"]
    params = [{"key": f"p{i}", "value": "v"} for i in range(101)]
    message = _error(api.post(f"{API}/runs/log-batch", json={"run_id": run_id,
                                                             "params": params}),
                     400, "INVALID_PARAMETER_VALUE")
    assert message == ("A batch logging request can contain at most 100 params. Got 101 "
                       "params. Please split up params across multiple requests and try again.")
    missing = api.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": [
        {"key": "a", "value": 1.0, "timestamp": 1}, {"key": "b", "value": 2.0}]})
    assert "'metrics[1].timestamp'" in _error(missing, 400, "INVALID_PARAMETER_VALUE")


def test_search_max_results_out_of_range(api: httpx.Client) -> None:
    message = _error(api.post(f"{API}/runs/search", json={"experiment_ids": ["0"],
                                                          "max_results": 50001}),
                     400, "INVALID_PARAMETER_VALUE")
    assert message.startswith("Invalid value 50001 for parameter 'max_results' supplied")
    message = _error(api.post(f"{API}/runs/search", json={"experiment_ids": ["0"],
                                                          "max_results": 0}),
                     400, "INVALID_PARAMETER_VALUE")
    assert "It must be a positive integer" in message


def test_changed_param_values_are_refused_in_mlflows_words(api: httpx.Client) -> None:
    run_id = _run(api)["info"]["run_id"]
    _ok(api.post(f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "lr",
                                                    "value": "0.1"}))
    message = _error(api.post(f"{API}/runs/log-parameter",
                              json={"run_id": run_id, "key": "lr", "value": "0.2"}),
                     400, "INVALID_PARAMETER_VALUE")
    assert message == (
        f"Changing param values is not allowed. Param with key='lr' was already logged with "
        f"value='0.1' for run ID='{run_id}'. Attempted logging new value '0.2'."
    )
    message = _error(api.post(f"{API}/runs/log-batch", json={
        "run_id": run_id, "params": [{"key": "lr", "value": "0.3"}]}),
        400, "INVALID_PARAMETER_VALUE")
    assert message.startswith("Changing param values is not allowed. Params were already logged=")


# -- 4/5. the client's clock, and resumed runs ---------------------------------------------


def test_client_start_and_end_times_are_kept(api: httpx.Client) -> None:
    run = _run(api, start_time=456)
    assert run["info"]["start_time"] == 456
    run_id = run["info"]["run_id"]
    info = _ok(api.post(f"{API}/runs/update", json={"run_id": run_id, "status": "FINISHED",
                                                    "end_time": 789}))["run_info"]
    assert (info["status"], info["start_time"], info["end_time"]) == ("FINISHED", 456, 789)


def test_search_orders_by_client_start_time(api: httpx.Client) -> None:
    exp_id = _experiment(api)
    late = _run(api, exp_id, start_time=2000)["info"]["run_id"]
    early = _run(api, exp_id, start_time=1000)["info"]["run_id"]
    found = _ok(api.post(f"{API}/runs/search", json={"experiment_ids": [exp_id]}))["runs"]
    assert [r["info"]["run_id"] for r in found] == [late, early]
    found = _ok(api.post(f"{API}/runs/search", json={
        "experiment_ids": [exp_id], "order_by": ["attributes.start_time ASC"]}))["runs"]
    assert [r["info"]["run_id"] for r in found] == [early, late]


def test_finished_run_can_be_resumed_and_ended_again(api: httpx.Client) -> None:
    run_id = _run(api, start_time=100)["info"]["run_id"]
    _ok(api.post(f"{API}/runs/update", json={"run_id": run_id, "status": "FINISHED",
                                             "end_time": 200}))
    resumed = _ok(api.post(f"{API}/runs/update", json={"run_id": run_id,
                                                       "status": "RUNNING"}))["run_info"]
    assert resumed["status"] == "RUNNING"
    ended = _ok(api.post(f"{API}/runs/update", json={"run_id": run_id, "status": "KILLED",
                                                     "end_time": 300}))["run_info"]
    assert (ended["status"], ended["end_time"]) == ("KILLED", 300)


# -- 6/7. the Default experiment and client artifact locations -------------------------------


def test_fresh_server_lists_the_default_experiment(tmp_path: Path) -> None:
    from tests.live_server import start_server

    server = start_server(tmp_path)
    try:
        found = httpx.post(f"{server.url}{API}/experiments/search", json={}).json()
    finally:
        server.stop()
    assert [(e["experiment_id"], e["name"]) for e in found["experiments"]] == [("0", "Default")]


def test_experiment_artifact_location_is_stored_and_served_back(
    api: httpx.Client, tmp_path: Path
) -> None:
    name = f"loc-{uuid.uuid4().hex[:8]}"
    exp_id = _ok(api.post(f"{API}/experiments/create", json={
        "name": name, "artifact_location": "s3://bucket/some/where"}))["experiment_id"]
    got = _ok(api.get(f"{API}/experiments/get", params={"experiment_id": exp_id}))
    assert got["experiment"]["artifact_location"] == "s3://bucket/some/where"
    assert got["experiment"]["tags"] == []
    local = _ok(api.post(f"{API}/experiments/create", json={
        "name": name + "-local", "artifact_location": str(tmp_path)}))["experiment_id"]
    got = _ok(api.get(f"{API}/experiments/get", params={"experiment_id": local}))
    assert got["experiment"]["artifact_location"] == tmp_path.as_uri()


# -- 8. logged models ---------------------------------------------------------------------


def test_logged_model_of_an_unknown_source_run_is_accepted(api: httpx.Client) -> None:
    exp_id = _experiment(api)
    model = _ok(api.post(f"{API}/logged-models", json={
        "experiment_id": exp_id, "name": "m", "source_run_id": uuid.uuid4().hex}))["model"]
    assert model["info"]["model_id"].startswith("m-")
    model_id = model["info"]["model_id"]
    listed = _ok(api.get(f"{API}/logged-models/{model_id}/artifacts/directories"))
    assert listed["root_uri"] == model["info"]["artifact_uri"]


def test_logged_model_search_refuses_the_datasets_filter(api: httpx.Client) -> None:
    exp_id = _experiment(api)
    answer = api.post(f"{API}/logged-models/search", json={
        "experiment_ids": [exp_id], "datasets": [{"dataset_name": "train"}]})
    assert "datasets" in _error(answer, 501, "NOT_IMPLEMENTED")


# -- metric history replay ---------------------------------------------------------------------


def test_replayed_metric_request_does_not_double_points(api: httpx.Client) -> None:
    run_id = _run(api)["info"]["run_id"]
    now = int(time.time() * 1000)
    body = {"run_id": run_id, "metrics": [
        {"key": "loss", "value": 0.5, "timestamp": now, "step": 1},
        {"key": "loss", "value": float("nan"), "timestamp": now, "step": 2},
    ]}
    for _ in range(2):  # the first answer was "lost"; the client sends the request again
        _ok(api.post(f"{API}/runs/log-batch", content=json.dumps(body),
                     headers={"Content-Type": "application/json"}))
    _log(api, run_id, "loss", 0.5, 1, now)
    history = _ok(api.get(f"{API}/metrics/get-history", params={"run_id": run_id,
                                                                "metric_key": "loss"}))
    assert [(m["step"], m["value"]) for m in history["metrics"]] == [(1, 0.5), (2, "NaN")]
    _log(api, run_id, "loss", 0.5, 1, now + 1)  # another timestamp: a new point
    history = _ok(api.get(f"{API}/metrics/get-history", params={"run_id": run_id,
                                                                "metric_key": "loss"}))
    assert len(history["metrics"]) == 3


# -- 9. the latest metric value, and searches by it -------------------------------------------


def _search(api: httpx.Client, exp_id: str, **body: Any) -> list[str]:
    runs = _ok(api.post(f"{API}/runs/search", json={"experiment_ids": [exp_id], **body}))
    return [r["info"]["run_id"] for r in runs.get("runs", [])]


def test_latest_metric_is_the_highest_step(api: httpx.Client) -> None:
    run_id = _run(api)["info"]["run_id"]
    # async logging: the batch with step 5 arrives before the one with step 2
    _log(api, run_id, "acc", 0.9, 5, 1000)
    _log(api, run_id, "acc", 0.1, 2, 2000)
    metrics = _ok(api.get(f"{API}/runs/get", params={"run_id": run_id}))["run"]["data"]["metrics"]
    assert metrics == [{"key": "acc", "value": 0.9, "timestamp": 1000, "step": 5}]


def test_search_filters_and_orders_by_the_latest_value(api: httpx.Client) -> None:
    exp_id = _experiment(api)
    runs = {}
    for name, (late_step_value, early_step_value) in {"a": (0.2, 0.9), "b": (0.8, 0.1),
                                                      "c": (0.5, 0.5)}.items():
        run_id = _run(api, exp_id, run_name=name)["info"]["run_id"]
        _log(api, run_id, "acc", late_step_value, 10, 1000)
        _log(api, run_id, "acc", early_step_value, 1, 2000)  # logged last, lower step
        runs[name] = run_id
    assert _search(api, exp_id, filter="metrics.acc > 0.4",
                   order_by=["metrics.acc DESC"]) == [runs["b"], runs["c"]]
    assert _search(api, exp_id, order_by=["metrics.acc ASC"]) == [runs["a"], runs["c"], runs["b"]]


def test_search_by_params_tags_and_attributes(api: httpx.Client) -> None:
    exp_id = _experiment(api)
    first = _run(api, exp_id, run_name="Alpha", start_time=1000)["info"]["run_id"]
    second = _run(api, exp_id, run_name="beta", start_time=2000)["info"]["run_id"]
    _ok(api.post(f"{API}/runs/log-parameter", json={"run_id": first, "key": "opt",
                                                    "value": "Adam"}))
    _ok(api.post(f"{API}/runs/log-parameter", json={"run_id": second, "key": "opt",
                                                    "value": "sgd"}))
    _ok(api.post(f"{API}/runs/set-tag", json={"run_id": second, "key": "team",
                                              "value": "vision"}))
    _ok(api.post(f"{API}/runs/update", json={"run_id": second, "status": "FINISHED",
                                             "end_time": 3000}))
    assert _search(api, exp_id, filter="params.opt LIKE 'a%'") == []  # LIKE minds case
    assert _search(api, exp_id, filter="params.opt ILIKE 'a%'") == [first]
    assert _search(api, exp_id, filter="params.opt = 'sgd'") == [second]
    assert _search(api, exp_id, filter="attributes.status IN ('FINISHED', 'KILLED')") == [second]
    assert _search(api, exp_id, filter="params.opt != 'sgd'") == [first]
    assert _search(api, exp_id, filter="tags.team = 'vision'") == [second]
    assert _search(api, exp_id, filter="tags.team IS NULL") == [first]
    assert _search(api, exp_id, filter="attributes.status = 'FINISHED'") == [second]
    assert _search(api, exp_id, filter="attributes.status != 'FINISHED'") == [first]
    assert _search(api, exp_id, filter="attributes.run_name = 'Alpha'") == [first]
    assert _search(api, exp_id, filter="tags.`mlflow.runName` = 'beta'") == [second]
    assert _search(api, exp_id, filter="attributes.start_time >= 1500") == [second]
    assert _search(api, exp_id, filter=f"attributes.run_id IN ('{first}')") == [first]
    assert _search(api, exp_id, order_by=["attributes.run_name DESC"]) == [second, first]
    # ordering by a param has no SQL twin here: the Python path answers the same way
    assert _search(api, exp_id, order_by=["params.opt DESC"]) == [second, first]


def test_search_pages_and_deleted_runs(api: httpx.Client) -> None:
    exp_id = _experiment(api)
    ids = [_run(api, exp_id, start_time=1000 + i)["info"]["run_id"] for i in range(5)]
    _ok(api.post(f"{API}/runs/delete", json={"run_id": ids[0]}))
    page = _ok(api.post(f"{API}/runs/search", json={"experiment_ids": [exp_id],
                                                    "max_results": 3}))
    assert [r["info"]["run_id"] for r in page["runs"]] == ids[:0:-1][:3]
    rest = _ok(api.post(f"{API}/runs/search", json={
        "experiment_ids": [exp_id], "max_results": 3, "page_token": page["next_page_token"]}))
    assert [r["info"]["run_id"] for r in rest["runs"]] == [ids[1]]
    assert "next_page_token" not in rest
    assert _search(api, exp_id, run_view_type="DELETED_ONLY") == [ids[0]]
    assert len(_search(api, exp_id, run_view_type="ALL")) == 5


def test_log_inputs_validates_datasets_in_mlflows_words(api: httpx.Client) -> None:
    run_id = _run(api)["info"]["run_id"]
    dataset = {"name": "train", "digest": "abc", "source_type": "local", "source": "{}"}
    _ok(api.post(f"{API}/runs/log-inputs", json={"run_id": run_id, "datasets": [
        {"dataset": dataset, "tags": [{"key": "context", "value": "training"}]}]}))
    no_digest = {k: v for k, v in dataset.items() if k != "digest"}
    message = _error(api.post(f"{API}/runs/log-inputs", json={
        "run_id": run_id, "datasets": [{"dataset": no_digest}]}), 400, "INVALID_PARAMETER_VALUE")
    assert message == "Dataset digest cannot be None"
    message = _error(api.post(f"{API}/runs/log-inputs", json={
        "run_id": run_id, "datasets": [{"dataset": dataset, "tags": [{"key": "k"}]}]}),
        400, "INVALID_PARAMETER_VALUE")
    assert message == "InputTag value cannot be None"
