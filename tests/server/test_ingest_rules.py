"""Every entry point refuses what ``Run.log*`` refuses, with a 4xx naming the problem:
the /api/v1 ingest (JSON and columnar), MLflow ``log-metric``/``log-batch``, and the
store itself for a metric that would change kind."""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtrack import _wire
from runtrack.errors import InvalidValueError
from runtrack.model import POINT_FLOAT, POINT_OBJECT, MetricBatch, NewRun, PointColumns, RunStatus
from runtrack.server.app import create_app
from runtrack.server.settings import ServerSettings
from runtrack.store import open_store

RUN = "rules-run"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    app = create_app(ServerSettings.for_uri(str(tmp_path / "ws")))
    store = app.state.store
    exp = store.get_or_create_experiment("rules")
    store.create_run(NewRun(exp.id, RUN, display_name="r", run_type="script"))
    store.ingest(RUN, MetricBatch("seed", 0, [("scalar_m", "scalar", None, 1.0, 1.0),
                                              ("table_m", "table", None, 1.0, {"x": 1})]))
    yield app
    store.close()


def _call(app: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.request(method, path, **kwargs)

    return asyncio.run(go())


def _ingest(app: Any, records: list[Any]) -> httpx.Response:
    body = json.dumps({"stream": "s", "first_seq": 0, "records": records})
    return _call(app, "POST", f"/api/v1/runs/{RUN}/metrics", content=body,
                 headers={"content-type": "application/json"})


BAD_RECORDS = {
    "int 2**70": (["big", "scalar", None, 1.0, 2**70], "64-bit"),
    "int below -2**63": (["small", "scalar", None, 1.0, -(2**63) - 1], "64-bit"),
    "NUL in a name": (["a\x00b", "scalar", None, 1.0, 1], "control characters"),
    "a blank name": (["   ", "scalar", None, 1.0, 1], "blank"),
    "a lone surrogate in a name": (["img_\udcff", "scalar", None, 1.0, 1], "surrogate"),
    "a lone surrogate in a value": (["file", "scalar", None, 1.0, "img_\udcff.png"],
                                    "surrogate"),
    "a scalar under a table metric": (["table_m", "table", None, 1.0, 5], "table metric"),
    "a scalar record under a stored table": (["table_m", "scalar", None, 1.0, 5],
                                             "holds table values"),
    "a list under a scalar name": (["scalar_m", "list", None, 1.0, 5], "holds scalar values"),
    "a row under a scalar kind": (["new_s", "scalar", None, 1.0, {"x": 1}], "single values"),
    "NUL in a column name": (["new_t", "table", None, 1.0, {"c\x00": 1}], "control"),
    "an empty row": (["new_t", "table", None, 1.0, {}], "at least one column"),
    "a big int in a column": (["new_t", "table", None, 1.0, {"c": 2**70}], "64-bit"),
    "a number under an image": (["pic", "image", None, 1.0, 3.5], "artifact path"),
    "step 2**70": (["m", "scalar", 2**70, 1.0, 1], "step"),
    "step -2**63 (the no-step mark)": (["m", "scalar", -(2**63), 1.0, 1], "step"),
}


@pytest.mark.parametrize("case", list(BAD_RECORDS))
def test_the_json_ingest_refuses_what_the_sdk_refuses(app: Any, case: str) -> None:
    record, words = BAD_RECORDS[case]
    answer = _ingest(app, [record])
    assert answer.status_code == 400, answer.text
    assert words in answer.json()["error"]["message"]
    names = {s.name for s in app.state.store.list_series(RUN)}
    assert names == {"scalar_m", "table_m"}


def test_one_name_keeps_one_kind_within_a_batch(app: Any) -> None:
    answer = _ingest(app, [["m", "scalar", None, 1.0, 1], ["m", "list", None, 1.0, 2]])
    assert answer.status_code == 400
    assert "one kind" in answer.json()["error"]["message"]


def test_good_records_of_every_kind_pass(app: Any) -> None:
    answer = _ingest(app, [
        ["scalar_m", "scalar", 3, 2.0, 2**63 - 1], ["table_m", "table", None, 2.0, {"y": "ok"}],
        ["l", "list", None, 2.0, None], ["pic", "image", None, 2.0, "pic.png"],
        ["s", "scalar", -(2**63) + 1, 2.0, "ünïcode ✓"],
    ])
    assert answer.status_code == 200, answer.text


def _columnar(names: dict[int, tuple[str, str]], points: list[tuple[int, int, Any]]) -> bytes:
    """A columnar body: points are (id, type, value)."""
    n = len(points)
    values = b"".join(
        struct.pack("<d", v) if t == POINT_FLOAT else bytes(8) for _, t, v in points
    )
    columns = PointColumns(
        names,
        struct.pack(f"<{n}I", *(i for i, _, _ in points)),
        struct.pack(f"<{n}q", *([-(2**63)] * n)),
        struct.pack(f"<{n}d", *([1.0] * n)),
        values,
        bytes(t for _, t, _ in points),
        {k: v for k, (_, t, v) in enumerate(points) if t == POINT_OBJECT},
    )
    return _wire.encode(MetricBatch("c", 0, []), columns)


@pytest.mark.parametrize("names, points, words", [
    ({0: ("table_c", "table")}, [(0, POINT_FLOAT, 1.5)], "rows"),
    ({0: ("s_c", "scalar")}, [(0, POINT_OBJECT, {"x": 1})], "single values"),
    ({0: ("s_c", "scalar")}, [(0, POINT_OBJECT, 2**70)], "64-bit"),
    ({0: ("a\x00", "scalar")}, [(0, POINT_FLOAT, 1.0)], "control"),
    ({0: ("m", "scalar"), 1: ("m", "list")}, [(0, POINT_FLOAT, 1.0), (1, POINT_FLOAT, 2.0)],
     "one kind"),
    ({0: ("scalar_m", "list")}, [(0, POINT_FLOAT, 1.0)], "holds scalar values"),
])
def test_the_columnar_ingest_refuses_the_same(
    app: Any, names: dict[int, tuple[str, str]], points: list[Any], words: str
) -> None:
    answer = _call(app, "POST", f"/api/v1/runs/{RUN}/metrics", content=_columnar(names, points),
                   headers={"content-type": _wire.MEDIA_TYPE})
    assert answer.status_code == 400, answer.text
    assert words in answer.json()["error"]["message"]


@pytest.mark.parametrize("metric, words", [
    ({"key": "k", "value": 1.0, "timestamp": 1, "step": 2**70}, "64-bit"),
    ({"key": "k", "value": 1.0, "timestamp": 2**70, "step": 1}, "64-bit"),
    # MLflow's own wording for a value of the wrong JSON type (issue #14)
    ({"key": "k", "value": 1.0, "timestamp": 1, "step": 1e400}, "'metrics[0].step'"),
    ({"key": "k", "value": 10**400, "timestamp": 1, "step": 1}, "'metrics[0].value'"),
    ({"key": "k\x00", "value": 1.0, "timestamp": 1, "step": 1}, "k\\x00"),
    ({"key": "table_m", "value": 1.0, "timestamp": 1, "step": 1}, "holds table values"),
])
def test_mlflow_metrics_refuse_with_400(app: Any, metric: dict[str, Any], words: str) -> None:
    batch = _call(app, "POST", "/api/2.0/mlflow/runs/log-batch",
                  content=json.dumps({"run_id": RUN, "metrics": [metric]}),
                  headers={"content-type": "application/json"})
    assert batch.status_code == 400, batch.text
    assert batch.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert words in batch.json()["message"]
    single = _call(app, "POST", "/api/2.0/mlflow/runs/log-metric",
                   content=json.dumps({"run_id": RUN, **metric}),
                   headers={"content-type": "application/json"})
    assert single.status_code == 400, single.text


def test_the_store_refuses_a_kind_change(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'k.db'}")
    try:
        exp = store.get_or_create_experiment("k")
        store.create_run(NewRun(exp.id, "k-run", display_name="k", run_type="script",
                         status=RunStatus.RUNNING))
        store.ingest("k-run", MetricBatch("a", 0, [("m", "scalar", None, 1.0, 1.0)]))
        with pytest.raises(InvalidValueError, match="holds scalar values"):
            store.ingest("k-run", MetricBatch("b", 0, [("m", "table", None, 1.0, {"x": 1})]))
        assert store.ingest_position("k-run", "b") == 0
    finally:
        store.close()
