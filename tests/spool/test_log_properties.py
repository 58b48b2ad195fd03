"""Property test over every ``log_*`` method (issue #11): whatever a ``log_*`` call
accepts comes back identical from ``get_metrics()``, on a local and on a remote
workspace alike; whatever it refuses raises InvalidValueError / InvalidTypeError on
both; and either way the run goes on storing later calls."""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from runtrack import Experiment, Run, Workspace
from runtrack.errors import InvalidTypeError, InvalidValueError
from tests.live_server import LiveServer

LONG = 2**63

surrogate_text = st.builds(
    lambda head, code: head + chr(code), st.text(max_size=5), st.integers(0xD800, 0xDFFF)
)
text = st.one_of(st.text(max_size=30), surrogate_text)
ints = st.one_of(
    st.integers(-(2**63), 2**63 - 1), st.integers(min_value=LONG, max_value=2**70),
    st.integers(max_value=-LONG - 1, min_value=-(2**70)),
)
scalars = st.one_of(st.none(), st.booleans(), ints, st.floats(allow_nan=True), text)
column = st.text(alphabet="abcxyz_", min_size=1, max_size=6)

calls = st.one_of(
    st.tuples(st.just("log"), scalars),
    st.tuples(st.just("log_list"), st.lists(scalars, min_size=1, max_size=6)),
    st.tuples(st.just("log_row"), st.dictionaries(column, scalars, min_size=1, max_size=4)),
    st.tuples(
        st.just("log_table"),
        st.integers(1, 4).flatmap(
            lambda n: st.dictionaries(column, st.lists(scalars, min_size=n, max_size=n),
                                      min_size=1, max_size=3)
        ),
    ),
    st.tuples(
        st.just("log_confusion_matrix"),
        st.fixed_dictionaries({"schema_type": st.just("confusion_matrix"),
                               "data": st.dictionaries(column, st.integers(0, 9), max_size=3)}),
    ),
)
names = st.one_of(st.text(alphabet="abc/._-", min_size=1, max_size=8), text)


def _same(value: Any) -> Any:
    """Comparable form: NaN equals NaN; bool stays distinct from int."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, list):
        return [_same(v) for v in value]
    if isinstance(value, dict):
        return {k: _same(v) for k, v in value.items()}
    return value


def _expected(method: str, value: Any) -> Any:
    def one_or_many(values: list[Any]) -> Any:
        return values[0] if len(values) == 1 else values

    if method == "log":
        return value
    if method == "log_list":
        return one_or_many(list(value))
    if method == "log_row":
        return dict(value)
    if method == "log_table":
        return {k: one_or_many(list(v)) for k, v in value.items()}
    return None  # documents: only the outcome is compared


def _call(run: Run, method: str, name: str, value: Any) -> str | None:
    """Log; None when accepted, else the refusal's type name."""
    try:
        if method == "log_row":
            run.log_row(name, **value)
        else:
            getattr(run, method)(name, value)
    except (InvalidValueError, InvalidTypeError) as exc:
        return type(exc).__name__
    return None


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory, live_server: LiveServer
) -> Iterator[list[Run]]:
    spool = tmp_path_factory.mktemp("spool")
    old = os.environ.get("RUNTRACK_SPOOL_DIR")
    os.environ["RUNTRACK_SPOOL_DIR"] = str(spool)
    try:
        local = Workspace(str(tmp_path_factory.mktemp("local") / "ws"))
        remote = Workspace(live_server.url)
    finally:
        if old is None:
            os.environ.pop("RUNTRACK_SPOOL_DIR")
        else:
            os.environ["RUNTRACK_SPOOL_DIR"] = old
    pair = [Experiment(ws, "props").start_logging() for ws in (local, remote)]
    yield pair
    for run in pair:
        run.complete()
    local.close()
    remote.close()


_counter = itertools.count()
EMPTY_MATRIX = {"schema_type": "confusion_matrix", "data": {}}


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(call=calls, name=names)
@example(call=("log_confusion_matrix", EMPTY_MATRIX), name="./")  # found by this test
@example(call=("log_confusion_matrix", EMPTY_MATRIX), name="a/../")
@example(call=("log", os.fsdecode(b"img_\xff.png")), name="last_file")
@example(call=("log", 2**63), name="count")
def test_every_log_method_round_trips_or_refuses_alike(
    runs: list[Run], call: tuple[str, Any], name: str
) -> None:
    method, value = call
    n = next(_counter)
    unique = f"{name}#{n}"
    outcomes = [_call(run, method, unique, value) for run in runs]
    assert outcomes[0] == outcomes[1], (method, value, outcomes)
    for run in runs:
        run.log("sentinel", n)  # the run still stores after whatever happened
    got = [run.get_metrics(unique).get(unique) for run in runs]
    if method == "log_confusion_matrix":  # a reference to the run's document
        got = [
            ref if ref is None else str(ref).replace(run.id, "<run>")
            for ref, run in zip(got, runs, strict=True)
        ]
    if outcomes[0] is not None:
        assert got == [None, None]
        return
    assert _same(got[0]) == _same(got[1]), (method, value, got)
    expected = _expected(method, value)
    if expected is not None:
        assert _same(got[0]) == _same(expected), (method, value, got[0])
    sentinels = [run.get_metrics("sentinel")["sentinel"] for run in runs]
    assert sentinels[0] == sentinels[1] and (sentinels[0] == n or sentinels[0][-1] == n)


def test_the_property_covers_every_log_method() -> None:
    methods = {m for m in dir(Run) if m.startswith("log") and callable(getattr(Run, m))}
    covered = {"log", "log_list", "log_row", "log_table", "log_confusion_matrix"}
    # the other document kinds share log_confusion_matrix's code; images need files
    others: set[str] = {"log_accuracy_table", "log_residuals", "log_predictions", "log_image"}
    assert methods == covered | others

