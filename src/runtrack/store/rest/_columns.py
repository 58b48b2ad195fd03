"""Encode a columnar :class:`~runtrack.model.MetricBatch` for the wire.

The layout is defined (and decoded) in ``runtrack.server.api._columns``; the store
layer may not import the server, so this is the encoding half, kept in step by
``tests/server/test_ingest_wire.py``.
"""

from __future__ import annotations

import json
import struct

from runtrack.model import MetricBatch, PointColumns

MEDIA_TYPE = "application/vnd.runtrack.columns"
MAGIC = b"RTC1"


def encode(batch: MetricBatch, columns: PointColumns) -> bytes:
    header = {
        "stream": batch.stream,
        "first_seq": batch.first_seq,
        "n": len(columns),
        "names": [[i, name, kind] for i, (name, kind) in columns.names.items()],
        "descriptions": batch.descriptions,
        "objects": [[i, v] for i, v in columns.objects.items()],
    }
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return b"".join(
        [MAGIC, struct.pack("<I", len(raw)), raw, columns.ids, columns.steps, columns.times,
         columns.values, columns.types]
    )
