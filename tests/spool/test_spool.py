"""Spool writer/reader round trips, segment rolling, and exactly-once shipping."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import pytest

from runtrack.model import MetricBatch
from runtrack.spool import record as R
from runtrack.spool.reader import SpoolReader, list_streams
from runtrack.spool.shipper import StreamShipper, load_position
from runtrack.spool.writer import SpoolWriter


def test_round_trip_every_record_type(tmp_path: Path) -> None:
    w = SpoolWriter(tmp_path, "s")
    a = w.intern("loss", "scalar")
    b = w.intern("rows", "table")
    w.describe(a, "training loss")
    w.write_float(a, R.NO_STEP, 1.0, 0.5)
    w.write_float(a, 7, 2.0, math.inf)
    w.write_int(a, 8, 3.0, 2**62)
    w.write_json(a, R.NO_STEP, 4.0, "text")
    w.write_json(a, R.NO_STEP, 4.5, None)
    w.write_many(b, R.NO_STEP, 5.0, [{"x": 1, "y": math.nan}, {"x": 2, "y": True}])
    w.write_many(a, 3, 6.0, [1.5, 2.5])
    w.close()
    chunk = SpoolReader(tmp_path, "s").read()
    assert chunk.first_seq == 0
    values = [r[4] for r in chunk.records]
    assert values[:5] == [0.5, math.inf, 2**62, "text", None]
    assert values[5]["x"] == 1 and math.isnan(values[5]["y"])
    assert values[6] == {"x": 2, "y": True}
    assert values[7:] == [1.5, 2.5]
    assert [r[2] for r in chunk.records] == [None, 7, 8, None, None, None, None, 3, 3]
    assert chunk.records[5][1] == "table"
    assert chunk.descriptions == {"loss": "training loss"}
    assert w.seq == len(chunk.records) == 9


def test_reader_sees_only_committed_records(tmp_path: Path) -> None:
    w = SpoolWriter(tmp_path, "s")
    nid = w.intern("m", "scalar")
    reader = SpoolReader(tmp_path, "s")
    assert reader.read().records == []
    w.write_float(nid, R.NO_STEP, 1.0, 1.0)
    assert [r[4] for r in reader.read().records] == [1.0]
    assert reader.read().records == []
    w.write_float(nid, R.NO_STEP, 1.0, 2.0)
    chunk = reader.read()
    assert chunk.first_seq == 1 and [r[4] for r in chunk.records] == [2.0]
    assert not reader.finished
    w.close()
    reader.read()
    assert reader.finished


def test_segments_roll_and_reintern_names(tmp_path: Path) -> None:
    w = SpoolWriter(tmp_path, "s", segment_size=64 * 1024)
    nid = w.intern("m", "scalar")
    for i in range(10_000):
        w.write_float(nid, i, 0.0, float(i))
    w.close()
    assert len(list(tmp_path.glob("s.*.seg"))) > 5
    reader = SpoolReader(tmp_path, "s")
    got = []
    while not reader.finished:
        got.extend(r[4] for r in reader.read(1000).records)
    assert got == [float(i) for i in range(10_000)]
    assert list_streams(tmp_path) == ["s"]


class _RecordingStore:
    """Just enough of TrackingStore for the shipper: idempotent by sequence."""

    def __init__(self) -> None:
        self.points: list[float] = []
        self.position = 0
        self.fail_next = 0

    def ingest(self, run_id: str, batch: MetricBatch) -> int:
        if self.fail_next:
            self.fail_next -= 1
            raise OSError("store down")
        skip = self.position - batch.first_seq
        assert skip >= 0, "gap"
        for record in batch.records[skip:]:
            self.points.append(record[4])  # type: ignore[arg-type]
        self.position = max(self.position, batch.first_seq + len(batch.records))
        return self.position


def test_shipper_resumes_from_ack_and_never_doubles(tmp_path: Path) -> None:
    tmp_path = tmp_path / "spool"
    w = SpoolWriter(tmp_path, "s", segment_size=64 * 1024)
    nid = w.intern("m", "scalar")
    for i in range(5000):
        w.write_float(nid, R.NO_STEP, 0.0, float(i))
    store = _RecordingStore()
    first = StreamShipper(store, "r", tmp_path, "s")  # type: ignore[arg-type]
    first.drain()
    assert store.points == [float(i) for i in range(5000)]
    assert load_position(tmp_path, "s") is not None
    # fully shipped segments are deleted
    assert not (tmp_path / "s.000000.seg").exists()
    for i in range(5000, 6000):
        w.write_float(nid, R.NO_STEP, 0.0, float(i))
    w.close()
    store.fail_next = 1
    second = StreamShipper(store, "r", tmp_path, "s")  # type: ignore[arg-type]
    with contextlib.suppress(OSError):
        second.step()
    second.drain()
    assert store.points == [float(i) for i in range(6000)]
    assert second.done
    second.remove_files()
    assert not tmp_path.exists()


def test_log_fast_path_literals_match_the_record_format() -> None:
    """Run.log inlines these values as literals (cheapest loads); they must not drift."""
    assert R.NO_STEP == -0x8000000000000000
    assert R.POINT_SIZE == 40 == R.FLOAT_REC.size == R.INT_REC.size
    assert (R.FLOAT, R.INT) == (2, 3)
    assert R.COMMIT == 0xC0FFEE01


def test_segments_start_small_and_double_up_to_the_segment_size(tmp_path: Path) -> None:
    """A short run reserves a small first segment; a long one grows to full size; a
    record larger than the next segment's growth step gets a segment that holds it."""
    from runtrack.spool.writer import FIRST_SEGMENT, segment_path

    w = SpoolWriter(tmp_path, "s", segment_size=8 * FIRST_SEGMENT)
    nid = w.intern("m", "scalar")
    sizes = [segment_path(tmp_path, "s", 0).stat().st_size]
    n = 0
    while len(sizes) < 5:
        w.write_float(nid, n, 0.0, float(n))
        n += 1
        if w._segment == len(sizes):
            sizes.append(segment_path(tmp_path, "s", w._segment).stat().st_size)
    assert sizes == [FIRST_SEGMENT, 2 * FIRST_SEGMENT, 4 * FIRST_SEGMENT] + [8 * FIRST_SEGMENT] * 2
    w.close()
    chunk = SpoolReader(tmp_path, "s").read(10**6)
    assert [r[4] for r in chunk.records] == [float(i) for i in range(n)]

    big = SpoolWriter(tmp_path, "b", segment_size=8 * FIRST_SEGMENT)
    text = "x" * (3 * FIRST_SEGMENT)  # beyond segments 0 and 1 (1 and 2 x FIRST_SEGMENT)
    big.write_json(big.intern("v", "scalar"), R.NO_STEP, 0.0, text)
    big.close()
    assert segment_path(tmp_path, "b", 1).stat().st_size == 4 * FIRST_SEGMENT
    assert [r[4] for r in SpoolReader(tmp_path, "b").read(10**6).records] == [text]


