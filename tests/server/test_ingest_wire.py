"""The columnar ingest body: RestStore's encoder against the server's decoder, and
through a real server."""

from __future__ import annotations

import json
import math
import struct
from array import array

import pytest

from runtrack import _wire
from runtrack.errors import InvalidValueError, LimitExceededError
from runtrack.model import (
    NO_STEP,
    POINT_FLOAT,
    POINT_INT,
    POINT_OBJECT,
    MetricBatch,
    NewRun,
    PointColumns,
)
from tests.inprocess import InProcessServer


def test_numpy_columns_encode_as_their_bytes() -> None:
    np = pytest.importorskip("numpy")
    columns = _columns()
    arrays = PointColumns(
        columns.names,
        np.frombuffer(columns.ids, dtype="<u4"),
        np.frombuffer(columns.steps, dtype="<i8"),
        np.frombuffer(columns.times, dtype="<f8"),
        np.frombuffer(columns.values, dtype="<i8"),
        np.frombuffer(columns.types, dtype="u1"),
        columns.objects,
    )
    batch = MetricBatch.from_columns("s", 5, columns)
    assert _wire.encode(batch, arrays) == _wire.encode(batch, columns)
    assert repr(arrays.to_records()) == repr(columns.to_records())  # NaN: compare text


def _columns() -> PointColumns:
    names = {0: ("loss", "scalar"), 7: ("label", "scalar")}
    ids = array("I", [0, 0, 7, 0])
    steps = array("q", [0, NO_STEP, 2, 3])
    times = array("d", [1.0, 2.0, 3.0, 4.0])
    values = array("d", [0.5, 0.0, 0.0, math.nan])
    packed = bytearray(values.tobytes())
    packed[8:16] = struct.pack("<q", 2**62)
    types = bytes([POINT_FLOAT, POINT_INT, POINT_OBJECT, POINT_FLOAT])
    return PointColumns(names, ids.tobytes(), steps.tobytes(), times.tobytes(), bytes(packed),
                        types, {2: "cat"})


def test_the_encoding_is_what_the_decoder_reads() -> None:
    columns = _columns()
    batch = MetricBatch.from_columns("s", 5, columns, {"loss": "training loss"})
    body = _wire.encode(batch, columns)
    back = _wire.decode(body)
    assert (back.stream, back.first_seq, back.descriptions) == ("s", 5, {"loss": "training loss"})
    records = list(back.records)
    assert records[:3] == [("loss", "scalar", 0, 1.0, 0.5), ("loss", "scalar", None, 2.0, 2**62),
                           ("label", "scalar", 2, 3.0, "cat")]
    assert math.isnan(records[3][4])  # type: ignore[arg-type]


def _body(header: dict[str, object], columns: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return b"RTC1" + struct.pack("<I", len(raw)) + raw + columns


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"XXXX\x00\x00\x00\x00",
        b"RTC1\xff\xff\xff\x00{}",
        _body({"stream": "s", "first_seq": 0, "n": 1, "names": []}),
        _body({"stream": "s", "first_seq": 0, "n": 1, "names": [[0, "m", "scalar"]]}, b"\0" * 28),
        _body({"stream": "s", "first_seq": 0, "n": 1, "names": [[1, "m", "scalar"]]},
              b"\0" * 28 + b"\1"),
        _body({"stream": "s", "first_seq": 0, "n": 1, "names": [[0, "m", "nope"]]},
              b"\0" * 28 + b"\1"),
        _body({"stream": "s", "first_seq": 0, "n": 1, "names": [[0, "m", "scalar"]]},
              b"\0" * 28 + b"\2"),
        _body({"stream": "s", "first_seq": 0, "n": 1, "names": [[0, "m", "scalar"]]},
              b"\0" * 28 + b"\7"),
        _body({"stream": "", "first_seq": 0, "n": 0, "names": []}),
        _body({"stream": "s", "first_seq": -1, "n": 0, "names": []}),
    ],
)
def test_malformed_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(InvalidValueError):
        _wire.decode(body)


def test_batch_limit_is_named() -> None:
    with pytest.raises(LimitExceededError, match="MAX_BATCH_RECORDS"):
        _wire.decode(_body({"stream": "s", "first_seq": 0, "n": 10**9, "names": []}))


def test_columnar_batch_through_a_server(inprocess_server: InProcessServer) -> None:
    store = inprocess_server.store()
    try:
        from runtrack.model import RunStatus

        exp = store.get_or_create_experiment("wire")
        store.create_run(NewRun(exp.id, "wire-run", display_name="w", run_type="script",
                         status=RunStatus.RUNNING))
        columns = _columns()
        batch = MetricBatch.from_columns("s", 0, columns)
        assert store.ingest("wire-run", batch) == 4
        assert store.ingest("wire-run", batch) == 4  # a resend applies nothing
        data = store.read_series("wire-run", "loss")
        assert data.values[:2] == [0.5, 2**62] and math.isnan(data.values[2])  # type: ignore[arg-type]
        assert data.steps == [0, None, 3]
        assert store.read_series("wire-run", "label").values == ["cat"]
        bad = inprocess_server.http.post(f"{inprocess_server.api}/runs/wire-run/metrics",
                                         content=b"RTC1junk",
                                         headers={"content-type": _wire.MEDIA_TYPE})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_VALUE"
    finally:
        store.close()
