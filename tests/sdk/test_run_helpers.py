"""Run holds its helpers (RunMetrics, RunFiles, RunChildren, RunEnding, ScriptRunControl)
without reference cycles, and what it builds through them is a plain Run."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtrack import Experiment, Run


@pytest.fixture
def no_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_a_dropped_run_is_freed_at_once_with_its_spool_open(exp: Experiment, no_gc: None) -> None:
    """No cycle through the helpers or the installed scalar logger: dropping the last
    reference frees the run (and so ends its spool) without the garbage collector."""
    run = exp.start_logging(snapshot_directory=None, outputs=False)
    run.log("loss", 0.5)
    assert "log" in run.__dict__  # the spool is open: run.log is the scalar logger
    run.upload_file("a.txt", __file__)
    list(run.get_children())
    spooled = weakref.ref(run._metrics.spooled)  # type: ignore[arg-type]
    gone = weakref.ref(run)
    del run
    assert gone() is None and spooled() is None


class _Special(Run):
    pass


def test_children_are_plain_runs_whatever_the_parent_class(exp: Experiment) -> None:
    parent = _Special(exp, exp.start_logging(snapshot_directory=None, outputs=False).id)
    made = [parent.child_run("one"), *parent.create_children(count=2)]
    listed = list(parent.get_children())
    assert {type(r) for r in [*made, *listed]} == {Run}
    assert sorted(r.id for r in listed) == sorted(r.id for r in made)
    for child in made:
        child.complete()
    assert parent.info.id == parent.id and parent.info.parent_id is None


def test_only_a_run_that_ends_in_this_process_builds_its_ending(exp: Experiment) -> None:
    """RunEnding is made on first use: the handles of a listing never build one, a run
    this process creates does (it owns the run until it settles it)."""
    started = exp.start_logging(snapshot_directory=None, outputs=False)
    assert started._ending.ownership is not None and started._ending.ownership.held
    listed = next(iter(exp.get_runs()))
    assert listed.id == started.id
    listed.get_metrics()
    listed.get_details()
    assert "_ending" not in listed.__dict__
    started.complete()
    assert not started._ending.ownership.held  # released: the run is settled
    assert listed.get_status() == "Completed" and "_ending" not in listed.__dict__


def test_display_names_leave_the_programs_random_state_alone() -> None:
    """A seeded program draws the same numbers whether or not it starts runs, and the
    same seed does not give the same generated name (1 chance in 9 million)."""
    import random

    from runtrack.sdk._names import new_display_name

    random.seed(7)
    expected = [random.random() for _ in range(3)]
    random.seed(7)
    drawn = []
    names = []
    for _ in range(3):
        names.append(new_display_name())
        drawn.append(random.random())
    assert drawn == expected
    random.seed(7)
    first = new_display_name()
    random.seed(7)
    assert new_display_name() != first
    adjective, noun, number = names[0].split("_")
    assert adjective.isalpha() and noun.isalpha() and len(number) == 4 and number.isdigit()


def test_outputs_folder_is_made_and_resolved(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """``outputs_dir`` makes the folder and answers ``Path.resolve()``'s path, also from
    a working folder reached through a link and for an outputs folder that is a link."""
    from runtrack.sdk._run_fields import outputs_dir

    real = tmp_path / "real"
    (real / "elsewhere").mkdir(parents=True)
    (tmp_path / "via").symlink_to(real)
    monkeypatch.chdir(tmp_path / "via")
    assert outputs_dir(False) is None
    for given in (None, "", True, "outputs", "nested/out", "../real/up", str(tmp_path / "abs"),
                  ".", "linked"):
        if given == "linked":
            (real / "linked").symlink_to(real / "elsewhere")
        folder = outputs_dir(given)
        assert folder is not None and folder.is_dir()
        name = "outputs" if given in (None, "", True) else str(given)
        assert folder == Path(name).resolve() and folder.is_absolute()
    assert outputs_dir("linked") == real / "elsewhere"
    assert outputs_dir(None) == real / "outputs"
