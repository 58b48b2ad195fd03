"""Blocks of points (log_list, numpy arrays): packed once, and never more than a
batch can hold, whichever decoder reads them."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from runtrack import Experiment, limits
from runtrack.spool import record as R
from runtrack.spool.reader import SpoolReader
from runtrack.spool.writer import MAX_BLOCK_POINTS, SpoolWriter


@pytest.mark.parametrize("columnar", [True, False], ids=["columns", "records"])
def test_big_blocks_are_split_and_batches_stay_within_the_limit(
    tmp_path: Path, columnar: bool
) -> None:
    w = SpoolWriter(tmp_path, "s")
    nid = w.intern("h", "list")
    w.write_packed_floats(nid, R.NO_STEP, 1.0, memoryview(np.arange(250_000, dtype="<f8")))
    w.write_many(nid, R.NO_STEP, 2.0, list(range(120_000)))  # ints: JSON blocks
    w.write_many(nid, R.NO_STEP, 3.0, [float(i) for i in range(70_000)])
    w.close()
    reader = SpoolReader(tmp_path, "s", columnar=columnar)
    values: list[object] = []
    while not reader.finished:
        chunk = reader.read(limits.MAX_BATCH_RECORDS)
        assert len(chunk.records) <= limits.MAX_BATCH_RECORDS
        values += [r[4] for r in chunk.records]
    assert values == [*map(float, range(250_000)), *range(120_000), *map(float, range(70_000))]
    assert MAX_BLOCK_POINTS < limits.MAX_BATCH_RECORDS


def test_log_list_of_numpy_arrays_round_trips(exp: Experiment) -> None:
    run = exp.start_logging()
    half = np.linspace(0, 1, 5, dtype=np.float32)[::-1]  # not float64, not contiguous
    run.log_list("h", half)
    run.log_list("h", np.array([math.nan, -math.inf]))
    run.log_list("h", np.array([], dtype=float))
    run.log_list("big", np.arange(300_000, dtype=float))
    run.log_list("ints", np.arange(3, dtype=np.int16))
    metrics = run.get_metrics()
    assert metrics["h"][:5] == half.tolist()
    assert math.isnan(metrics["h"][5]) and metrics["h"][6] == -math.inf
    assert np.array_equal(run.get_metric_array("big"), np.arange(300_000, dtype=float))
    assert metrics["ints"] == [0, 1, 2] and type(metrics["ints"][0]) is int
    run.complete()
