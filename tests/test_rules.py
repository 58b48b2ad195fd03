"""runtrack._rules: the bulk checks refuse exactly what the one-value checks refuse."""

from __future__ import annotations

import math
from typing import Any

import pytest

from runtrack import _rules, limits
from runtrack.errors import InvalidTypeError, InvalidValueError

GOOD_CELLS: list[Any] = [1.5, math.nan, -math.inf, True, None, 7, 2**63 - 1, -(2**63), "ü ✓", ""]
BAD_CELLS: list[Any] = [2**63, -(2**63) - 1, "x" * (limits.MAX_STRING_VALUE_LENGTH + 1),
                        "img_\udcff", [1], b"bytes", {"x": 1}]


@pytest.mark.parametrize("bad", BAD_CELLS, ids=repr)
def test_one_bad_cell_among_many_is_found(bad: Any) -> None:
    values = GOOD_CELLS * 100
    values.insert(537, bad)
    with pytest.raises((InvalidValueError, InvalidTypeError)):
        _rules.check_values("scalar", values, "metric 'm'")
    with pytest.raises((InvalidValueError, InvalidTypeError)):
        _rules.check_value("list", bad, "metric 'm'")
    row = {"a": 1, "b": bad}
    with pytest.raises((InvalidValueError, InvalidTypeError)):
        _rules.check_values("table", [{"a": 1}] * 50 + [row], "metric 't'")


def test_good_values_pass() -> None:
    _rules.check_values("scalar", GOOD_CELLS * 100, "m")
    _rules.check_values("table", [{"a": v, "b": 1} for v in GOOD_CELLS], "t")
    _rules.check_values("image", ["pic.png", "ü.png"], "i")
    _rules.check_steps([None, 0, 5, 2**63 - 1, -(2**63) + 1], "m")


@pytest.mark.parametrize("kind, value", [
    ("table", 1.0), ("table", {}), ("table", {"": 1}), ("table", {"a\x00": 1}),
    ("table", {f"c{i}": 1 for i in range(limits.MAX_TABLE_COLUMNS + 1)}),
    ("image", 1.0), ("image", ""), ("confusion_matrix", {"a": 1}),
])
def test_values_that_do_not_fit_their_kind(kind: str, value: Any) -> None:
    with pytest.raises((InvalidValueError, InvalidTypeError)):
        _rules.check_values(kind, [value], "m")


@pytest.mark.parametrize("step", [2**63, -(2**63), 1.5, True, "3"])
def test_bad_steps(step: Any) -> None:
    with pytest.raises(InvalidValueError):
        _rules.check_steps([1, 2, None, step, 4], "m")


@pytest.mark.parametrize("name", ["", "   ", "a\x00b", "tab\there", "x" * 256, "s\udcff", 5])
def test_bad_names(name: Any) -> None:
    with pytest.raises((InvalidValueError, InvalidTypeError)):
        _rules.check_name(name)
