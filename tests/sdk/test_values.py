"""Bad input gets a clear runtrack error at the call; nothing logged before is lost."""

from __future__ import annotations

import decimal

import numpy as np
import pytest

from runtrack import (
    Experiment,
    InvalidTypeError,
    InvalidValueError,
    LimitExceededError,
    limits,
)


def test_log_refuses_sequences_and_points_at_log_list(exp: Experiment) -> None:
    run = exp.start_logging()
    run.log("ok", 1.0)
    for bad in ([1, 2], (1, 2), range(3), (x for x in [1]), np.arange(3)):
        with pytest.raises(InvalidTypeError, match="log_list"):
            run.log("m", bad)
    assert run.get_metrics() == {"ok": 1.0}


def test_unknown_types_are_refused_with_the_metric_name(exp: Experiment) -> None:
    run = exp.start_logging()
    with pytest.raises(InvalidTypeError, match="'price'"):
        run.log("price", decimal.Decimal("1.5"))
    with pytest.raises(TypeError):
        run.log_list("cells", [1, object()])


def test_ragged_table_names_the_columns(exp: Experiment) -> None:
    run = exp.start_logging()
    with pytest.raises(InvalidValueError, match="different lengths") as info:
        run.log_table("t", {"a": [1, 2], "b": [1]})
    assert "'t'" in str(info.value)
    with pytest.raises(InvalidTypeError, match="dict"):
        run.log_table("t", [1, 2])


def test_row_cells_must_be_scalars(exp: Experiment) -> None:
    run = exp.start_logging()
    with pytest.raises(InvalidTypeError, match="log_table"):
        run.log_row("r", a=[1, 2])
    with pytest.raises(InvalidValueError, match="no columns"):
        run.log_row("r")


def test_image_needs_exactly_one_source_and_a_real_image(exp: Experiment, tmp_path) -> None:  # type: ignore[no-untyped-def]
    run = exp.start_logging()
    with pytest.raises(InvalidValueError, match="exactly one"):
        run.log_image("i")
    with pytest.raises(InvalidValueError, match="exactly one"):
        run.log_image("i", path="a.png", plot=object())
    text = tmp_path / "not.png"
    text.write_text("hello")
    with pytest.raises(InvalidValueError, match="not a recognised image"):
        run.log_image("i", path=str(text))
    with pytest.raises(InvalidTypeError, match="savefig"):
        run.log_image("i", plot=object())


def test_long_names_and_values_hit_documented_limits(exp: Experiment) -> None:
    run = exp.start_logging()
    with pytest.raises(LimitExceededError, match="MAX_METRIC_NAME_LENGTH"):
        run.log("x" * (limits.MAX_METRIC_NAME_LENGTH + 1), 1)
    with pytest.raises(LimitExceededError, match="upload_file"):
        run.log("s", "y" * (limits.MAX_STRING_VALUE_LENGTH + 1))
    with pytest.raises(InvalidValueError):
        run.log("", 1)
    assert isinstance(LimitExceededError("x"), ValueError)


def test_kind_conflict_is_refused(exp: Experiment) -> None:
    run = exp.start_logging()
    run.log_list("m", [1, 2])
    with pytest.raises(InvalidValueError, match="another name"):
        run.log("m", 3)
    assert run.get_metrics()["m"] == [1, 2]


def test_bad_step_and_bad_json(exp: Experiment) -> None:
    run = exp.start_logging()
    with pytest.raises(InvalidTypeError, match="step"):
        run.log("m", 1.0, step=1.5)
    run.log("m", 1.0, step=np.int64(3))
    assert run.get_metric_series("m").steps == [3]
    with pytest.raises(InvalidValueError, match="Invalid JSON"):
        run.log_confusion_matrix("cm", "{not json")


def test_empty_list_and_table_are_no_ops(exp: Experiment) -> None:
    run = exp.start_logging()
    run.log_list("e", [])
    run.log_table("t", {"a": []})
    assert run.get_metrics() == {}
