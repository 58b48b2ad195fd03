"""Packed reads: ``get_metric_array`` and ``get_metrics`` through the store's fast path
give exactly what the per-point path gives."""

from __future__ import annotations

import math

import numpy as np

from runtrack import Experiment


def test_packed_and_point_reads_agree(exp: Experiment) -> None:
    run = exp.start_logging()
    for i in range(20_000):
        run.log("f", math.sin(i) if i != 7 else math.nan, step=i)
        run.log("i", i - 10_000)
    run.log("flag", True)
    run.log("flag", False)
    run.log("mixed", 1.5)
    run.log("mixed", "text")
    run.flush()
    store = run.experiment.workspace.store
    assert store.read_series_values(run.id, "f")[0] == "f"  # type: ignore[attr-defined]
    assert store.read_series_values(run.id, "i")[0] == "i"  # type: ignore[attr-defined]
    assert store.read_series_values(run.id, "mixed") is None  # type: ignore[attr-defined]
    metrics = run.get_metrics()
    for name in ("f", "i", "flag", "mixed"):
        assert repr(metrics[name]) == repr(store.read_series(run.id, name).values)
    assert [type(v) for v in metrics["i"][:2]] == [int, int]
    assert metrics["flag"] == [True, False]
    array = run.get_metric_array("f")
    assert array.dtype == np.float64 and array.flags.writeable
    expected = np.asarray(store.read_series(run.id, "f").values, dtype=float)
    assert np.array_equal(array, expected, equal_nan=True)
    assert np.array_equal(run.get_metric_array("i"), np.arange(20_000) - 10_000.0)
    part = store.read_series_values(run.id, "f", 19_998, 20_000)  # type: ignore[attr-defined]
    assert np.frombuffer(part[1], "<f8").tolist() == [math.sin(19_998), math.sin(19_999)]
