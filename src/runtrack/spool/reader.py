"""Read committed records of one spool stream, from any position, in any process.

With numpy importable the reader hands out points in columnar form
(:class:`~runtrack.model.PointColumns`, decoded by :mod:`runtrack.spool._columns`);
without it, as a list of records. Both carry the same points in the same order.
"""

from __future__ import annotations

import json
import mmap
import os
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtrack.model import ColumnRecords, PointColumns, Record
from runtrack.spool import record as R
from runtrack.spool._columns import ColumnBuilder, numpy_or_none
from runtrack.spool.writer import MAX_BLOCK_POINTS, segment_path


@dataclass
class Position:
    """Where a reader stands: a segment, a byte offset in it, and the next seq."""

    segment: int = 0
    offset: int = R.HEADER_SIZE
    seq: int = 0

    def to_json(self) -> str:
        return json.dumps({"segment": self.segment, "offset": self.offset, "seq": self.seq})

    @classmethod
    def from_json(cls, text: str) -> Position:
        data = json.loads(text)
        return cls(int(data["segment"]), int(data["offset"]), int(data["seq"]))


@dataclass
class Chunk:
    """Points read in one call: ``records`` (built lazily from ``columns`` when the
    reader decoded columns), metric descriptions seen, and where reading stopped."""

    first_seq: int
    records: Sequence[Record]
    descriptions: dict[str, str]
    end: Position
    columns: PointColumns | None = None


