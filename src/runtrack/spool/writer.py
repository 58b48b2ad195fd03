"""Append-only, memory-mapped spool writer: the hot path of ``run.log()``.

A record is committed when its length word is written, which happens last; the
mapping is shared with the page cache, so a point whose call returned survives a
SIGKILL of the process (not a power cut: that needs ``sync()``). One writer per
stream; not thread-safe on its own (the SDK serialises calls per run).
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runtrack.spool import record as R

#: Most points in one FLOATS/JSONS record: well below ``limits.MAX_BATCH_RECORDS``, so
#: a reader can always fit a whole record into one batch.
MAX_BLOCK_POINTS = 32_768


def segment_path(folder: Path, stream: str, number: int) -> Path:
    return folder / f"{stream}.{number:06d}.seg"


class SpoolWriter:
    """Writes one stream of a run into numbered segment files in ``folder``."""

    def __init__(self, folder: Path, stream: str, *, segment_size: int = R.SEGMENT_SIZE) -> None:
        self.folder = folder
        self.stream = stream
        self.segment_size = segment_size
        self.seq = 0  # points written so far = next sequence number
        self.closed = False
        self._names: dict[tuple[str, str], int] = {}
        self._descs: dict[int, str] = {}
        self._segment = -1
        self.mm: mmap.mmap = mmap.mmap(-1, 1)  # replaced by the first segment
        self._fd = -1
        self.offset = 0
        self.limit = 0
        folder.mkdir(parents=True, exist_ok=True)
        existing = sorted(folder.glob(f"{stream}.*.seg"))
        if existing:
            raise FileExistsError(f"spool stream {stream!r} already exists in {folder}")
        self._open_segment(0)

    # -- segments ----------------------------------------------------------------

    def _open_segment(self, number: int) -> None:
        path = segment_path(self.folder, self.stream, number)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        os.ftruncate(fd, self.segment_size)
        mm = mmap.mmap(fd, self.segment_size)
        R.HEADER.pack_into(mm, 0, R.MAGIC, R.VERSION, number, self.seq, os.getpid())
        self._close_segment()
        self._fd, self.mm, self._segment = fd, mm, number
        self.offset, self.limit = R.HEADER_SIZE, self.segment_size
        for (name, kind), nid in self._names.items():
            self._put_name(nid, name, kind)
            if nid in self._descs:
                self._put_desc(nid, self._descs[nid])

    def _close_segment(self) -> None:
        if self._fd >= 0:
            self.mm.close()
            os.close(self._fd)
            self._fd = -1

    def _room(self, size: int) -> mmap.mmap:
        """The mapping, with ``size`` bytes free at ``self.offset`` (rolls segments)."""
        if self.offset + size > self.limit:
            if size > self.segment_size - R.HEADER_SIZE - 4096:
                raise ValueError(f"a single spool record of {size} bytes is too large")
            self._open_segment(self._segment + 1)
        return self.mm

    def _commit(self, mm: mmap.mmap, size: int) -> None:
        R.LEN.pack_into(mm, self.offset, size)
        self.offset += size

    # -- records ---------------------------------------------------------------------

    def intern(self, name: str, kind: str) -> int:
        key = (name, kind)
        nid = self._names.get(key)
        if nid is None:
            nid = len(self._names)
            self._names[key] = nid
            self._put_name(nid, name, kind)
        return nid

    def _put_name(self, nid: int, name: str, kind: str) -> None:
        raw = name.encode()
        size = R.align(4 + R.NAME_HEAD.size + len(raw))
        mm = self._room(size)
        R.NAME_HEAD.pack_into(mm, self.offset + 4, R.NAME, nid, R.CODE_OF_KIND[kind])
        start = self.offset + 4 + R.NAME_HEAD.size
        mm[start : start + len(raw)] = raw
        self._commit(mm, size)

    def describe(self, nid: int, description: str) -> None:
        if self._descs.get(nid) != description:
            self._descs[nid] = description
            self._put_desc(nid, description)

    def _put_desc(self, nid: int, description: str) -> None:
        raw = description.encode()
        size = R.align(4 + R.TYPE_ID.size + len(raw))
        mm = self._room(size)
        R.TYPE_ID.pack_into(mm, self.offset + 4, R.DESC, nid)
        start = self.offset + 4 + R.TYPE_ID.size
        mm[start : start + len(raw)] = raw
        self._commit(mm, size)

    def write_float(self, nid: int, step: int, when: float, value: float) -> None:
        """One float point (``step`` = record.NO_STEP when absent); one pack, committed
        by its trailing commit word. ``Run.log`` inlines this same code."""
        off = self.offset
        if off + R.POINT_SIZE > self.limit:
            self._room(R.POINT_SIZE)
            off = self.offset
        R.FLOAT_REC.pack_into(self.mm, off, 40, R.FLOAT, nid, step, when, value, R.COMMIT)
        self.offset = off + R.POINT_SIZE
        self.seq += 1

    def write_int(self, nid: int, step: int, when: float, value: int) -> None:
        """One int point of at most 64 bits."""
        off = self.offset
        if off + R.POINT_SIZE > self.limit:
            self._room(R.POINT_SIZE)
            off = self.offset
        R.INT_REC.pack_into(self.mm, off, 40, R.INT, nid, step, when, value, R.COMMIT)
        self.offset = off + R.POINT_SIZE
        self.seq += 1

    def write_json(self, nid: int, step: int, when: float, value: Any) -> None:
        self._put_json(R.JSON, nid, step, when, R.dumps(value))
        self.seq += 1

    def write_many(self, nid: int, step: int, when: float, values: Sequence[Any]) -> None:
        """``len(values)`` points sharing step and time (list elements, table rows)."""
        if not values:
            return
        if all(type(v) is float for v in values):
            self._write_floats(nid, step, when, values)
            return
        budget = self.segment_size // 4
        chunk: list[Any] = []
        size = 0
        for value in values:
            raw_len = len(R.dumps(value)) + 1
            if chunk and (size + raw_len > budget or len(chunk) >= MAX_BLOCK_POINTS):
                self._put_json(R.JSONS, nid, step, when, R.dumps(chunk))
                self.seq += len(chunk)
                chunk, size = [], 0
            chunk.append(value)
            size += raw_len
        self._put_json(R.JSONS, nid, step, when, R.dumps(chunk))
        self.seq += len(chunk)

    def _write_floats(self, nid: int, step: int, when: float, values: Sequence[float]) -> None:
        self.write_packed_floats(nid, step, when, memoryview(_pack_doubles(values)))

    def write_packed_floats(self, nid: int, step: int, when: float, data: memoryview) -> None:
        """``len(data) // 8`` float points sharing step and time, given as packed
        little-endian float64 bytes (e.g. a numpy array's buffer: no per-value work)."""
        data = data.cast("B") if data.format != "B" or data.ndim != 1 else data
        per = min((self.segment_size // 4) // 8, MAX_BLOCK_POINTS) * 8
        for start in range(0, len(data), per):
            part = data[start : start + per]
            n = len(part) // 8
            size = R.align(4 + R.FLOATS_HEAD.size + 8 * n)
            mm = self._room(size)
            R.FLOATS_HEAD.pack_into(mm, self.offset + 4, R.FLOATS, nid, n, step, when)
            body = self.offset + 4 + R.FLOATS_HEAD.size
            mm[body : body + 8 * n] = part[: 8 * n]
            self._commit(mm, size)
            self.seq += n

    def _put_json(self, rtype: int, nid: int, step: int, when: float, raw: bytes) -> None:
        size = R.align(4 + R.POINT_HEAD.size + len(raw))
        mm = self._room(size)
        R.POINT_HEAD.pack_into(mm, self.offset + 4, rtype, nid, step, when)
        start = self.offset + 4 + R.POINT_HEAD.size
        mm[start : start + len(raw)] = raw
        self._commit(mm, size)

    def close(self) -> None:
        """Mark the stream finished (END record) and unmap."""
        if self.closed:
            return
        mm = self._room(8)
        R.TYPE_ID.pack_into(mm, self.offset + 4, R.END, 0)
        self._commit(mm, 8)
        self._close_segment()
        self.closed = True


def _pack_doubles(values: Sequence[float]) -> bytes:
    from array import array

    return array("d", values).tobytes()
