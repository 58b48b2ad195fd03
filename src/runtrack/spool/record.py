"""Binary layout of a spool segment.

A spool is a folder ``<spool_dir>/<run_id>/`` holding, per writer stream, numbered
segment files ``<stream>.<n>.seg``. Each segment starts with a fixed header, then
records back to back, each 8-byte aligned::

    header   b"RTSPOOL1" | u32 version | u32 segment no | u64 first seq | u32 pid | pad
             | at byte 32: u32 offset of the segment's CHECK record (0: none) | pad → 64 bytes
    record   u32 length (whole record, 0 = nothing written yet) | u8 type | payload

Variable-size records are written payload first and length last, so a reader (or a
process that reopens the spool after a crash) sees only whole records: such a record
is committed exactly when its length is non-zero. The fixed-size point records of the
hot path (FLOAT, INT) are written with one ``struct.pack_into`` call, which stores the
fields in order after zeroing the record; their last field is a commit word, and they
are committed exactly when it equals ``COMMIT``. Unwritten space is zero (sparse).

Record types and payloads (all little-endian):

* NAME   u32 id | u8 kind | utf-8 name              — interns (name, kind) for a segment
* FLOAT  u32 id | i64 step | f64 time | f64 value | u32 commit — one point (hot path)
* INT    u32 id | i64 step | f64 time | i64 value | u32 commit
* JSON   u32 id | u32 1 | i64 step | f64 time | utf-8 JSON value (tagged NaN/±inf)
* JSONS  u32 id | u32 n | i64 step | f64 time | utf-8 JSON list  — n points in one record
  (n is 0 in spools written before it was recorded: count the decoded list)
* FLOATS u32 id | u32 n | i64 step | f64 time | n * f64  — n float points in one record
* DESC   u32 id | utf-8 description
* END    (empty)  — the writer closed the stream cleanly
* CHECK  u32 block size | u32 n blocks | u32 data end | n * u32 crc32 — written when a
  segment is finished (rolled, or the stream closed) unless an in-process shipper has
  already shipped all of it: the CRC-32 of each block of ``[HEADER_SIZE, data end)``,
  so a reader of the segment at rest finds flipped bytes and skips the records of a
  damaged block. Space for it is reserved at the end of every segment.

Every point (one per FLOAT/INT/JSON, n per JSONS/FLOATS) takes the next sequence
number of its stream; NAME, DESC and END take none. Each segment re-interns the
names it uses, so a fully shipped segment can be deleted.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

MAGIC = b"RTSPOOL1"
VERSION = 1
HEADER = struct.Struct("<8sIIQI")
HEADER_SIZE = 64
SEGMENT_SIZE = 8 * 1024 * 1024

NAME, FLOAT, INT, JSON, JSONS, FLOATS, DESC, END, CHECK = 1, 2, 3, 4, 5, 6, 7, 8, 9
NO_STEP = -(2**63)

LEN = struct.Struct("<I")
TYPE_ID = struct.Struct("<BxxxI")  # type, pad, name id — follows the length word
# FLOAT/INT: len u32 | type u8 pad3 | id u32 | step i64 | time f64 | value | commit u32 = 40
FLOAT_REC = struct.Struct("<IBxxxIqddI")
INT_REC = struct.Struct("<IBxxxIqdqI")
#: FLOAT_REC and INT_REC with their first 12 bytes (length, type, id) and the commit
#: word given pre-packed: the records of ``SpoolWriter.scalar_logger``, byte for byte,
#: in fewer argument conversions (a bytes field is copied, an int one range-checked)
FLOAT_BODY = struct.Struct("<12sqdd4s")
INT_BODY = struct.Struct("<12sqdq4s")
POINT_SIZE = 40
COMMIT = 0xC0FFEE01
COMMIT_BYTES = struct.pack("<I", COMMIT)
COMMIT_OFFSET = 36
COMMIT_WORD = struct.Struct("<I")
POINT_HEAD = struct.Struct("<BxxxIIqd")  # JSON / JSONS: id, points, step, time; then JSON text
FLOATS_HEAD = struct.Struct("<BxxxIIqd")  # then n doubles
NAME_HEAD = struct.Struct("<BxxxIB")
CHECK_HEAD = struct.Struct("<BxxxIII")  # block size, n blocks, data end; then n crc32
CHECK_AT = 32  # header offset of the CHECK record's position
CHECK_BLOCK = 64 * 1024


def check_reserve(segment_size: int) -> int:
    """Bytes kept free at the end of a segment for its CHECK record."""
    return align(4 + CHECK_HEAD.size + 4 * (segment_size // CHECK_BLOCK + 1))

KIND_CODES = (
    "scalar",
    "list",
    "table",
    "image",
    "confusion_matrix",
    "accuracy_table",
    "residuals",
    "predictions",
)
KIND_OF_CODE = dict(enumerate(KIND_CODES))
CODE_OF_KIND = {kind: code for code, kind in KIND_OF_CODE.items()}


def align(n: int) -> int:
    return (n + 7) & ~7


def _tag(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return {"$f": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, dict):
        return {"$row": {k: _tag(v) for k, v in value.items()}}
    if isinstance(value, list):
        return [_tag(v) for v in value]
    return value


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        if "$f" in value:
            return float(value["$f"])
        return {k: _untag(v) for k, v in value["$row"].items()}
    if isinstance(value, list):
        return [_untag(v) for v in value]
    return value


def dumps(value: Any) -> bytes:
    """JSON bytes of a cell value (or list of values), NaN/±inf preserved."""
    return json.dumps(_tag(value), separators=(",", ":"), allow_nan=False).encode()


def loads(data: bytes | memoryview) -> Any:
    return _untag(json.loads(bytes(data)))
