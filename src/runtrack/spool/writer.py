"""Append-only, memory-mapped spool writer: the hot path of ``run.log()``.

A record is committed when its length word is written, which happens last; the
mapping is shared with the page cache, so a point whose call returned survives a
SIGKILL of the process (not a power cut: that needs ``sync()``). One writer per
stream; not thread-safe: each thread that logs to a run gets a writer of its own
(``SpooledMetrics.writer_for_thread``).

Liveness: the writer holds an exclusive ``flock`` on ``<stream>.lock`` from before
its first segment exists until ``close()`` (or its process ends), so recovery
(:mod:`runtrack.spool.sync`) tells a live stream from a dead one by trying that
lock, never by reading files the writer may be filling.

Full disk: each segment's blocks are reserved with ``posix_fallocate`` before it is
mapped, so a store into the mapping can never fault (SIGBUS). When the reservation
fails (ENOSPC, EDQUOT) the stream goes on in anonymous memory segments, at most
``MEMORY_SEGMENTS`` of them unshipped at a time, which only a shipper in this
process can read (it is handed ``writer.memory``); beyond that, points are dropped
and counted in ``writer.dropped``. Each condition is logged once.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import mmap
import os
import struct
import sys
import threading
import time
import zlib
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtrack.errors import InvalidValueError
from runtrack.spool import logger
from runtrack.spool import record as R
from runtrack.spool.owner import take_lock

log = logging.getLogger("runtrack.spool")

#: Most points in one FLOATS/JSONS record: well below ``limits.MAX_BATCH_RECORDS``, so
#: a reader can always fit a whole record into one batch.
MAX_BLOCK_POINTS = 32_768
#: Unshipped in-memory segments a stream may hold once its disk is full.
MEMORY_SEGMENTS = 4
#: Size of a stream's first segment (room for ~1,500 points); each next one doubles,
#: up to the writer's ``segment_size``. Reserving and deleting 8 MiB took ~11 ms of a
#: short run, 256 KiB ~0.24 ms of CPU, 64 KiB ~0.12 ms.
FIRST_SEGMENT = 64 * 1024
#: room a segment keeps beside one record: header and the names re-interned first
_SEGMENT_SLACK = R.HEADER_SIZE + 4096
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
_RETRY_SECONDS = 1.0  # while dropping, how often to look for room again
_INT64_MAX = 2**63 - 1
_POINT, _INT64_MIN = R.POINT_SIZE, -(2**63)
#: A segment of at least two chunks is made writable a chunk at a time, as the writer
#: reaches it, with one ``madvise(MADV_POPULATE_WRITE)`` (Linux 5.14+): the first store
#: into each 4 KiB page of a file mapping otherwise traps into the kernel, one fault
#: per ~100 points, about a quarter of a C ``run.log()`` call's time. Populating a
#: chunk in one call costs less than its faults one by one.
POPULATE_CHUNK = 256 * 1024
#: the advice (None: not on this system, or refused once)
_POPULATE: list[int | None] = [
    getattr(mmap, "MADV_POPULATE_WRITE", 23) if sys.platform.startswith("linux") else None
]


def segment_path(folder: Path, stream: str, number: int) -> Path:
    return folder / f"{stream}.{number:06d}.seg"


def lock_path(folder: Path, stream: str) -> Path:
    return folder / f"{stream}.lock"


@dataclass(frozen=True)
class SpareStream:
    """A stream's files, open: its lock (held) and its first segment (the process's
    spare folder holds them between runs: :mod:`runtrack.spool.spare`)."""

    stream: str
    lock_fd: int
    segment_fd: int
    size: int
    #: bytes from the segment's start that may hold anything but zeros (its writer's end)
    used: int

    def close(self) -> None:
        for fd in (self.segment_fd, self.lock_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


class SpoolWriter:
    """Writes one stream of a run into numbered segment files in ``folder``."""

    def __init__(
        self, folder: Path, stream: str, *, segment_size: int = R.SEGMENT_SIZE,
        spare: SpareStream | None = None,
    ) -> None:
        """``spare``: the stream's files, taken from the process's spare folder (renamed
        to ``folder``; see :mod:`runtrack.spool.spare`) instead of made."""
        self.folder = folder
        self.stream = stream
        self.segment_size = segment_size
        self.closed = False
        #: segments kept in anonymous memory (disk full), by number, until shipped
        self.memory: dict[int, mmap.mmap] = {}
        self.dropped = 0  # points that found neither disk nor memory room
        #: the in-process shipper's position, if any: a segment it already shipped
        #: whole is not checksummed when finished (nobody will read it from disk)
        self.shipped_seq: Callable[[], int] | None = None
        self._names: dict[tuple[str, str], int] = {}
        #: the scalar logger serves the thread that created the writer, for enabled keys
        self.thread = threading.get_ident()
        self._heads: dict[str, bytes] = {}  # key -> the first 12 bytes of its FLOAT record
        self._int_heads: dict[str, bytes] = {}  # key -> the first 12 bytes of its INT record
        self._descs: dict[int, str] = {}
        self._segment = -1
        self.mm: mmap.mmap = mmap.mmap(-1, 1)  # replaced by the first segment
        #: where the next record goes and how far the scalar logger may append (see
        #: ``offset``, ``last_point``); the C cursor also holds the segment's mapping
        self._cursor: Any = logger.new_cursor()
        self._fd = -1
        self._lock_fd = -1
        self._in_memory = False
        self._retry_at = 0.0
        #: where the next record goes, and the end of the room for records: the
        #: scalar logger appends while ``offset <= last_point`` (at most limit - POINT_SIZE)
        self.offset = self.limit = 0
        # populating (see ``POPULATE_CHUNK``): the segment's bytes below ``_ahead`` are
        # writable without a page fault; ``last_point`` stops the scalar logger there,
        # where the slow path populates the next chunk (``_pass_frontier``)
        self._ahead = self._size = 0
        # ``seq`` is counted from these: every byte between _seq_mark and offset is a
        # 40-byte point record (the scalar logger only moves offset; see _move_to)
        self._seq_base = self._seq_mark = 0
        if spare is not None:
            self._lock_fd = spare.lock_fd
        else:
            try:
                # a stream keeps its lock file from its start to its removal (and its
                # first segment until that is shipped): two looks instead of listing the
                # folder, none in a folder made just now
                if not _made(folder) and (
                    lock_path(folder, stream).exists()
                    or segment_path(folder, stream, 0).exists()
                ):
                    raise FileExistsError(f"spool stream {stream!r} already exists in {folder}")
                self._lock_fd = take_lock(lock_path(folder, stream))
            except OSError as exc:
                if exc.errno not in _DISK_FULL:
                    raise
                self._go_to_memory(exc)
        if not self._open_segment(0, spare=spare):
            self._drop_mode()

    # -- segments ----------------------------------------------------------------

    def _segment_bytes(self, number: int, need: int) -> int:
        """Size of segment ``number``: ``FIRST_SEGMENT`` doubling per segment up to
        ``segment_size``, and large enough for a first record of ``need`` bytes. A
        short run's stream thus reserves, maps and deletes a small file."""
        size = FIRST_SEGMENT << min(number, 16)
        while size < self.segment_size and size - _SEGMENT_SLACK - R.check_reserve(size) < need:
            size *= 2
        return min(size, self.segment_size)

    def _open_segment(
        self, number: int, need: int = 0, *, spare: SpareStream | None = None
    ) -> bool:
        """Map segment ``number`` (on disk, else in memory), with room for a first
        record of ``need`` bytes; False when neither disk nor memory has room.
        ``spare``: segment 0 is a spare's first segment (zeroed, its blocks reserved)."""
        if spare is not None:
            size = spare.size
            found: tuple[mmap.mmap, int] | None = (
                mmap.mmap(spare.segment_fd, size), spare.segment_fd
            )
        else:
            size = self._segment_bytes(number, need)
            found = None if self._in_memory else self._file_segment(number, size)
        if found is None:
            if len(self.memory) >= MEMORY_SEGMENTS:
                return False
            found = (mmap.mmap(-1, size), -1)
            self.memory[number] = found[0]
        mm, fd = found
        R.HEADER.pack_into(mm, 0, R.MAGIC, R.VERSION, number, self.seq, os.getpid())
        self._close_segment()
        self._fd, self.mm, self._segment = fd, mm, number
        self._cursor.map(mm)
        self._move_to(R.HEADER_SIZE)
        self._set_limit(size - R.check_reserve(size))
        self._size = self._ahead = size
        if fd >= 0 and size >= 2 * POPULATE_CHUNK and _POPULATE[0] is not None:
            self._ahead = 0  # a stream this long is likely to go on: populate as it goes
            self._pass_frontier()
        for (name, kind), nid in self._names.items():
            self._put_name(nid, name.encode(), kind)
            if nid in self._descs:
                self._put_desc(nid, self._descs[nid].encode())
        return True

    def _file_segment(self, number: int, size: int) -> tuple[mmap.mmap, int] | None:
        """A mapped, fully reserved segment file of ``size`` bytes and its fd; None
        (and memory mode from now on) when the disk is full."""
        path = segment_path(self.folder, self.stream, number)
        fd = -1
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            os.ftruncate(fd, size)
            _reserve(fd, size)  # no SIGBUS on a full disk
            return mmap.mmap(fd, size), fd
        except OSError as exc:
            if fd >= 0:
                os.close(fd)
                path.unlink(missing_ok=True)
            if exc.errno not in _DISK_FULL:
                raise
            self._go_to_memory(exc)
            return None

    def _go_to_memory(self, exc: OSError) -> None:
        self._in_memory = True
        log.warning(
            "runtrack: no room for the metric spool in %s (%s); stream %s goes on in "
            "memory (up to %d KiB unshipped; a crash of this process loses that part): "
            "free disk space, or point RUNTRACK_SPOOL_DIR at a larger disk",
            self.folder, exc.strerror, self.stream,
            MEMORY_SEGMENTS * self.segment_size >> 10,
        )

    def _drop_mode(self) -> None:
        """No room anywhere: every write takes the slow path and is counted as dropped
        until a memory segment is shipped (then writing resumes)."""
        if self.dropped == 0:
            log.warning(
                "runtrack: the in-memory spool of stream %s is full and the store is "
                "behind; dropping points until it catches up", self.stream,
            )
        self._close_segment()
        self._cursor.unmap()
        self.mm = mmap.mmap(-1, 1)
        self._move_to(0)
        self._set_limit(0)
        self._ahead = self._size = 0
        self._retry_at = time.monotonic() + _RETRY_SECONDS

    def _close_segment(self) -> None:
        """Unmap a file segment (a memory segment stays readable in ``self.memory``)."""
        if self._fd >= 0:
            self._cursor.unmap()
            self.mm.close()
            os.close(self._fd)
            self._fd = -1

    def _pass_frontier(self) -> None:
        """Populate the chunk ``offset`` has reached, and let the scalar logger run to
        its end (or to the end of the room for points)."""
        advice = _POPULATE[0]
        while advice is not None and self._ahead < self._size and self._ahead <= self.offset:
            end = min(self._ahead + POPULATE_CHUNK, self._size)
            try:
                self.mm.madvise(advice, self._ahead, end - self._ahead)
            except OSError:  # a kernel before 5.14
                advice = _POPULATE[0] = None
                break
            self._ahead = end
        if advice is None:  # the pages fault in one by one
            self._ahead = self._size
        frontier = self.limit if self._ahead >= self._size else self._ahead
        self.last_point = min(frontier, self.limit) - _POINT

    def _room(self, size: int) -> mmap.mmap | None:
        """The mapping, with ``size`` bytes free at ``self.offset`` (rolls segments);
        None when the record must be dropped (no room on disk nor in memory)."""
        if self.offset + size > self.limit:
            if size > self.segment_size - _SEGMENT_SLACK:
                raise InvalidValueError(
                    f"a single spool record of {size} bytes is too large; log less per call"
                )
            if self.limit == 0 and time.monotonic() < self._retry_at and self._segment >= 0:
                return None
            self._seal()
            if not self._open_segment(self._segment + 1, size):
                self._drop_mode()
                return None
        return self.mm

    @property
    def offset(self) -> int:
        """Where the next record goes."""
        return int(self._cursor.offset)

    @offset.setter
    def offset(self, value: int) -> None:
        self._cursor.offset = value

    @property
    def last_point(self) -> int:
        """The scalar logger appends a point while ``offset <= last_point`` (the end
        of the room for records, or of the populated part of a segment before it)."""
        return int(self._cursor.last_point)

    @last_point.setter
    def last_point(self, value: int) -> None:
        self._cursor.last_point = value

    @property
    def seq(self) -> int:
        """Points written so far = the next point's sequence number."""
        return self._seq_base + (self.offset - self._seq_mark) // _POINT

    def _move_to(self, offset: int, points: int = 0) -> None:
        """Set ``offset`` past anything but one FLOAT/INT record (a record of ``points``
        points, or a new segment's start): those are counted by their size alone."""
        self._seq_base = self.seq + points
        self.offset = self._seq_mark = offset

    def _set_limit(self, limit: int) -> None:
        self.limit = limit
        self.last_point = limit - _POINT

    def _commit(self, mm: mmap.mmap, size: int, points: int = 0) -> None:
        R.LEN.pack_into(mm, self.offset, size)
        self._move_to(self.offset + size, points)

    # -- records ---------------------------------------------------------------------

    def intern(self, name: str, kind: str) -> int:
        key = (name, kind)
        nid = self._names.get(key)
        if nid is None:
            raw = _utf8(name, "metric name")
            nid = len(self._names)
            self._put_name(nid, raw, kind)
            self._names[key] = nid  # only once its NAME record is written
        return nid

    def _put_name(self, nid: int, raw: bytes, kind: str) -> None:
        size = R.align(4 + R.NAME_HEAD.size + len(raw))
        mm = self._room(size)
        if mm is None:
            return  # dropping: the name is written again into the next segment
        R.NAME_HEAD.pack_into(mm, self.offset + 4, R.NAME, nid, R.CODE_OF_KIND[kind])
        start = self.offset + 4 + R.NAME_HEAD.size
        mm[start : start + len(raw)] = raw
        self._commit(mm, size)

    def describe(self, nid: int, description: str) -> None:
        if self._descs.get(nid) != description:
            raw = _utf8(description, "description")
            self._put_desc(nid, raw)
            self._descs[nid] = description

    def _put_desc(self, nid: int, raw: bytes) -> None:
        size = R.align(4 + R.TYPE_ID.size + len(raw))
        mm = self._room(size)
        if mm is None:
            return
        R.TYPE_ID.pack_into(mm, self.offset + 4, R.DESC, nid)
        start = self.offset + 4 + R.TYPE_ID.size
        mm[start : start + len(raw)] = raw
        self._commit(mm, size)

    def enable_append(self, key: str, nid: int) -> None:
        """Let :meth:`scalar_logger` take points of the interned scalar metric ``nid``
        under the caller's ``key`` (e.g. the run-level metric name)."""
        self._heads[key] = R.FLOAT_REC.pack(R.POINT_SIZE, R.FLOAT, nid, 0, 0.0, 0.0, 0)[:12]
        self._int_heads[key] = R.INT_REC.pack(R.POINT_SIZE, R.INT, nid, 0, 0.0, 0, 0)[:12]

    def scalar_logger(self, slow: Callable[[str, Any, str, Any], None]) -> Callable[..., None]:
        """The hot path of ``run.log()``: a callable ``log(name, value, description="",
        step=None)`` that writes one float or 64-bit int point of the metric enabled
        under ``name`` (:meth:`enable_append`), stamped now (as ``time.time()``), at
        ``step`` (an int; None: no step).

        One 40-byte record written into the mapping, its trailing commit word last: the
        point survives a crash of this process once the call returns. The run installs
        it as its own ``log`` attribute. It moves ``offset`` only (``seq`` is derived
        from it) and every check is done before a byte is written.
        Anything it does not handle that way (a name not enabled, a description, a call
        from a thread other than the writer's, another value or step type, an int beyond
        64 bits, the end of the room for points, drop mode, a released writer) goes,
        having written nothing, to ``slow(name, value, description, step)``, which
        checks it, writes it the slow way (:meth:`write_float`, :meth:`write_int`,
        :meth:`write_json`) and raises its errors.

        It is the C cursor of ``runtrack/spool/_scalar.c`` where that is built, else
        its Python twin (:mod:`runtrack.spool.logger`).
        """
        return logger.scalar_logger(self, slow)

    def write_float(self, nid: int, step: int, when: float, value: float) -> None:
        """One float point (``step`` = record.NO_STEP when absent)."""
        self._write_point(R.FLOAT_REC, R.FLOAT, nid, step, when, value)

    def write_int(self, nid: int, step: int, when: float, value: int) -> None:
        """One int point of at most 64 bits (checked before a byte is written)."""
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise InvalidValueError(f"{value} does not fit a signed 64-bit int record")
        self._write_point(R.INT_REC, R.INT, nid, step, when, value)

    def _write_point(
        self, record: struct.Struct, rtype: int, nid: int, step: int, when: float, value: float
    ) -> None:
        """One FLOAT or INT record: one pack, committed by its trailing commit word."""
        off = self.offset
        if off + R.POINT_SIZE > self.limit:
            if self._room(R.POINT_SIZE) is None:
                self.dropped += 1
                return
            off = self.offset
        record.pack_into(self.mm, off, 40, rtype, nid, step, when, value, R.COMMIT)
        end = self.offset = off + R.POINT_SIZE
        if end > self.last_point and self._ahead < self._size:
            self._pass_frontier()

    def write_json(self, nid: int, step: int, when: float, value: Any) -> None:
        self._put_json(R.JSON, nid, step, when, R.dumps(value), 1)

    def write_many(self, nid: int, step: int, when: float, values: Sequence[Any]) -> None:
        """``len(values)`` points sharing step and time (list elements, table rows)."""
        if not values:
            return
        if all(type(v) is float for v in values):
            self._write_floats(nid, step, when, values)
            return
        budget = self.segment_size // 4
        blocks: list[tuple[bytes, int]] = []  # encoded first: nothing is written on error
        chunk: list[Any] = []
        size = 0
        for value in values:
            raw_len = len(R.dumps(value)) + 1
            if chunk and (size + raw_len > budget or len(chunk) >= MAX_BLOCK_POINTS):
                blocks.append((R.dumps(chunk), len(chunk)))
                chunk, size = [], 0
            chunk.append(value)
            size += raw_len
        blocks.append((R.dumps(chunk), len(chunk)))
        for raw, n in blocks:
            self._put_json(R.JSONS, nid, step, when, raw, n)

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
            if mm is None:
                self.dropped += n
                continue
            R.FLOATS_HEAD.pack_into(mm, self.offset + 4, R.FLOATS, nid, n, step, when)
            body = self.offset + 4 + R.FLOATS_HEAD.size
            mm[body : body + 8 * n] = part[: 8 * n]
            self._commit(mm, size, n)

    def _put_json(self, rtype: int, nid: int, step: int, when: float, raw: bytes, n: int) -> None:
        size = R.align(4 + R.POINT_HEAD.size + len(raw))
        mm = self._room(size)
        if mm is None:
            self.dropped += n
            return
        R.POINT_HEAD.pack_into(mm, self.offset + 4, rtype, nid, n, step, when)
        start = self.offset + 4 + R.POINT_HEAD.size
        mm[start : start + len(raw)] = raw
        self._commit(mm, size, n)

    def close(self, *, keep_files: bool = False) -> None:
        """Mark the stream finished (END record), unmap, release the stream's lock.
        ``keep_files``: a stream whose files are its lock and its first segment keeps
        both open for :meth:`kept_files` (the spare folder); ``release()`` closes them."""
        if self.closed:
            return
        self.closed = True
        if self.limit == 0:
            self._retry_at = 0.0  # one last look for room for the END record
        mm = self._room(8)
        if mm is not None:
            R.TYPE_ID.pack_into(mm, self.offset + 4, R.END, 0)
            self._commit(mm, 8)
            self._seal()
        if keep_files and self._segment == 0 and self._fd >= 0 and self._lock_fd >= 0:
            self._cursor.unmap()  # the files stay open: see kept_files
            self.mm.close()
            self._heads.clear()
            self._int_heads.clear()
            return
        self.release()

    def kept_files(self) -> SpareStream | None:
        """The files ``close(keep_files=True)`` kept open, now the caller's to close."""
        if not (self.closed and self._fd >= 0 and self._lock_fd >= 0):
            return None
        kept = SpareStream(self.stream, self._lock_fd, self._fd, self._size,
                           min(self._size, max(self.offset, R.HEADER_SIZE)))
        self._fd = self._lock_fd = -1
        return kept

    def _seal(self) -> None:
        """Write the finished segment's CHECK record (block CRCs), then its position
        into the header, unless the in-process shipper already has all of it."""
        if self.limit == 0 or (self.shipped_seq is not None and self.shipped_seq() >= self.seq):
            return
        mm, end = self.mm, self.offset
        with memoryview(mm) as view:
            crcs = [
                zlib.crc32(view[start : min(start + R.CHECK_BLOCK, end)])
                for start in range(R.HEADER_SIZE, end, R.CHECK_BLOCK)
            ]
        size = R.align(4 + R.CHECK_HEAD.size + 4 * len(crcs))
        R.CHECK_HEAD.pack_into(mm, end + 4, R.CHECK, R.CHECK_BLOCK, len(crcs), end)
        start = end + 4 + R.CHECK_HEAD.size
        mm[start : start + 4 * len(crcs)] = struct.pack(f"<{len(crcs)}I", *crcs)
        R.LEN.pack_into(mm, end, size)
        R.LEN.pack_into(mm, R.CHECK_AT, end)
        self._move_to(end + size)

    def release(self) -> None:
        """Unmap and close every file of the stream without writing anything (the
        stream stays open for recovery to find); idempotent."""
        self._close_segment()
        self._heads.clear()  # the scalar logger writes nothing more
        self._int_heads.clear()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1


def _made(folder: Path) -> bool:
    """Make ``folder`` (and its parents); whether it was made by this call (empty)."""
    try:
        os.mkdir(folder)
    except FileExistsError:
        return False
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
        return False
    return True


def _reserve(fd: int, size: int) -> None:
    """Allocate the file's blocks now; a filesystem that cannot is left sparse."""
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError as exc:
        raise InvalidValueError(
            f"{what} {text[:40]!r} holds a lone surrogate ({exc.reason} at position "
            f"{exc.start}), which UTF-8 cannot store: decode its bytes with "
            "errors='replace' (or log os.fsencode(...).hex())"
        ) from exc


def _pack_doubles(values: Sequence[float]) -> bytes:
    return array("d", values).tobytes()
