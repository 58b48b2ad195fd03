"""The spool of a short run: opened with few file operations, read back with few numpy
calls, and still read exactly (the record decoder is the reference)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from runtrack import Experiment, Workspace
from runtrack.sdk._spooled import SpooledMetrics
from runtrack.spool import _columns
from runtrack.spool import record as R
from runtrack.spool import shipper as shipper_module
from runtrack.spool.reader import SpoolReader
from runtrack.spool.writer import SpoolWriter

pytest.importorskip("numpy")


def _short_run(folder: Path) -> SpoolWriter:
    """A short run's stream: each metric's NAME record before its first point, then a
    loop over them, then one sample of nine system series (NAME, point each)."""
    w = SpoolWriter(folder, "s")
    names = [f"m{k}" for k in range(5)]
    ids = {}
    for name in names:
        ids[name] = w.intern(name, "scalar")
        w.write_float(ids[name], 0, 1.0, 0.0)
    for i in range(1, 100):
        for name in names:
            w.write_float(ids[name], i, 1.0 + i, i * 0.5)
    for k in range(9):
        w.write_int(w.intern(f"sys/q{k}", "scalar"), 0, 200.0, k * 1000)
    return w


def test_short_point_runs_are_read_without_numpy_windows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader_scan: str
) -> None:
    """The Python path takes a metric's lone first point without numpy; the C scan
    takes every name and point without numpy."""
    _short_run(tmp_path).close()
    windows: list[int] = []
    real = _columns.ColumnBuilder._window

    def window(self: _columns.ColumnBuilder, mm: object, off: int, n: int, bound: int) -> int:
        windows.append(n)
        return real(self, mm, off, n, bound)  # type: ignore[arg-type]

    monkeypatch.setattr(_columns.ColumnBuilder, "_window", window)
    columnar = SpoolReader(tmp_path, "s", columnar=True).read()
    plain = SpoolReader(tmp_path, "s", columnar=False).read()
    assert len(columnar.records) == 509
    assert list(columnar.records) == list(plain.records)
    assert list(columnar.records)[-1] == ("sys/q8", "scalar", 0, 200.0, 8000)
    if reader_scan == "C scan":
        assert windows == []
    else:  # only the loop's 495 points: a window of 256, then the rest
        assert len(windows) == 2


def test_a_point_not_committed_yet_ends_a_short_run(tmp_path: Path, reader_scan: str) -> None:
    w = SpoolWriter(tmp_path, "s")
    nid = w.intern("m", "scalar")
    for i in range(3):
        w.write_float(nid, i, 1.0, float(i))
    third = w.offset - R.POINT_SIZE
    word = bytes(w.mm[third + R.COMMIT_OFFSET : third + R.POINT_SIZE])
    w.mm[third + R.COMMIT_OFFSET : third + R.POINT_SIZE] = bytes(4)  # being written
    reader = SpoolReader(tmp_path, "s", columnar=True)
    first = reader.read()
    assert [r[4] for r in first.records] == [0.0, 1.0]
    assert reader.read().records == []  # still not committed
    w.mm[third + R.COMMIT_OFFSET : third + R.POINT_SIZE] = word  # now it is
    second = reader.read()
    assert (second.first_seq, [r[4] for r in second.records]) == (2, [2.0])
    w.close()


def test_a_stream_in_a_folder_made_for_it(tmp_path: Path) -> None:
    folder = tmp_path / "spool" / "run"  # neither exists yet
    first = SpoolWriter(folder, "s")
    with pytest.raises(FileExistsError, match="'s' already exists"):
        SpoolWriter(folder, "s")  # the folder is not new now: the stream is looked for
    second = SpoolWriter(folder, "t")
    for writer in (first, second):
        writer.write_float(writer.intern("m", "scalar"), 0, 1.0, 2.0)
        writer.close()
    for stream in ("s", "t"):
        assert [r[4] for r in SpoolReader(folder, stream).read().records] == [2.0]


def test_the_shipper_of_a_new_stream_looks_for_no_position_file(
    ws: Workspace, exp: Experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_look(folder: Path, stream: str) -> None:
        raise AssertionError(f"looked for the position of new stream {stream}")

    monkeypatch.setattr(shipper_module, "load_position", no_look)
    run = exp.start_logging(snapshot_directory=None)
    spooled = SpooledMetrics(ws.store, run.id, tmp_path / "spool")
    spooled.writer.write_float(spooled.writer.intern("own", "scalar"), 0, 1.0, 1.0)
    other = []

    def log_from_a_thread() -> None:
        writer = spooled.writer_for_thread()
        writer.write_float(writer.intern("other", "scalar"), 0, 1.0, 2.0)
        other.append(writer.stream)

    thread = threading.Thread(target=log_from_a_thread)
    thread.start()
    thread.join()
    spooled.close(30.0)
    assert ws.store.read_series(run.id, "own").values == [1.0]
    assert ws.store.read_series(run.id, "other").values == [2.0]
    assert not (tmp_path / "spool" / run.id).exists()
    run.complete()


def _read_all(folder: Path, sizes: list[int]) -> tuple[list[object], int, list[str], object]:
    reader = SpoolReader(folder, "s", columnar=True)
    got: list[object] = []
    for size in sizes:
        chunk = reader.read(size)
        got.extend(chunk.records)
        if reader.finished:
            break
    return got, reader.skipped, reader.problems, reader.pos


@pytest.mark.parametrize("reader_scan", ["C scan"], indirect=True)
@pytest.mark.parametrize("seed", range(12))
def test_the_c_scan_reads_what_the_python_path_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, reader_scan: str
) -> None:
    """Random streams of names, float, int and JSON points, a record left uncommitted
    and a few damaged bytes, read in batches of random sizes: the C scan and the
    Python path give the same points, skips, problems and position."""
    import random

    from runtrack.spool import reader as reader_module

    rng = random.Random(seed)
    w = SpoolWriter(tmp_path, "s")
    ids: list[int] = []
    for i in range(rng.randint(50, 600)):
        roll = rng.random()
        if roll < 0.1 or not ids:
            ids.append(w.intern(f"m{len(ids)}é" if roll < 0.02 else f"m{len(ids)}", "scalar"))
        nid = rng.choice(ids)
        step = rng.choice([i, R.NO_STEP, -5])
        if roll < 0.15:
            w.write_json(nid, step, float(i), rng.choice(["x", None, True]))
        elif roll < 0.5:
            w.write_int(nid, step, float(i), rng.randint(-(2**63), 2**63 - 1))
        else:
            w.write_float(nid, step, float(i), rng.uniform(-1e9, 1e9))
    end = w.offset
    if rng.random() < 0.5:  # the last point is still being written
        w.mm[end - R.POINT_SIZE + R.COMMIT_OFFSET : end - R.POINT_SIZE + R.POINT_SIZE] = bytes(4)
    for _ in range(rng.randint(0, 3)):  # damage: lengths, types, ids, name bytes
        at = rng.randrange(R.HEADER_SIZE, end)
        w.mm[at] = rng.randrange(256)
    w.mm.flush()
    sizes = [rng.randint(1, 300) for _ in range(200)]
    with_c = _read_all(tmp_path, sizes)
    monkeypatch.setattr(reader_module, "scan", None)
    without = _read_all(tmp_path, sizes)
    assert with_c == without
    w.release()
