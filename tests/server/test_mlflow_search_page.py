"""MLflow ``runs/search`` pages (issue #14's benchmark route), in-process: a page holds
up to ``max_results`` runs (MLflow's server allows 50,000; ``mlflow.search_runs`` asks
10,000 at a time), page tokens walk the same order without gaps or repeats even when
the ordered values tie, and each run's metrics are the ones ``runs/get`` shows (the
point with the highest step), read for the whole page at once."""

from __future__ import annotations

import json
import math
from typing import Any

from runtrack.model import MetricBatch, NewRun
from runtrack.server.mlflow._endpoint import encode
from tests.inprocess import InProcessServer

SEARCH = "/api/2.0/mlflow/runs/search"


def _fill(server: InProcessServer, runs: int, values: int = 1000) -> tuple[str, list[str]]:
    store = server.app.state.store
    exp = store.get_or_create_experiment("page")
    ids = []
    for i in range(runs):
        run_id = f"{i:032x}"
        store.create_run(NewRun(exp.id, run_id, f"run-{i}", "mlflow"))
        store.ingest(run_id, MetricBatch("s", 0, [
            ("m0", "scalar", 0, 1.0 + i, (i * 7919 % values) / values),
            ("m1", "scalar", 3, 2.0 + i, float(i % 4)),
            ("m1", "scalar", 1, 3.0 + i, -1.0),  # logged last, lower step: not latest
        ]))
        ids.append(run_id)
    return exp.id, ids


def _search(server: InProcessServer, **body: Any) -> dict[str, Any]:
    answer = server.http.post(SEARCH, json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_a_page_above_1000_runs_comes_in_one_request(inprocess_server: InProcessServer) -> None:
    exp_id, _ = _fill(inprocess_server, 1_005)
    whole = _search(inprocess_server, experiment_ids=[exp_id], max_results=10_000)
    assert len(whole["runs"]) == 1_005 and "next_page_token" not in whole
    first = _search(inprocess_server, experiment_ids=[exp_id])  # MLflow's default: 1,000
    assert len(first["runs"]) == 1_000
    rest = _search(inprocess_server, experiment_ids=[exp_id],
                   page_token=first["next_page_token"])
    assert "next_page_token" not in rest
    assert [r["info"]["run_id"] for r in first["runs"] + rest["runs"]] == [
        r["info"]["run_id"] for r in whole["runs"]]


def test_page_tokens_walk_tied_values_without_gaps(inprocess_server: InProcessServer) -> None:
    exp_id, ids = _fill(inprocess_server, 40, values=3)  # m0 in {0, 1/3, 2/3}: ties
    body = {"experiment_ids": [exp_id], "filter": "metrics.m0 > 0.1",
            "order_by": ["metrics.m0 DESC"]}
    whole = [r["info"]["run_id"] for r in _search(inprocess_server, **body)["runs"]]
    pages: list[str] = []
    token = None
    for _ in range(20):
        page = _search(inprocess_server, **body, max_results=7,
                       **({"page_token": token} if token else {}))
        pages += [r["info"]["run_id"] for r in page["runs"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert pages == whole and len(set(pages)) == len(pages)
    # ties: the newest start first (each run started as it was created), as MLflow
    assert whole == [ids[i] for i in sorted((i for i in range(40) if i * 7919 % 3 > 0),
                                            key=lambda i: (-(i * 7919 % 3), -i))]


def test_search_lists_the_metrics_get_shows(inprocess_server: InProcessServer) -> None:
    exp_id, ids = _fill(inprocess_server, 12)
    store = inprocess_server.app.state.store
    store.ingest(ids[0], MetricBatch("t", 0, [
        ("odd", "scalar", 2, 9.0, math.nan), ("edge", "scalar", 1, 9.5, math.inf),
        ("words", "scalar", None, 10.0, "no number"), ("sys/cpu", "scalar", None, 11.0, 5),
    ]))
    found = _search(inprocess_server, experiment_ids=[exp_id], order_by=["metrics.m1 ASC"])
    assert len(found["runs"]) == 12
    for run in found["runs"]:
        shown = inprocess_server.http.get("/api/2.0/mlflow/runs/get",
                                          params={"run_id": run["info"]["run_id"]}).json()
        assert run == shown["run"]
    first = next(r for r in found["runs"] if r["info"]["run_id"] == ids[0])
    assert {m["key"]: m["value"] for m in first["data"]["metrics"]} == {
        "m0": 0.0, "m1": 0.0, "odd": "NaN", "edge": "Infinity", "sys/cpu": 5.0}
    assert [m1["value"] for r in found["runs"] for m1 in r["data"]["metrics"]
            if m1["key"] == "m1"] == sorted(float(i % 4) for i in range(12))


def test_the_encoder_writes_what_the_standard_one_writes() -> None:
    page = {"runs": [{"info": {"run_id": "ä", "start_time": 1_700_000_000_000},
                      "data": {"metrics": [{"key": "m", "value": 0.1 + 0.2, "step": 0},
                                           {"key": "n", "value": "NaN", "step": 2**62}]}}]}
    assert json.loads(encode(page)) == page
    assert "ä" in encode(page).decode()  # UTF-8, not \u escapes
    huge = {"value": 2**70}  # past 64 bits: the standard encoder takes it
    assert encode(huge) == b'{"value":1180591620717411303424}'
