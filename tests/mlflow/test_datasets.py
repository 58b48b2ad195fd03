"""``mlflow.log_input`` datasets land in the store's run inputs (one lineage with the
Azure face), read back by ``runs/get`` and ``experiments/search-datasets``."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import LiveServer

pytestmark = [pytest.mark.timeout(300), pytest.mark.filterwarnings("ignore::UserWarning")]


def test_log_input_is_a_run_input(mlflow: Any, live_server: LiveServer, tmp_path: Path) -> None:
    import pandas as pd

    from runtrack import Workspace

    exp_id = mlflow.set_experiment(f"ds-{uuid.uuid4().hex[:8]}").experiment_id
    frame = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
    dataset = mlflow.data.from_pandas(frame, source=str(tmp_path / "train.csv"), name="train")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
        mlflow.log_input(dataset, context="training")  # again: recorded once
        mlflow.log_input(dataset, context="eval", tags={"split": "holdout"})
    got = mlflow.MlflowClient().get_run(run.info.run_id)
    inputs = got.inputs.dataset_inputs
    assert [(i.dataset.name, i.dataset.digest) for i in inputs] == [
        ("train", dataset.digest), ("train", dataset.digest)]
    assert {t.key: t.value for t in inputs[1].tags} == {"mlflow.data.context": "eval",
                                                        "split": "holdout"}
    assert inputs[0].dataset.source_type == "local"

    ws = Workspace(live_server.url)
    try:
        rows = ws.store.get_run_inputs([run.info.run_id])[run.info.run_id]
        assert [(r.name, r.context, r.tags) for r in rows] == [
            ("train", "training", {}), ("train", "eval", {"split": "holdout"})]
    finally:
        ws.close()

    answer = httpx.post(f"{live_server.url}/api/2.0/mlflow/experiments/search-datasets",
                        json={"experiment_ids": [exp_id]}).json()
    assert sorted(s["context"] for s in answer["dataset_summaries"]) == ["eval", "training"]
    assert {s["name"] for s in answer["dataset_summaries"]} == {"train"}
    empty = httpx.post(f"{live_server.url}/api/2.0/mlflow/experiments/search-datasets",
                       json={"experiment_ids": []})
    assert empty.status_code == 400 and empty.json()["error_code"] == "INVALID_PARAMETER_VALUE"
