"""The spool's prefault thread: a long stream's pages are faulted in ahead of the
writer, on Linux (``madvise(MADV_POPULATE_WRITE)``), without changing what is written."""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from runtrack.spool import _prefault
from runtrack.spool import record as R
from runtrack.spool import writer as writer_module
from runtrack.spool.reader import SpoolReader
from runtrack.spool.writer import SpoolWriter

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="MADV_POPULATE_WRITE is Linux's"
)


def _madvise_or_skip() -> Any:
    madvise = _prefault._madvise_function()
    probe = writer_module.mmap.mmap(-1, 4096)
    try:
        madvise(probe, 0, 4096)
    except OSError as exc:  # a kernel before 5.14
        pytest.skip(f"this kernel has no MADV_POPULATE_WRITE ({exc})")
    finally:
        probe.close()
    return madvise


def _logging_writer(folder: Path, **kwargs: Any) -> tuple[SpoolWriter, Any]:
    """A writer and its scalar logger, whose slow path writes the point (as the run's
    does), so the logger goes on past each prefault frontier."""
    w = SpoolWriter(folder, "s", **kwargs)
    nid = w.intern("loss", "scalar")
    w.enable_append("loss", nid)

    def slow(name: str, value: float, description: str, step: int) -> None:
        w.write_float(nid, step, time.time(), value)

    return w, w.scalar_logger(slow)


def _thread_faults() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt


@linux_only
def test_populated_pages_take_no_fault_when_the_logger_writes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    madvise = _madvise_or_skip()
    off = _prefault.Prefaulter()
    off.enabled = False  # this test populates by hand, on its own thread
    monkeypatch.setattr(_prefault, "PREFAULTER", off)
    monkeypatch.setattr(writer_module, "FIRST_SEGMENT", 4 << 20)
    points = 50_000  # 2 MB: ~490 pages

    def faults_while_logging(populate: bool, folder: Path) -> int:
        w, log = _logging_writer(folder, segment_size=4 << 20)
        if populate:
            w.populate(0, 0, 4 << 20, madvise)
        before = _thread_faults()
        for i in range(points):
            log("loss", 0.5, step=i)
        spent = _thread_faults() - before
        assert w.seq == points
        w.close()
        return spent

    assert faults_while_logging(False, tmp_path / "cold") > 400
    assert faults_while_logging(True, tmp_path / "warm") < 20


@linux_only
def test_a_long_stream_reads_back_whole_while_its_segments_are_prefaulted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _madvise_or_skip()
    fresh = _prefault.Prefaulter()
    monkeypatch.setattr(_prefault, "PREFAULTER", fresh)
    # small chunks and segments: many requests, many of them for a segment the writer
    # has already left (or is leaving) when the thread gets to them
    monkeypatch.setattr(_prefault, "CHUNK", 8192)
    w, log = _logging_writer(tmp_path, segment_size=128 * 1024)
    n = 100_000
    for i in range(n):
        log("loss", float(i), step=i)
    w.close()
    deadline = time.monotonic() + 10
    while fresh.served < 100 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fresh.enabled and fresh.served >= 100
    values = []
    reader = SpoolReader(tmp_path, "s")
    while True:
        chunk = reader.read(50_000)
        if not chunk.records:
            break
        values += [r[4] for r in chunk.records]
    assert values == [float(i) for i in range(n)]


def test_a_short_stream_asks_for_no_prefault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[int, int, int]] = []

    class Recorder(_prefault.Prefaulter):
        def ahead(self, writer: SpoolWriter, segment: int, start: int, end: int) -> None:
            asked.append((segment, start, end))

    recorder = Recorder()
    recorder.enabled = True
    monkeypatch.setattr(_prefault, "PREFAULTER", recorder)
    w, log = _logging_writer(tmp_path)
    for i in range(5_000):  # ~200 KB: the 64 KiB and 128 KiB segments only
        log("loss", 0.5, step=i)
    assert asked == []
    for i in range(200_000):  # 8 MB: into the 2 MiB segment and beyond
        log("loss", 0.5, step=i)
    w.close()
    assert asked, "a long stream asks for its pages ahead"
    by_segment: dict[int, list[tuple[int, int]]] = {}
    for segment, start, end in asked:
        by_segment.setdefault(segment, []).append((start, end))
    for ranges in by_segment.values():  # each segment's chunks in order, no gaps
        assert ranges[0][0] == 0
        assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    assert sum(e - s for r in by_segment.values() for s, e in r) < R.POINT_SIZE * 205_000