class SpoolReader:
    """Reads a stream's records after ``position``; never blocks, never writes.

    ``columnar`` (default: whether numpy is importable) picks the columnar decoder.
    """

    def __init__(
        self,
        folder: Path,
        stream: str,
        position: Position | None = None,
        *,
        columnar: bool | None = None,
    ) -> None:
        self.folder = folder
        self.stream = stream
        self.columnar = columnar  # None: decided at the first read (importing numpy)
        self.pos = Position() if position is None else Position(**vars(position))
        self.finished = False
        self._names: dict[int, tuple[str, str]] = {}
        self._descs: dict[int, str] = {}
        self._mm: mmap.mmap | None = None
        self._mm_segment = -1
        if self.pos.offset > R.HEADER_SIZE:
            self._replay_names(self.pos.offset)

    def _map(self) -> mmap.mmap | None:
        if self._mm is not None and self._mm_segment == self.pos.segment:
            return self._mm
        self.close()
        path = segment_path(self.folder, self.stream, self.pos.segment)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            size = os.fstat(fd).st_size
            if size < R.HEADER_SIZE:
                return None
            self._mm = mmap.mmap(fd, size, access=mmap.ACCESS_READ)
        finally:
            os.close(fd)
        self._mm_segment = self.pos.segment
        return self._mm

    def _replay_names(self, until: int) -> None:
        """Re-read NAME/DESC records of the current segment up to ``until``."""
        mm = self._map()
        if mm is None:
            return
        off = R.HEADER_SIZE
        while off < until:
            (length,) = R.LEN.unpack_from(mm, off)
            if length == 0:
                break
            self._decode_meta(mm, off, length)
            off += length

    def _decode_meta(self, mm: mmap.mmap, off: int, length: int) -> int:
        rtype = mm[off + 4]
        if rtype == R.NAME:
            _, nid, kind = R.NAME_HEAD.unpack_from(mm, off + 4)
            start = off + 4 + R.NAME_HEAD.size
            name = bytes(mm[start : off + length]).rstrip(b"\0").decode()
            self._names[nid] = (name, R.KIND_OF_CODE[kind])
        elif rtype == R.DESC:
            _, nid = R.TYPE_ID.unpack_from(mm, off + 4)
            start = off + 4 + R.TYPE_ID.size
            self._descs[nid] = bytes(mm[start : off + length]).rstrip(b"\0").decode()
        return int(rtype)

    def read(self, max_points: int = 50_000) -> Chunk:
        """Committed points after the position (at most about ``max_points``)."""
        if self.columnar is None:
            self.columnar = numpy_or_none() is not None
        if self.columnar:
            return self._read_columns(max_points)
        first = self.pos.seq
        out: list[Record] = []
        descs: dict[str, str] = {}
        while len(out) < max_points and not self.finished:
            mm = self._next_record()
            if mm is None:
                break
            off = self.pos.offset
            rtype = mm[off + 4]
            if rtype == R.FLOAT:
                taken = self._float_run(mm, off, max_points - len(out), out)
                if taken == 0:
                    break  # being written right now
                self.pos.offset = off + taken * R.POINT_SIZE
                continue
            if not self._committed(mm, off, rtype):
                break  # a point record still being written
            if out and len(out) + self._points_in(mm, off, rtype) > max_points:
                break  # the block goes whole into the next batch
            length = R.LEN.unpack_from(mm, off)[0]
            self._decode(mm, off, length, out, descs)
            self.pos.offset = off + length
        self.pos.seq = first + len(out)
        return Chunk(first, out, descs, Position(**vars(self.pos)))

    def _read_columns(self, max_points: int) -> Chunk:
        first = self.pos.seq
        built = ColumnBuilder()
        descs: dict[str, str] = {}
        while built.count < max_points and not self.finished:
            mm = self._next_record()
            if mm is None:
                break
            off = self.pos.offset
            rtype = mm[off + 4]
            if rtype == R.FLOAT or rtype == R.INT:
                taken = built.add_point_run(mm, off, max_points - built.count)
                if taken == 0:
                    break  # being written right now
                self.pos.offset = off + taken * R.POINT_SIZE
                continue
            if not self._committed(mm, off, rtype):
                break
            if built.count and built.count + self._points_in(mm, off, rtype) > max_points:
                break  # the block goes whole into the next batch
            length = R.LEN.unpack_from(mm, off)[0]
            self._decode_into(built, mm, off, length, descs)
            self.pos.offset = off + length
        self.pos.seq = first + built.count
        records: list[Record] = []
        if not built.count:
            return Chunk(first, records, descs, Position(**vars(self.pos)))
        columns = built.build(self._names)
        return Chunk(first, ColumnRecords(columns), descs, Position(**vars(self.pos)), columns)

    def _next_record(self) -> mmap.mmap | None:
        """The mapping holding the next record at ``self.pos`` (moving on to the next
        segment when this one is used up), or None when nothing more is written."""
        while True:
            mm = self._map()
            if mm is None:
                return None
            off = self.pos.offset
            if off + 8 <= len(mm) and R.LEN.unpack_from(mm, off)[0] != 0:
                return mm
            nxt = segment_path(self.folder, self.stream, self.pos.segment + 1)
            if not nxt.exists():
                return None
            # The writer fills a segment before creating the next one: look again, a
            # record may have landed here between the first look and the check.
            if off + 8 <= len(mm) and R.LEN.unpack_from(mm, off)[0] != 0:
                return mm
            self.pos = Position(self.pos.segment + 1, R.HEADER_SIZE, self.pos.seq)

    @staticmethod
    def _points_in(mm: mmap.mmap, off: int, rtype: int) -> int:
        """Points a committed record holds; for JSONS an upper bound without decoding
        it (each value takes at least two bytes of JSON, and a block holds at most
        ``writer.MAX_BLOCK_POINTS``)."""
        if rtype == R.FLOATS:
            return int(R.FLOATS_HEAD.unpack_from(mm, off + 4)[2])
        if rtype == R.JSONS:
            text = R.LEN.unpack_from(mm, off)[0] - 4 - R.POINT_HEAD.size
            return min(MAX_BLOCK_POINTS, int(text) // 2 + 1)
        return 1 if rtype in (R.JSON, R.INT, R.FLOAT) else 0

    @staticmethod
    def _committed(mm: mmap.mmap, off: int, rtype: int) -> bool:
        if rtype == 0:
            return False
        if rtype == R.INT or rtype == R.FLOAT:
            return bool(R.COMMIT_WORD.unpack_from(mm, off + R.COMMIT_OFFSET)[0] == R.COMMIT)
        return True

    def _decode_into(
        self, built: ColumnBuilder, mm: mmap.mmap, off: int, length: int, descs: dict[str, str]
    ) -> None:
        """Like :meth:`_decode`, into a column builder (point runs are taken elsewhere)."""
        rtype = mm[off + 4]
        if rtype in (R.JSON, R.JSONS):
            _, nid, step, when = R.POINT_HEAD.unpack_from(mm, off + 4)
            start = off + 4 + R.POINT_HEAD.size
            decoded: Any = R.loads(bytes(mm[start : off + length]).rstrip(b"\0"))
            for value in [decoded] if rtype == R.JSON else decoded:
                built.add_object(nid, step, when, value)
        elif rtype == R.FLOATS:
            _, nid, n, step, when = R.FLOATS_HEAD.unpack_from(mm, off + 4)
            start = off + 4 + R.FLOATS_HEAD.size
            built.add_floats(nid, step, when, mm[start : start + 8 * n])
        else:
            self._decode_control(mm, off, length, descs)

    def _decode_control(
        self, mm: mmap.mmap, off: int, length: int, descs: dict[str, str]
    ) -> None:
        """END, NAME and DESC records (the ones that carry no point)."""
        rtype = mm[off + 4]
        if rtype == R.END:
            self.finished = True
            return
        self._decode_meta(mm, off, length)
        if rtype == R.DESC:
            _, nid = R.TYPE_ID.unpack_from(mm, off + 4)
            descs[self._names[nid][0]] = self._descs[nid]

    def _float_run(self, mm: mmap.mmap, off: int, limit: int, out: list[Record]) -> int:
        """Decode consecutive committed FLOAT records from ``off``; return how many."""
        end = min(len(mm), off + R.POINT_SIZE * max(limit, 1))
        end -= (end - off) % R.POINT_SIZE
        names = self._names
        taken = 0
        append = out.append
        no_step, commit, ftype = R.NO_STEP, R.COMMIT, R.FLOAT
        for length, rtype, nid, step, when, value, word in R.FLOAT_REC.iter_unpack(mm[off:end]):
            if length != 40 or rtype != ftype or word != commit:
                break
            name, kind = names[nid]
            append((name, kind, None if step == no_step else step, when, value))
            taken += 1
        return taken

    def _decode(
        self, mm: mmap.mmap, off: int, length: int, out: list[Record], descs: dict[str, str]
    ) -> None:
        rtype = mm[off + 4]
        if rtype == R.INT:
            _, _, nid, step, when, ivalue, _ = R.INT_REC.unpack_from(mm, off)
            name, kind = self._names[nid]
            out.append((name, kind, None if step == R.NO_STEP else step, when, ivalue))
        elif rtype in (R.JSON, R.JSONS):
            _, nid, step, when = R.POINT_HEAD.unpack_from(mm, off + 4)
            name, kind = self._names[nid]
            start = off + 4 + R.POINT_HEAD.size
            decoded: Any = R.loads(bytes(mm[start : off + length]).rstrip(b"\0"))
            s = None if step == R.NO_STEP else step
            if rtype == R.JSON:
                out.append((name, kind, s, when, decoded))
            else:
                out.extend((name, kind, s, when, v) for v in decoded)
        elif rtype == R.FLOATS:
            _, nid, n, step, when = R.FLOATS_HEAD.unpack_from(mm, off + 4)
            name, kind = self._names[nid]
            start = off + 4 + R.FLOATS_HEAD.size
            values = array("d")
            values.frombytes(mm[start : start + 8 * n])
            s = None if step == R.NO_STEP else step
            out.extend((name, kind, s, when, v) for v in values.tolist())
        else:
            self._decode_control(mm, off, length, descs)

    def close(self) -> None:
        if self._mm is not None:
            self._mm.close()
            self._mm = None
            self._mm_segment = -1


def list_streams(folder: Path) -> list[str]:
    """Stream names with segments in a run's spool folder."""
    return sorted({p.name.rsplit(".", 2)[0] for p in folder.glob("*.seg")})
