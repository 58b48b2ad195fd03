"""The limits of docs/limits.md behave as documented: LimitExceededError naming the limit,
sizes printed in the limit's own unit, and no run left behind by a refused snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtrack import Experiment, LimitExceededError, Workspace, limits
from runtrack.runner.snapshot import _mb


def test_experiment_name_limit(ws: Workspace) -> None:
    Experiment(ws, "a" * limits.MAX_EXPERIMENT_NAME_LENGTH)
    with pytest.raises(LimitExceededError, match="MAX_EXPERIMENT_NAME_LENGTH"):
        Experiment(ws, "a" * (limits.MAX_EXPERIMENT_NAME_LENGTH + 1))


def test_run_id_limit(exp: Experiment) -> None:
    # no snapshot: a local folder cannot hold files under a 256-character run id (one name
    # may have 255 bytes), noted in docs/limits.md
    exp.start_logging(run_id="r" * limits.MAX_RUN_ID_LENGTH, snapshot_directory=None).complete()
    with pytest.raises(LimitExceededError, match="MAX_RUN_ID_LENGTH"):
        exp.start_logging(run_id="r" * (limits.MAX_RUN_ID_LENGTH + 1))


def test_snapshot_size_is_printed_in_the_unit_of_the_limit() -> None:
    assert _mb(limits.SNAPSHOT_MAX_BYTES) == "300.0 MB"


def test_an_oversized_snapshot_leaves_no_run(exp: Experiment, tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for i in range(limits.SNAPSHOT_MAX_FILES + 1):
        (source / f"f{i}.txt").write_text("x")
    with pytest.raises(LimitExceededError, match="SNAPSHOT_MAX_FILES"):
        exp.start_logging(snapshot_directory=str(source))
    assert list(exp.get_runs()) == []


def test_description_and_display_name_limits_apply_when_the_run_is_started(
    exp: Experiment,
) -> None:
    # the same checks as the setters, and no run is left behind by a refused start
    before = len(list(exp.get_runs()))
    with pytest.raises(LimitExceededError, match="description"):
        exp.start_logging(description="d" * (limits.MAX_DESCRIPTION_LENGTH + 1),
                          snapshot_directory=None)
    with pytest.raises(LimitExceededError, match="display name"):
        exp.start_logging(display_name="n" * (limits.MAX_DISPLAY_NAME_LENGTH + 1),
                          snapshot_directory=None)
    assert len(list(exp.get_runs())) == before
    run = exp.start_logging(description="d" * limits.MAX_DESCRIPTION_LENGTH,
                            snapshot_directory=None)
    run.complete()
    assert run.description == "d" * limits.MAX_DESCRIPTION_LENGTH
    with pytest.raises(LimitExceededError, match="description"):
        run.description = "d" * (limits.MAX_DESCRIPTION_LENGTH + 1)
