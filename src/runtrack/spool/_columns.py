"""Decode spool records into :class:`~runtrack.model.PointColumns` with numpy.

The fast half of :mod:`runtrack.spool.reader`: a run of fixed-size FLOAT/INT records
is validated and split into columns by a handful of vectorised numpy operations
instead of one Python tuple per point. Other point records (FLOATS blocks, JSON
values) are appended as they come, so one batch keeps the stream's order whatever
was logged. Used only when numpy is importable; :func:`numpy_or_none` says.

Torn reads: a record is committed once its trailing commit word is set, and the
writer (maybe another process) sets it last. The bytes are therefore copied twice:
the commit words of the first copy decide how many records are whole, and their
fields are taken from the second copy, made after the first was complete, so each
field was written before the commit word the first copy saw.
"""

from __future__ import annotations

import functools
import mmap
import struct
from typing import Any

from runtrack.model import POINT_OBJECT, CellValue, PointColumns
from runtrack.spool import record as R

_FIRST_WINDOW = 256  # records
_PROBE = 8  # records looked at one by one before a run is read in numpy windows
_HEAD = struct.Struct("<IBxxxI")  # a point record's length, type and metric id
_MAX_WINDOW = 16384


@functools.cache
def numpy_or_none() -> Any:
    """The numpy module, or None when it is not installed."""
    try:
        import numpy
    except ImportError:
        return None
    return numpy


@functools.cache
def _record_dtype() -> Any:
    np = numpy_or_none()
    return np.dtype(
        {
            "names": ["len", "type", "id", "step", "time", "value", "commit"],
            "formats": ["<u4", "u1", "<u4", "<i8", "<f8", "<i8", "<u4"],
            "offsets": [0, 4, 8, 12, 20, 28, 36],
            "itemsize": R.POINT_SIZE,
        }
    )


def _committed_points(mm: mmap.mmap, off: int, n: int, id_bound: int) -> int:
    """How many of the ``n`` records from ``off`` are, one after the other, committed
    FLOAT/INT records with an id below ``id_bound``. Each commit word is read before
    the fields it vouches for (see the module's note on torn reads)."""
    word, head, end = R.COMMIT_WORD.unpack_from, _HEAD.unpack_from, len(mm)
    for i in range(n):
        at = off + i * R.POINT_SIZE
        if at + R.POINT_SIZE > end or word(mm, at + R.COMMIT_OFFSET)[0] != R.COMMIT:
            return i
        length, rtype, nid = head(mm, at)
        if length != R.POINT_SIZE or (rtype != R.FLOAT and rtype != R.INT) or nid >= id_bound:
            return i
    return n


