"""``get_metrics()`` returns exactly the shapes of the reference's §2.4."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runtrack import Experiment, ImageArtifact, JsonArtifact, Run


def test_scalar_once_is_bare_and_repeated_is_a_list(exp: Experiment) -> None:
    run = exp.start_logging()
    run.log("once", 2)
    run.log("many", 1.5)
    run.log("many", 2.5)
    run.log("text", "Red")
    run.log("flag", True)
    metrics = run.get_metrics()
    assert metrics["once"] == 2 and type(metrics["once"]) is int
    assert metrics["many"] == [1.5, 2.5]
    assert metrics["text"] == "Red"
    assert metrics["flag"] is True


def test_list_of_one_is_bare_and_lists_append(exp: Experiment) -> None:
    run = exp.start_logging()
    run.log_list("one", [7])
    run.log_list("fib", (i * 2 for i in [0, 1, 1, 2]))
    run.log_list("fib", [6])
    metrics = run.get_metrics()
    assert metrics["one"] == 7
    assert metrics["fib"] == [0, 2, 2, 4, 6]


def test_rows_and_tables(exp: Experiment) -> None:
    run = exp.start_logging()
    run.log_row("single", a=1, b="x")
    run.log_row("wave", angle=0.0, cos=1.0)
    run.log_row("wave", angle=1.0, cos=0.54)
    run.log_table("table", {"x": [1, 2, 3], "y": [0.1, 0.2, 0.3]})
    run.log_table("one-row", {"x": [5], "y": 6})
    run.log_table("table", {"x": [4], "y": [0.4]})
    metrics = run.get_metrics()
    assert metrics["single"] == {"a": 1, "b": "x"}
    assert metrics["wave"] == {"angle": [0.0, 1.0], "cos": [1.0, 0.54]}
    assert metrics["table"] == {"x": [1, 2, 3, 4], "y": [0.1, 0.2, 0.3, 0.4]}
    assert metrics["one-row"] == {"x": 5, "y": 6}


def test_name_filter_and_missing_name(exp: Experiment) -> None:
    run = exp.start_logging()
    run.log("scale factor", 2)
    run.log("other", 1)
    assert run.get_metrics(name="scale factor") == {"scale factor": 2}
    assert run.get_metrics(name="nope") == {}


def test_recursive_keys_by_run_id_and_omits_empty_runs(exp: Experiment) -> None:
    parent = exp.start_logging()
    parent.log("A", 1)
    child = parent.child_run("c1")
    child.log("A", 2)
    grandchild = child.child_run("g")
    grandchild.log("B", 3)
    parent.child_run("empty")
    got = parent.get_metrics(recursive=True)
    assert got == {parent.id: {"A": 1}, child.id: {"A": 2}, grandchild.id: {"B": 3}}
    assert parent.get_metrics(recursive=True, run_type="interactive") == {parent.id: {"A": 1}}


def test_artifact_metrics_return_first_reference_or_artifact(exp: Experiment, tmp_path) -> None:  # type: ignore[no-untyped-def]
    run = exp.start_logging()
    cm = {
        "schema_type": "confusion_matrix",
        "schema_version": "1.0.0",
        "data": {"class_labels": ["a", "b"], "matrix": [[1, 2], [3, 4]]},
    }
    run.log_confusion_matrix("cm", cm)
    png = tmp_path / "p.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    run.log_image("pic", path=str(png))
    metrics = run.get_metrics()
    assert metrics["cm"] == f"runtrack://runs/{run.id}/artifacts/cm"
    assert metrics["pic"].startswith(f"runtrack://runs/{run.id}/artifacts/")
    populated = run.get_metrics(populate=True)
    assert isinstance(populated["cm"], JsonArtifact)
    assert populated["cm"].convert_to_object() == cm
    assert isinstance(populated["pic"], ImageArtifact)
    assert populated["pic"].data.startswith(b"\x89PNG")
    assert populated["cm"].data_location == metrics["cm"]


def test_values_round_trip_exactly(exp: Experiment) -> None:
    run = exp.start_logging()
    values = [
        np.int64(2**40),
        np.uint8(7),
        np.float32(0.5),
        np.bool_(True),
        np.str_("s"),
        math.nan,
        math.inf,
        -math.inf,
        2**63 - 1,
        -(2**63),
        None,
    ]
    for v in values:
        run.log("mixed", v)
    got = run.get_metrics()["mixed"]
    assert got[0] == 2**40 and type(got[0]) is int
    assert got[1] == 7 and type(got[1]) is int
    assert got[2] == 0.5 and type(got[2]) is float
    assert got[3] is True
    assert got[4] == "s"
    assert math.isnan(got[5]) and got[6] == math.inf and got[7] == -math.inf
    assert got[8] == 2**63 - 1 and got[9] == -(2**63)
    assert got[10] is None


def test_reads_from_a_fresh_run_object(exp: Experiment) -> None:
    run = exp.start_logging()
    for i in range(1000):
        run.log("loss", 1.0 / (i + 1), step=i)
    run.complete()
    fetched = Run(exp, run.id)
    loss = fetched.get_metrics()["loss"]
    assert len(loss) == 1000 and loss[0] == 1.0
    series = fetched.get_metric_series("loss")
    assert series.steps[:3] == [0, 1, 2]
    arr = fetched.get_metric_array("loss")
    assert arr.shape == (1000,) and arr[1] == pytest.approx(0.5)
