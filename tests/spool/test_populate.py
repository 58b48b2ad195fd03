"""A long spool stream's pages are made writable a chunk at a time
(``madvise(MADV_POPULATE_WRITE)``, Linux) instead of faulting in one by one, without
changing what is written."""

from __future__ import annotations

import itertools
import mmap
import sys
from pathlib import Path
from typing import Any

import pytest

from runtrack.spool import record as R
from runtrack.spool import writer as writer_module
from runtrack.spool.reader import SpoolReader
from runtrack.spool.writer import SpoolWriter


def _populate_or_skip() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("MADV_POPULATE_WRITE is Linux's")
    probe = mmap.mmap(-1, 4096)
    try:
        probe.madvise(getattr(mmap, "MADV_POPULATE_WRITE", 23))
    except OSError as exc:
        pytest.skip(f"this kernel has no MADV_POPULATE_WRITE ({exc})")
    finally:
        probe.close()


def _logging_writer(folder: Path, **kwargs: Any) -> tuple[SpoolWriter, Any]:
    """A writer and its scalar logger, whose slow path writes the point (as the run's
    does), so the logger goes on past each chunk's end."""
    w = SpoolWriter(folder, "s", **kwargs)
    nid = w.intern("loss", "scalar")
    w.enable_append("loss", nid)

    def slow(name: str, value: float, description: str, step: int) -> None:
        w.write_float(nid, step, 0.0, value)

    return w, w.scalar_logger(slow)


def _thread_faults() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt


def test_each_chunk_is_populated_once_when_the_logger_reaches_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate_or_skip()
    monkeypatch.setattr(writer_module, "FIRST_SEGMENT", 4 << 20)
    points = 50_000  # 2 MB: ~490 pages, 8 chunks

    def faults_while_logging(populate: bool, folder: Path) -> int:
        monkeypatch.setattr(writer_module, "_POPULATE", [23 if populate else None])
        w, log = _logging_writer(folder, segment_size=4 << 20)
        before = _thread_faults()
        for i in range(points):
            log("loss", 0.5, step=i)
        spent = _thread_faults() - before
        assert w.seq == points
        w.close()
        return spent

    cold = faults_while_logging(False, tmp_path / "cold")
    assert cold > 400  # one per page
    asked: list[tuple[int, int]] = []
    real = mmap.mmap.madvise

    class Watched(mmap.mmap):
        def madvise(self, option: int, start: int = 0, length: int = 0) -> None:
            asked.append((start, length))
            real(self, option, start, length)

    monkeypatch.setattr(writer_module.mmap, "mmap", Watched)
    warm = faults_while_logging(True, tmp_path / "warm")
    chunk = writer_module.POPULATE_CHUNK
    assert asked[: points * R.POINT_SIZE // chunk] == [
        (k * chunk, chunk) for k in range(points * R.POINT_SIZE // chunk)
    ]
    assert warm <= cold  # the same pages (madvise's count too), in bulk: not one trap each


def test_a_long_stream_reads_back_whole_across_populated_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate_or_skip()
    monkeypatch.setattr(writer_module, "POPULATE_CHUNK", 8192)  # many chunks, many rolls
    w, log = _logging_writer(tmp_path, segment_size=128 * 1024)
    n = 100_000
    for i in range(n):
        log("loss", float(i), step=i)
    w.close()
    values = []
    reader = SpoolReader(tmp_path, "s")
    while chunk := reader.read(50_000).records:
        values += [r[4] for r in chunk]
    assert values == [float(i) for i in range(n)]


def test_only_segments_of_two_chunks_or_more_are_populated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[int, int, int]] = []
    real = mmap.mmap.madvise

    class Watched(mmap.mmap):
        def madvise(self, option: int, start: int = 0, length: int = 0) -> None:
            asked.append((len(self), start, length))
            real(self, option, start, length)

    monkeypatch.setattr(writer_module.mmap, "mmap", Watched)
    monkeypatch.setattr(writer_module, "_POPULATE", [getattr(mmap, "MADV_POPULATE_WRITE", 23)])
    if not sys.platform.startswith("linux"):
        pytest.skip("MADV_POPULATE_WRITE is Linux's")
    w, log = _logging_writer(tmp_path)
    for i in range(5_000):  # ~200 KB: the 64 KiB and 128 KiB segments only
        log("loss", 0.5, step=i)
    assert asked == []
    for i in range(200_000):  # 8 MB: into the 512 KiB segment and beyond
        log("loss", 0.5, step=i)
    w.close()
    chunk = writer_module.POPULATE_CHUNK
    assert asked and all(size >= 2 * chunk for size, _, _ in asked)
    by_segment = [list(g) for _, g in itertools.groupby(asked, key=lambda a: a[0])]
    for ranges in by_segment:  # each segment's chunks in order, from its start, no gaps
        assert ranges[0][1] == 0
        assert all(a[1] + a[2] == b[1] for a, b in itertools.pairwise(ranges))