class ColumnBuilder:
    """Accumulates the points of one batch, in order, as numpy array pieces."""

    def __init__(self) -> None:
        self.np = numpy_or_none()
        self.count = 0
        self._pieces: list[tuple[Any, Any, Any, Any, Any]] = []  # ids, steps, times, values, types
        self._small: tuple[list[int], list[int], list[float], list[int], list[int]] = (
            [], [], [], [], []
        )
        self.objects: dict[int, CellValue] = {}

    # -- adding points -------------------------------------------------------------------

    def add_point_run(self, mm: mmap.mmap, off: int, limit: int, id_bound: int) -> int:
        """Take up to ``limit`` consecutive committed FLOAT/INT records at ``off`` whose
        metric id is below ``id_bound``; return how many were taken (0: the record at
        ``off`` is not committed yet, or is not a valid point record).

        Reads in growing windows, so a reader at the writer's frontier touches little
        of the unwritten (sparse) rest of the segment. A run shorter than ``_PROBE``
        records (a metric's first point, between its NAME record and the next one) is
        taken record by record: a numpy window's fixed cost is many times a record's.
        """
        probe = min(limit, _PROBE)
        short = _committed_points(mm, off, probe, id_bound)
        if short < probe:
            unpack = R.INT_REC.unpack_from
            for at in range(off, off + short * R.POINT_SIZE, R.POINT_SIZE):
                _, rtype, nid, step, when, bits, _ = unpack(mm, at)
                self._add_small(nid, step, when, bits, int(rtype == R.INT))
            return short
        total = 0
        window = _FIRST_WINDOW
        while total < limit:
            n = min(window, limit - total, (len(mm) - off) // R.POINT_SIZE)
            if n <= 0:
                break
            taken = self._window(mm, off, n, id_bound)
            total += taken
            off += taken * R.POINT_SIZE
            if taken < n:
                break
            window = min(window * 4, _MAX_WINDOW)
        return total

    def _window(self, mm: mmap.mmap, off: int, n: int, id_bound: int) -> int:
        np = self.np
        dtype = _record_dtype()
        first = np.frombuffer(mm[off : off + n * R.POINT_SIZE], dtype=dtype)
        kind = first["type"]
        ok = (first["len"] == R.POINT_SIZE) & (first["commit"] == R.COMMIT)
        ok &= ((kind == R.FLOAT) | (kind == R.INT)) & (first["id"] < id_bound)
        taken = n if bool(ok.all()) else int(np.argmin(ok))
        if taken == 0:
            return 0
        recs = np.frombuffer(mm[off : off + taken * R.POINT_SIZE], dtype=dtype)
        self._flush_small()
        types = (recs["type"] == R.INT).astype(np.uint8)  # FLOAT -> 0, INT -> 1
        self._pieces.append((recs["id"], recs["step"], recs["time"], recs["value"], types))
        self.count += taken
        return taken

    def add_columns(
        self, ids: bytes, steps: bytes, times: bytes, values: bytes, types: bytes
    ) -> None:
        """Points as columns (``reader.scan``'s: u32, i64, f64, i64 bits, u8 codes)."""
        np = self.np
        self._flush_small()
        self._pieces.append((
            np.frombuffer(ids, dtype="<u4"), np.frombuffer(steps, dtype="<i8"),
            np.frombuffer(times, dtype="<f8"), np.frombuffer(values, dtype="<i8"),
            np.frombuffer(types, dtype="u1"),
        ))
        self.count += len(types)

    def add_floats(self, nid: int, step: int, when: float, blob: bytes) -> None:
        """A FLOATS record: ``len(blob) // 8`` float points sharing id, step and time."""
        np = self.np
        values = np.frombuffer(blob, dtype="<i8")
        n = len(values)
        if n == 0:
            return
        self._flush_small()
        self._pieces.append(
            (
                np.full(n, nid, dtype=np.uint32),
                np.full(n, step, dtype=np.int64),
                np.full(n, when, dtype=np.float64),
                values,
                np.zeros(n, dtype=np.uint8),
            )
        )
        self.count += n

    def add_object(self, nid: int, step: int, when: float, value: CellValue) -> None:
        """A point whose value is not a 64-bit number (JSON records)."""
        self.objects[self.count] = value
        self._add_small(nid, step, when, 0, POINT_OBJECT)

    def add_point_bits(self, nid: int, step: int, when: float, bits: int, code: int) -> None:
        """One FLOAT (``code`` 0) or INT (1) point; ``bits``: its value field as i64."""
        self._add_small(nid, step, when, bits, code)

    def _add_small(self, nid: int, step: int, when: float, bits: int, code: int) -> None:
        ids, steps, times, values, types = self._small
        ids.append(nid)
        steps.append(step)
        times.append(when)
        values.append(bits)
        types.append(code)
        self.count += 1

    def _flush_small(self) -> None:
        ids, steps, times, values, types = self._small
        if not ids:
            return
        np = self.np
        self._pieces.append(
            (
                np.array(ids, dtype=np.uint32),
                np.array(steps, dtype=np.int64),
                np.array(times, dtype=np.float64),
                np.array(values, dtype=np.int64),
                np.array(types, dtype=np.uint8),
            )
        )
        self._small = ([], [], [], [], [])

    # -- result -------------------------------------------------------------------------

    def build(self, names: dict[int, tuple[str, str]]) -> PointColumns:
        """The points added so far; ``names`` maps every id used (and maybe more) to
        (name, kind). The columns are the numpy arrays themselves (no copy into bytes):
        the store reads them with ``numpy.frombuffer``, the wire joins their buffers."""
        self._flush_small()
        np = self.np
        parts: list[Any] = list(zip(*self._pieces, strict=True)) or [()] * 5
        codes = ("<u4", "<i8", "<f8", "<i8", "u1")

        def packed(i: int) -> Any:
            items = parts[i]
            if not items:
                return b""
            if len(items) == 1:
                return np.ascontiguousarray(items[0], dtype=codes[i])
            return np.concatenate(items).astype(codes[i], copy=False)

        return PointColumns(
            names=dict(names),
            ids=packed(0),
            steps=packed(1),
            times=packed(2),
            values=packed(3),
            types=packed(4),
            objects=dict(self.objects),
        )

