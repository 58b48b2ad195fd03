"""``SpoolWriter.append_scalar``: the hot path of ``run.log()``, in the spool layer."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from runtrack.spool import record as R
from runtrack.spool.reader import SpoolReader
from runtrack.spool.writer import SpoolWriter, refuse_scalar


def test_the_prepacked_head_writes_the_same_bytes_as_the_float_record() -> None:
    head = R.FLOAT_REC.pack(R.POINT_SIZE, R.FLOAT, 7, 0, 0.0, 0.0, 0)[:12]
    whole = R.FLOAT_REC.pack(R.POINT_SIZE, R.FLOAT, 7, -3, 1.25, 0.5, R.COMMIT)
    assert R.FLOAT_BODY.size == R.FLOAT_REC.size == R.POINT_SIZE
    assert R.FLOAT_BODY.pack(head, -3, 1.25, 0.5, R.COMMIT) == whole


def test_appended_points_read_back_in_order(tmp_path: Path) -> None:
    w = SpoolWriter(tmp_path, "s")
    w.enable_append("loss", w.intern("loss", "scalar"))
    assert w.append_scalar("loss", None, 0.5)
    assert w.append_scalar("loss", 3, 2)
    assert w.append_scalar("loss", 2**63 - 1, -(2**63))
    assert w.seq == 3
    w.close()
    records = SpoolReader(tmp_path, "s").read().records
    assert [(r[0], r[2], r[4]) for r in records] == [
        ("loss", None, 0.5), ("loss", 3, 2), ("loss", 2**63 - 1, -(2**63))
    ]
    assert all(type(r[4]) is type(v) for r, v in zip(records, [0.5, 2, 1], strict=True))


@pytest.mark.parametrize(
    ("key", "step", "value"),
    [
        ("other", None, 1.0),  # not enabled
        ("loss", None, "text"),  # not a number
        ("loss", None, True),  # a bool is logged as JSON by the slow path
        ("loss", None, 2**63),  # beyond int64
        ("loss", 1.0, 1.0),  # a float step
        ("loss", -(2**63), 1.0),  # the no-step marker
        ("loss", 2**63, 1.0),  # beyond int64
    ],
)
def test_what_it_does_not_handle_is_left_to_the_slow_path(
    tmp_path: Path, key: str, step: Any, value: Any
) -> None:
    w = SpoolWriter(tmp_path, "s")
    w.enable_append("loss", w.intern("loss", "scalar"))
    offset = w.offset
    assert w.append_scalar(key, step, value) is False
    assert (w.offset, w.seq) == (offset, 0)
    w.close()


def test_only_the_writers_thread_appends(tmp_path: Path) -> None:
    w = SpoolWriter(tmp_path, "s")
    w.enable_append("loss", w.intern("loss", "scalar"))
    results: list[bool] = []
    thread = threading.Thread(target=lambda: results.append(w.append_scalar("loss", 1, 1.0)))
    thread.start()
    thread.join()
    assert results == [False] and w.seq == 0
    w.close()


def test_a_full_segment_and_a_released_writer_refuse(tmp_path: Path) -> None:
    w = SpoolWriter(tmp_path, "s", segment_size=64 * 1024)
    w.enable_append("loss", w.intern("loss", "scalar"))
    n = 0
    while w.append_scalar("loss", n, 1.0):
        n += 1
    assert w.offset + R.POINT_SIZE > w.limit and w.seq == n > 1000
    w.write_float(w.intern("loss", "scalar"), n, 1.0, 1.0)  # the slow path rolls over
    assert w.append_scalar("loss", n + 1, 1.0)
    w.close()
    assert w.append_scalar("loss", n + 2, 1.0) is False
    assert refuse_scalar("loss", None, 1.0) is False
    assert len(SpoolReader(tmp_path, "s").read().records) == n + 2