def test_remove_files_leaves_other_streams_and_what_a_crash_left(tmp_path: Path) -> None:
    """Removing a finished stream's files by name keeps the folder while another
    stream (or a stray file of its own) is in it; the last stream removes the folder."""
    folder = tmp_path / "spool"
    store = _RecordingStore()
    writers = [SpoolWriter(folder, name, segment_size=64 * 1024) for name in ("a", "b")]
    for w in writers:
        nid = w.intern("m", "scalar")
        for i in range(3000):  # several segments each
            w.write_float(nid, R.NO_STEP, 0.0, float(i))
        w.close()
    (folder / "a.ack.tmp").write_text("{}")  # left by a crash while recording a position
    first = StreamShipper(store, "r", folder, "a")  # type: ignore[arg-type]
    first.record_position = False  # every segment of the stream is still there
    first.drain()
    assert first.done and len(list(folder.glob("a.*.seg"))) > 1
    first.remove_files()
    assert sorted(p.name.split(".")[0] for p in folder.iterdir()) == ["b"] * len(
        list(folder.iterdir())
    )
    other = _RecordingStore()  # it counts one stream's positions
    second = StreamShipper(other, "r", folder, "b")  # type: ignore[arg-type]
    second.drain()
    second.remove_files()
    assert not folder.exists()
    assert len(store.points) == len(other.points) == 3000


def test_a_stream_name_in_use_is_refused(tmp_path: Path) -> None:
    first = SpoolWriter(tmp_path, "s", segment_size=64 * 1024)
    with pytest.raises(FileExistsError, match="'s' already exists"):
        SpoolWriter(tmp_path, "s")
    nid = first.intern("m", "scalar")
    for i in range(3000):  # past the first segment, which its shipper then removes
        first.write_float(nid, R.NO_STEP, 0.0, float(i))
    first.close()
    (tmp_path / "s.000000.seg").unlink()
    with pytest.raises(FileExistsError):
        SpoolWriter(tmp_path, "s")  # its lock file is still there
