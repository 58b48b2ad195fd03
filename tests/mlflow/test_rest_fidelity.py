"""MLflow's documented REST behaviour, request by request, against runtrack's MLflow face
(a real ``runtrack server`` over SQLite). Each test names the MLflow rule it pins."""

from __future__ import annotations

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
