"""``SpoolWriter.scalar_logger``: the hot path of ``run.log()``, in the spool layer.

Every test runs against both loggers: the C cursor (``_scalar.c``, built by setup.py)
and its Python twin. CI must have built the C one; elsewhere its cases skip when it
is missing."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from runtrack.spool import logger as logger_module
from runtrack.spool import record as R
from runtrack.spool.reader import SpoolReader
from runtrack.spool.writer import SpoolWriter

BUILT = logger_module.CCursor


@pytest.fixture(autouse=True, params=["c", "python"])
def logger_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "c" and BUILT is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the C scalar logger was not built (runtrack/spool/_scalar.c)")
        pytest.skip("the C scalar logger is not built here (no compiler at install time)")
    monkeypatch.setattr(logger_module, "CCursor", BUILT if request.param == "c" else None)
    return str(request.param)


@pytest.mark.parametrize("logger_kind", ["python"], indirect=True)  # no logger involved
def test_the_prepacked_heads_write_the_same_bytes_as_the_point_records(logger_kind: str) -> None:
    head = R.FLOAT_REC.pack(R.POINT_SIZE, R.FLOAT, 7, 0, 0.0, 0.0, 0)[:12]
    whole = R.FLOAT_REC.pack(R.POINT_SIZE, R.FLOAT, 7, -3, 1.25, 0.5, R.COMMIT)
    assert R.FLOAT_BODY.size == R.FLOAT_REC.size == R.POINT_SIZE
    assert R.FLOAT_BODY.pack(head, -3, 1.25, 0.5, R.COMMIT_BYTES) == whole
    head = R.INT_REC.pack(R.POINT_SIZE, R.INT, 7, 0, 0.0, 0, 0)[:12]
    whole = R.INT_REC.pack(R.POINT_SIZE, R.INT, 7, -3, 1.25, -(2**63), R.COMMIT)
    assert R.INT_BODY.size == R.INT_REC.size == R.POINT_SIZE
    assert R.INT_BODY.pack(head, -3, 1.25, -(2**63), R.COMMIT_BYTES) == whole


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


def test_seq_counts_every_point_through_a_mix_of_fast_and_slow_writes(tmp_path: Path) -> None:
    """The scalar logger only moves ``offset``; ``seq`` must still count each point of
    every kind of record, across segment rolls, and each segment's header must give
    the seq of its first point."""
    w = SpoolWriter(tmp_path, "s", segment_size=64 * 1024)
    loss = w.intern("loss", "scalar")
    w.enable_append("loss", loss)
    slow_calls = []

    def slow(name: str, value: Any, description: str, step: Any) -> None:
        slow_calls.append(step)  # a full segment: rolled over by the slow write
        if not description:
            write = w.write_float if type(value) is float else w.write_int
            write(loss, R.NO_STEP if step is None else step, 0.0, value)

    log = w.scalar_logger(slow)
    other = w.intern("other", "list")
    expected = 0
    for i in range(3000):  # several segments
        log("loss", float(i), step=i)
        log("loss", i, step=None)
        expected += 2
        if i % 97 == 0:
            w.write_json(other, R.NO_STEP, 0.0, "text")
            w.write_many(other, R.NO_STEP, 0.0, ["a", 1, None])
            w.write_packed_floats(other, R.NO_STEP, 0.0, memoryview(b"\0" * 8 * 5))
            w.describe(other, f"description {i}")  # a record of no point
            w.intern(f"name{i}", "scalar")  # likewise
            expected += 1 + 3 + 5
        if i % 101 == 0:
            log("loss", 1.0, "a description", i)  # this slow path writes nothing
        assert w.seq == expected
    w.write_float(w.intern("loss", "scalar"), 0, 0.0, 1.0)
    w.write_int(w.intern("loss", "scalar"), 0, 0.0, 1)
    expected += 2
    assert w.seq == expected and w._segment >= 3 and len(slow_calls) > w._segment + 20
    w.close()
    assert w.seq == expected
    reader = SpoolReader(tmp_path, "s")
    read = 0
    while chunk := reader.read(100_000).records:
        assert chunk is not None
        read += len(chunk)
    assert read == expected and reader.skipped == 0
    firsts = []
    for number in range(w._segment + 1):
        raw = (tmp_path / f"s.{number:06d}.seg").read_bytes()[: R.HEADER.size]
        firsts.append(R.HEADER.unpack(raw)[3])
    assert firsts[0] == 0 and firsts == sorted(firsts) and len(set(firsts)) == len(firsts)


def test_the_fast_path_takes_exactly_the_64_bit_range(tmp_path: Path) -> None:
    """Ends of the ranges the logger checks by ``bit_length``: steps in
    (-2**63, 2**63-1] and int values in [-2**63, 2**63-1] are appended at once."""
    w, logger = _writer(tmp_path)
    taken = [
        (1.0, 2**63 - 1), (1.0, -(2**63) + 1), (1.0, 0), (1.0, -1),
        (2**63 - 1, 1), (-(2**63), 1), (0, 1), (-1, None),
    ]
    for value, step in taken:
        logger.log("loss", value, step=step)
    assert logger.slow == [] and w.seq == len(taken)
    left = [(1.0, True), (True, 1), (2**63, 1), (-(2**63) - 1, 1), (1.0, -(2**63))]
    for value, step in left:
        logger.log("loss", value, step=step)
    assert logger.slow == [("loss", v, "", s) for v, s in left] and w.seq == len(taken)
    w.close()
    records = SpoolReader(tmp_path, "s").read().records
    assert [(r[2], r[4]) for r in records] == [(s, v) for v, s in taken]
    assert [type(r[4]) for r in records] == [type(v) for v, _ in taken]


def test_every_way_of_passing_the_arguments_appends(tmp_path: Path) -> None:
    w, logger = _writer(tmp_path)
    log = logger.log
    log("loss", 1.0)
    log("loss", 2.0, "", 2)
    log("loss", 3.0, step=3)
    log("loss", 4.0, step=4, description="")
    log("loss", value=5.0, step=5)
    log(name="loss", value=6.0)
    log(**{"name": "loss", "value": 7.0, "step": 7})
    log("loss", 8.0, description=None)  # None is no description, as ""
    assert logger.slow == [] and w.seq == 8
    w.close()
    records = SpoolReader(tmp_path, "s").read().records
    assert [(r[2], r[4]) for r in records] == [
        (None, 1.0), (2, 2.0), (3, 3.0), (4, 4.0), (5, 5.0), (None, 6.0), (7, 7.0), (None, 8.0)
    ]


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [(("loss",), {}), (("loss", 1.0, "", 1, 5), {}), (("loss", 1.0), {"bogus": 1}),
     (("loss", 1.0, ""), {"description": "again"})],
)
def test_a_call_python_would_refuse_raises_type_error(
    tmp_path: Path, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    w, logger = _writer(tmp_path)
    with pytest.raises(TypeError):
        logger.log(*args, **kwargs)
    assert logger.slow == [] and w.seq == 0
    w.close()


def test_a_description_that_is_not_a_str_goes_the_slow_way_unasked(tmp_path: Path) -> None:
    """Its truth is not asked: that could run code (here: logging into the same
    stream) between reading the position and writing the point."""
    w, logger = _writer(tmp_path)

    class Sneaky:
        def __bool__(self) -> bool:
            logger.log("loss", 99.0)
            return False

    sneaky = Sneaky()
    logger.log("loss", 1.0, sneaky)
    logger.log("loss", 2.0, description=0)
    assert logger.slow == [("loss", 1.0, sneaky, None), ("loss", 2.0, 0, None)]
    assert w.seq == 0
    w.close()


def test_an_unhashable_name_goes_the_slow_way(tmp_path: Path) -> None:
    w, logger = _writer(tmp_path)
    logger.log(["loss"], 1.0)
    assert logger.slow == [(["loss"], 1.0, "", None)] and w.seq == 0
    w.close()


@pytest.mark.parametrize("logger_kind", ["c"], indirect=True)  # it runs both itself
def test_both_loggers_write_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logger_kind: str
) -> None:
    """The same calls through the C cursor and the Python function leave the same
    segment, but for the time stamps."""
    calls = [(0.5, None), (2, 7), (-(2**63), -5), (float("nan"), 2**63 - 1), (-0.0, 0)]
    segments = []
    for kind in ("c", "python"):
        monkeypatch.setattr(logger_module, "CCursor", BUILT if kind == "c" else None)
        folder = tmp_path / kind
        w, logger = _writer(folder)
        for value, step in calls:
            logger.log("loss", value, step=step)
        assert logger.slow == []
        end = w.offset
        w.release()
        data = bytearray((folder / "s.000000.seg").read_bytes()[:end])
        for at in range(end - len(calls) * R.POINT_SIZE, end, R.POINT_SIZE):
            data[at + 20 : at + 28] = bytes(8)  # the time
        segments.append(bytes(data))
    assert segments[0] == segments[1]
