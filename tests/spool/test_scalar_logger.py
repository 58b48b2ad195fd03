"""``SpoolWriter.scalar_logger``: the hot path of ``run.log()``, in the spool layer."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from runtrack.spool import record as R
from runtrack.spool.reader import SpoolReader
from runtrack.spool.writer import SpoolWriter


def test_the_prepacked_head_writes_the_same_bytes_as_the_float_record() -> None:
    head = R.FLOAT_REC.pack(R.POINT_SIZE, R.FLOAT, 7, 0, 0.0, 0.0, 0)[:12]
    whole = R.FLOAT_REC.pack(R.POINT_SIZE, R.FLOAT, 7, -3, 1.25, 0.5, R.COMMIT)
    assert R.FLOAT_BODY.size == R.FLOAT_REC.size == R.POINT_SIZE
    assert R.FLOAT_BODY.pack(head, -3, 1.25, 0.5, R.COMMIT) == whole


class Logger:
    """A writer's scalar logger and what it left to the slow path."""

    def __init__(self, writer: SpoolWriter) -> None:
        self.slow: list[tuple[str, Any, str, Any]] = []
        self.log = writer.scalar_logger(lambda *call: self.slow.append(call))


def _writer(folder: Path, **kwargs: Any) -> tuple[SpoolWriter, Logger]:
    w = SpoolWriter(folder, "s", **kwargs)
    w.enable_append("loss", w.intern("loss", "scalar"))
    return w, Logger(w)


def test_appended_points_read_back_in_order(tmp_path: Path) -> None:
    w, logger = _writer(tmp_path)
    logger.log("loss", 0.5)
    logger.log("loss", 2, step=3)
    logger.log("loss", -(2**63), step=2**63 - 1)
    assert w.seq == 3 and logger.slow == []
    w.close()
    records = SpoolReader(tmp_path, "s").read().records
    assert [(r[0], r[2], r[4]) for r in records] == [
        ("loss", None, 0.5), ("loss", 3, 2), ("loss", 2**63 - 1, -(2**63))
    ]
    assert all(type(r[4]) is type(v) for r, v in zip(records, [0.5, 2, 1], strict=True))


@pytest.mark.parametrize(
    ("key", "step", "value", "description"),
    [
        ("other", None, 1.0, ""),  # not enabled
        ("loss", None, "text", ""),  # not a number
        ("loss", None, True, ""),  # a bool is logged as JSON by the slow path
        ("loss", None, 2**63, ""),  # beyond int64
        ("loss", 1.0, 1.0, ""),  # a float step
        ("loss", -(2**63), 1.0, ""),  # the no-step marker
        ("loss", 2**63, 1.0, ""),  # beyond int64
        ("loss", None, 1.0, "a description"),  # descriptions are written the slow way
    ],
)
def test_what_it_does_not_handle_is_left_to_the_slow_path(
    tmp_path: Path, key: str, step: Any, value: Any, description: str
) -> None:
    w, logger = _writer(tmp_path)
    offset = w.offset
    logger.log(key, value, description, step)
    assert (w.offset, w.seq) == (offset, 0)
    assert logger.slow == [(key, value, description, step)]  # the caller's arguments, as given
    w.close()


def test_only_the_writers_thread_appends(tmp_path: Path) -> None:
    w, logger = _writer(tmp_path)
    thread = threading.Thread(target=lambda: logger.log("loss", 1.0, step=1))
    thread.start()
    thread.join()
    assert logger.slow == [("loss", 1.0, "", 1)] and w.seq == 0
    w.close()


def test_a_full_segment_and_a_released_writer_go_the_slow_way(tmp_path: Path) -> None:
    w, logger = _writer(tmp_path, segment_size=64 * 1024)
    n = 0
    while not logger.slow:
        logger.log("loss", 1.0, step=n)
        n += 1
    n -= 1  # the last call was left to the slow path
    assert w.offset + R.POINT_SIZE > w.limit and w.seq == n > 1000
    w.write_float(w.intern("loss", "scalar"), n, 1.0, 1.0)  # the slow path rolls over
    logger.log("loss", 1.0, step=n + 1)
    assert len(logger.slow) == 1
    w.close()
    logger.log("loss", 1.0, step=n + 2)
    assert len(logger.slow) == 2
    assert len(SpoolReader(tmp_path, "s").read().records) == n + 2
