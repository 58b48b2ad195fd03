"""Read committed records of one spool stream, from any position, in any process.

With numpy importable the reader hands out points in columnar form
(:class:`~runtrack.model.PointColumns`, decoded by :mod:`runtrack.spool._columns`);
without it, as a list of records. Both carry the same points in the same order.

Damaged spools never stop a reader: a record that cannot be decoded (bad length,
unknown type or name id, invalid UTF-8 or JSON, a point record its writer abandoned
half-written) or that lies in a block whose CRC-32 does not match the segment's
CHECK record (flipped bytes in a finished segment) is skipped, its points counted
in ``skipped`` and the reason kept in ``problems`` (and logged once). A length word
that cannot be trusted makes the reader skip the rest of that segment. Sequence
numbers count the points handed out, so the store sees no gap where points were
skipped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import mmap
import os
import struct
import zlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtrack.model import ColumnRecords, PointColumns, Record
from runtrack.spool import record as R
from runtrack.spool._columns import ColumnBuilder, numpy_or_none
from runtrack.spool.writer import MAX_BLOCK_POINTS, segment_path

log = logging.getLogger("runtrack.spool")

_VARIABLE = frozenset((R.NAME, R.JSON, R.JSONS, R.FLOATS, R.DESC, R.END, R.CHECK))
_SCANNED = frozenset((R.NAME, R.FLOAT, R.INT))
scan: Any  # the C scan of NAME records and committed points (_scalar.c), where built
try:
    from runtrack.spool import _scalar

    scan = _scalar.scan
except ImportError:  # its Python twin: ColumnBuilder.add_point_run and the loop below
    scan = None
_DECODE_ERRORS = (ValueError, KeyError, IndexError, TypeError, struct.error)
MAX_PROBLEMS = 20  # problems kept per reader (all are counted in ``skipped``)


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
    ``memory``: the in-memory segments of a writer in this process (its disk was full).
    ``own``: the stream's writer is in this process and made the stream: its bytes are
    read back from the page cache the writer wrote them into, so the segments'
    checksums (kept for recovery after a crash) are not verified.
    """

    def __init__(
        self,
        folder: Path,
        stream: str,
        position: Position | None = None,
        *,
        columnar: bool | None = None,
        memory: dict[int, mmap.mmap] | None = None,
        own: bool = False,
    ) -> None:
        self.folder = folder
        self.own = own
        self.stream = stream
        self.columnar = columnar  # None: decided at the first read (importing numpy)
        self.memory = memory
        self.pos = Position() if position is None else Position(**vars(position))
        self.finished = False
        self.skipped = 0  # points in records skipped as undecodable
        self.problems: list[str] = []
        self._seen_problems: set[tuple[int, int]] = set()
        self._names: dict[int, tuple[str, str]] = {}
        self._id_bound = 0  # ids 0 .. _id_bound-1 are all known
        self._descs: dict[int, str] = {}
        self._mm: mmap.mmap | None = None
        self._mm_owned = False
        self._mm_segment = -1
        self._bad: list[tuple[int, int]] = []  # byte ranges of the mapped segment that failed
        if self.pos.offset > R.HEADER_SIZE:
            self._replay_names(self.pos.offset)

    def _map(self) -> mmap.mmap | None:
        if self._mm is not None and self._mm_segment == self.pos.segment:
            return self._mm
        self.close()
        if self.memory is not None and self.pos.segment in self.memory:
            self._mm, self._mm_owned = self.memory[self.pos.segment], False
            self._mm_segment = self.pos.segment
            self._bad = [] if self.own else self._verify(self._mm)
            return self._mm
        path = segment_path(self.folder, self.stream, self.pos.segment)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            size = os.fstat(fd).st_size
            if size < R.HEADER_SIZE:
                return None
            self._mm, self._mm_owned = mmap.mmap(fd, size, access=mmap.ACCESS_READ), True
        finally:
            os.close(fd)
        self._mm_segment = self.pos.segment
        self._bad = [] if self.own else self._verify(self._mm)
        return self._mm

    def _verify(self, mm: mmap.mmap) -> list[tuple[int, int]]:
        """Byte ranges of a finished segment whose CRC-32 does not match its CHECK
        record; [] for a segment without one (still being written, or crashed)."""
        at = R.LEN.unpack_from(mm, R.CHECK_AT)[0]
        if at == 0:
            return []
        head_end = at + 4 + R.CHECK_HEAD.size
        try:
            if at % 8 or head_end > len(mm) or mm[at + 4] != R.CHECK:
                raise ValueError(f"no CHECK record at offset {at}")
            _, block, n, end = R.CHECK_HEAD.unpack_from(mm, at + 4)
            if end != at or block <= 0 or head_end + 4 * n > len(mm):
                raise ValueError("a CHECK record that does not fit its segment")
            crcs = struct.unpack_from(f"<{n}I", mm, head_end)
        except (ValueError, struct.error) as exc:
            self._problem(R.CHECK_AT, f"the segment's checksums are unreadable ({exc})")
            return []
        bad = []
        with memoryview(mm) as view:
            for i, start in enumerate(range(R.HEADER_SIZE, end, block)):
                stop = min(start + block, end)
                if i >= n or zlib.crc32(view[start:stop]) != crcs[i]:
                    bad.append((start, stop))
        for start, stop in bad:
            self._problem(start, f"bytes {start}-{stop} do not match their checksum")
        return bad

    def _clean_points(self, off: int, limit: int) -> int:
        """``limit``, cut so a run of point records from ``off`` ends before the next
        damaged block."""
        for start, stop in self._bad:
            if stop > off:
                return min(limit, max(0, (start - off) // R.POINT_SIZE))
        return limit

    def _damaged(self, off: int, length: int) -> bool:
        return any(start < off + length and off < stop for start, stop in self._bad)

    def _segment_exists(self, number: int) -> bool:
        if self.memory is not None and number in self.memory:
            return True
        return segment_path(self.folder, self.stream, number).exists()

    def _replay_names(self, until: int) -> None:
        """Re-read NAME/DESC records of the current segment up to ``until``."""
        mm = self._map()
        if mm is None:
            return
        off = R.HEADER_SIZE
        while off + 8 <= min(until, len(mm)):
            (length,) = R.LEN.unpack_from(mm, off)
            if length == 0 or length % 8 or off + length > len(mm):
                break
            if mm[off + 4] in (R.NAME, R.DESC):
                with contextlib.suppress(*_DECODE_ERRORS):  # reported when read itself
                    self._decode_meta(mm, off, length)
            off += length

    def _decode_meta(self, mm: mmap.mmap, off: int, length: int) -> int:
        rtype = mm[off + 4]
        if rtype == R.NAME:
            _, nid, kind = R.NAME_HEAD.unpack_from(mm, off + 4)
            start = off + 4 + R.NAME_HEAD.size
            name = bytes(mm[start : off + length]).rstrip(b"\0").decode()
            self._names[nid] = (name, R.KIND_OF_CODE[kind])
            while self._id_bound in self._names:
                self._id_bound += 1
        elif rtype == R.DESC:
            _, nid = R.TYPE_ID.unpack_from(mm, off + 4)
            start = off + 4 + R.TYPE_ID.size
            self._descs[nid] = bytes(mm[start : off + length]).rstrip(b"\0").decode()
        return int(rtype)

    # -- reading -----------------------------------------------------------------------

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
            if mm[off + 4] == R.FLOAT:
                room = self._clean_points(off, max_points - len(out)) if self._bad else (
                    max_points - len(out)
                )
                taken = self._float_run(mm, off, room, out) if room else 0
                if taken:
                    self.pos.offset = off + taken * R.POINT_SIZE
                    continue
            length = self._whole_record(mm, off)
            if length <= 0:
                if length < 0:
                    continue  # skipped
                break  # being written right now
            if self._bad and self._damaged(off, length):
                self._skip(mm, off, length, "a record in bytes that fail their checksum")
                continue
            if out and len(out) + self._points_in(mm, off, mm[off + 4]) > max_points:
                break  # the block goes whole into the next batch
            got: list[Record] = []
            try:
                self._decode(mm, off, length, got, descs)
            except _DECODE_ERRORS as exc:
                self._skip(mm, off, length, f"undecodable record ({exc})")
                continue
            out.extend(got)
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
            if rtype in _SCANNED and scan is not None and not self._bad:
                # one C call takes the names and points up to anything else
                end, self._id_bound, taken, columns = scan(
                    mm, off, max_points - built.count, self._id_bound, self._names,
                    R.KIND_CODES,
                )
                if taken:
                    built.add_columns(*columns)
                if end != off:
                    self.pos.offset = end
                    continue
            elif rtype == R.FLOAT or rtype == R.INT:
                room = max_points - built.count
                if self._bad:
                    room = self._clean_points(off, room)
                taken = built.add_point_run(mm, off, room, self._id_bound) if room else 0
                if taken:
                    self.pos.offset = off + taken * R.POINT_SIZE
                    continue
            length = self._whole_record(mm, off)
            if length <= 0:
                if length < 0:
                    continue
                break
            if self._bad and self._damaged(off, length):
                self._skip(mm, off, length, "a record in bytes that fail their checksum")
                continue
            if built.count and built.count + self._points_in(mm, off, rtype) > max_points:
                break  # the block goes whole into the next batch
            try:
                self._decode_into(built, mm, off, length, descs)
            except _DECODE_ERRORS as exc:
                self._skip(mm, off, length, f"undecodable record ({exc})")
                continue
            self.pos.offset = off + length
        self.pos.seq = first + built.count
        records: list[Record] = []
        if not built.count:
            return Chunk(first, records, descs, Position(**vars(self.pos)))
        columns = built.build(self._names)
        return Chunk(first, ColumnRecords(columns), descs, Position(**vars(self.pos)), columns)

    def _whole_record(self, mm: mmap.mmap, off: int) -> int:
        """The length of the whole, plausible record at ``off``; 0 when it is still
        being written; -1 when it was skipped (the position has moved past it)."""
        (length,) = R.LEN.unpack_from(mm, off)
        rtype = mm[off + 4]
        if rtype == R.FLOAT or rtype == R.INT:
            if length != R.POINT_SIZE or off + R.POINT_SIZE > len(mm):
                self._skip_segment(off, f"a point record with length {length}")
                return -1
            if R.COMMIT_WORD.unpack_from(mm, off + R.COMMIT_OFFSET)[0] != R.COMMIT:
                nxt = off + R.POINT_SIZE
                if nxt + 8 <= len(mm) and R.LEN.unpack_from(mm, nxt)[0] != 0:
                    # the writer went on past it: this record will never be committed
                    self._skip(mm, off, length, "a point record its writer abandoned")
                    return -1
                return 0
            nid = int.from_bytes(mm[off + 8 : off + 12], "little")
            if nid not in self._names:
                self._skip(mm, off, length, f"a point of unknown metric id {nid}")
                return -1
            return int(length)
        if length < 8 or length % 8 or off + length > len(mm):
            self._skip_segment(off, f"a record length of {length}")
            return -1
        if rtype not in _VARIABLE:
            self._skip(mm, off, length, f"unknown record type {rtype}")
            return -1
        return int(length)

    def _skip(self, mm: mmap.mmap, off: int, length: int, why: str) -> None:
        points = 0
        with contextlib.suppress(*_DECODE_ERRORS):
            points = self._points_in(mm, off, mm[off + 4])
        self.skipped += points
        self._problem(off, f"skipped {why} holding {points} point(s)")
        self.pos.offset = off + length

    def _skip_segment(self, off: int, why: str) -> None:
        """The rest of this segment cannot be walked: go on with the next one."""
        self._problem(off, f"skipped the rest of the segment after {why}")
        if self._segment_exists(self.pos.segment + 1):
            self.pos = Position(self.pos.segment + 1, R.HEADER_SIZE, self.pos.seq)
        else:
            self.finished = True  # nothing more can be read from this stream

    def _problem(self, off: int, text: str) -> None:
        key = (self.pos.segment, off)
        if key in self._seen_problems:
            return
        self._seen_problems.add(key)
        message = f"spool {self.stream} segment {self.pos.segment} offset {off}: {text}"
        log.warning("runtrack: %s", message)
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(message)

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
            if not self._segment_exists(self.pos.segment + 1):
                return None
            # The writer fills a segment before creating the next one: look again, a
            # record may have landed here between the first look and the check.
            if off + 8 <= len(mm) and R.LEN.unpack_from(mm, off)[0] != 0:
                return mm
            self.pos = Position(self.pos.segment + 1, R.HEADER_SIZE, self.pos.seq)

    @staticmethod
    def _points_in(mm: mmap.mmap, off: int, rtype: int) -> int:
        """Points a committed record holds (for JSONS of old spools, which did not
        record it, an upper bound without decoding: each value takes at least two
        bytes of JSON, and a block holds at most ``writer.MAX_BLOCK_POINTS``)."""
        if rtype == R.FLOATS:
            return int(R.FLOATS_HEAD.unpack_from(mm, off + 4)[2])
        if rtype == R.JSONS:
            n = int(R.POINT_HEAD.unpack_from(mm, off + 4)[2])
            if n:
                return n
            text = R.LEN.unpack_from(mm, off)[0] - 4 - R.POINT_HEAD.size
            return min(MAX_BLOCK_POINTS, int(text) // 2 + 1)
        return 1 if rtype in (R.JSON, R.INT, R.FLOAT) else 0

    def _decode_into(
        self, built: ColumnBuilder, mm: mmap.mmap, off: int, length: int, descs: dict[str, str]
    ) -> None:
        """Like :meth:`_decode`, into a column builder (point runs are taken elsewhere)."""
        rtype = mm[off + 4]
        if rtype == R.FLOAT or rtype == R.INT:  # one the point-run decoder left alone
            _, _, nid, step, when, bits, _ = R.INT_REC.unpack_from(mm, off)
            built.add_point_bits(nid, step, when, bits, int(rtype == R.INT))
        elif rtype in (R.JSON, R.JSONS):
            _, nid, _n, step, when = R.POINT_HEAD.unpack_from(mm, off + 4)
            self._known(nid)
            start = off + 4 + R.POINT_HEAD.size
            decoded: Any = R.loads(bytes(mm[start : off + length]).rstrip(b"\0"))
            values = [decoded] if rtype == R.JSON else _as_list(decoded)
            for value in values:
                built.add_object(nid, step, when, value)
        elif rtype == R.FLOATS:
            nid, step, when, blob = self._floats(mm, off, length)
            built.add_floats(nid, step, when, blob)
        else:
            self._decode_control(mm, off, length, descs)

    def _floats(self, mm: mmap.mmap, off: int, length: int) -> tuple[int, int, float, bytes]:
        _, nid, n, step, when = R.FLOATS_HEAD.unpack_from(mm, off + 4)
        start = off + 4 + R.FLOATS_HEAD.size
        if start + 8 * n > off + length:
            raise ValueError(f"a FLOATS record of {n} values does not fit its length")
        self._known(nid)
        return nid, step, when, mm[start : start + 8 * n]

    def _known(self, nid: int) -> None:
        if nid not in self._names:
            raise KeyError(f"unknown metric id {nid}")

    def _decode_control(
        self, mm: mmap.mmap, off: int, length: int, descs: dict[str, str]
    ) -> None:
        """END, NAME and DESC records (the ones that carry no point)."""
        rtype = mm[off + 4]
        if rtype == R.END:
            self.finished = True
            return
        if rtype == R.CHECK:
            return  # read when the segment is mapped
        self._decode_meta(mm, off, length)
        if rtype == R.DESC:
            _, nid = R.TYPE_ID.unpack_from(mm, off + 4)
            if nid in self._names:
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
            if length != 40 or rtype != ftype or word != commit or nid not in names:
                break
            name, kind = names[nid]
            append((name, kind, None if step == no_step else step, when, value))
            taken += 1
        return taken

    def _decode(
        self, mm: mmap.mmap, off: int, length: int, out: list[Record], descs: dict[str, str]
    ) -> None:
        rtype = mm[off + 4]
        if rtype == R.INT or rtype == R.FLOAT:
            rec = R.INT_REC if rtype == R.INT else R.FLOAT_REC
            _, _, nid, step, when, value, _ = rec.unpack_from(mm, off)
            name, kind = self._names[nid]
            out.append((name, kind, None if step == R.NO_STEP else step, when, value))
        elif rtype in (R.JSON, R.JSONS):
            _, nid, _n, step, when = R.POINT_HEAD.unpack_from(mm, off + 4)
            name, kind = self._names[nid]
            start = off + 4 + R.POINT_HEAD.size
            decoded: Any = R.loads(bytes(mm[start : off + length]).rstrip(b"\0"))
            s = None if step == R.NO_STEP else step
            if rtype == R.JSON:
                out.append((name, kind, s, when, decoded))
            else:
                out.extend((name, kind, s, when, v) for v in _as_list(decoded))
        elif rtype == R.FLOATS:
            nid, step, when, blob = self._floats(mm, off, length)
            name, kind = self._names[nid]
            values = array("d")
            values.frombytes(blob)
            s = None if step == R.NO_STEP else step
            out.extend((name, kind, s, when, v) for v in values.tolist())
        else:
            self._decode_control(mm, off, length, descs)

    def close(self) -> None:
        if self._mm is not None:
            if self._mm_owned:
                self._mm.close()
            self._mm = None
            self._mm_segment = -1
            self._bad = []


def _as_list(decoded: Any) -> list[Any]:
    if not isinstance(decoded, list):
        raise ValueError("a block record does not hold a list")
    return decoded


def list_streams(folder: Path) -> list[str]:
    """Stream names with segments in a run's spool folder."""
    return sorted({p.name.rsplit(".", 2)[0] for p in folder.glob("*.seg")})
