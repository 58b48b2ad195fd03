"""Run lifecycle, tags, properties, children, files and details."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from runtrack import (
    ArtifactExistsError,
    Experiment,
    NotFoundError,
    OfflineRun,
    PropertyConflictError,
    Run,
    RunStateError,
    Workspace,
)
from runtrack.sdk.run import _OfflineRun


def test_interactive_run_lifecycle(exp: Experiment) -> None:
    run = exp.start_logging(display_name="first", tags={"team": "a"})
    assert run.get_status() == "Running"
    assert run.display_name == "first" and run.number == 1 and run.type == "interactive"
    assert "endTimeUtc" not in run.get_details()
    run.complete()
    assert run.get_status() == "Completed"
    details = run.get_details()
    assert details["runId"] == run.id and details["endTimeUtc"] and details["target"] == "local"
    run.complete()  # same terminal state again: no-op
    with pytest.raises(RunStateError, match="terminal states are final"):
        run.fail("late")
    assert exp.start_logging().number == 2
    assert str(run) == (
        f"Run(Experiment: tests,\nId: {run.id},\nType: interactive,\nStatus: Completed)"
    )


def test_context_manager_completes_or_fails_with_traceback(exp: Experiment) -> None:
    with exp.start_logging() as run:
        run.log("a", 1)
        print("hello from the run")
    assert run.get_status() == "Completed"
    assert "logs/user_log.txt" in run.get_file_names()
    with pytest.raises(ZeroDivisionError), exp.start_logging() as bad:
        bad.log("b", 1)
        1 / 0  # noqa: B018
    assert bad.get_status() == "Failed"
    error = bad.get_details()["error"]["error"]
    assert error["message"] == "User program failed with ZeroDivisionError: division by zero"
    assert "ZeroDivisionError" in error["traceback"]
    assert bad.get_metrics() == {"b": 1}
    with exp.start_logging() as ok:
        raise SystemExit(0)
    assert ok.get_status() == "Completed"


def test_fail_and_cancel(exp: Experiment) -> None:
    run = exp.start_logging()
    run.fail(error_details="bad data", error_code="DataError")
    assert run.get_details()["error"] == {"error": {"code": "DataError", "message": "bad data"}}
    other = exp.start_logging()
    other.cancel()
    assert other.get_status() == "Canceled"


def test_tags_are_mutable_properties_add_only(exp: Experiment) -> None:
    run = exp.start_logging(snapshot_directory=None)
    run.tag("quality", "great run")
    run.tag("quality", "fantastic run")
    run.tag("worth another look")
    run.tag("Competition Rank", 1)
    assert run.get_tags() == {
        "quality": "fantastic run",
        "worth another look": None,
        "Competition Rank": "1",
    }
    run.remove_tags(["quality"])
    assert "quality" not in run.get_tags()
    run.add_properties({"author": "azureml-user"})
    run.add_properties({"author": "azureml-user"})
    with pytest.raises(PropertyConflictError):
        run.add_properties({"author": "different-user", "other": "x"})
    assert run.get_properties() == {"author": "azureml-user"}


def test_get_runs_filters_newest_first(exp: Experiment) -> None:
    a = exp.start_logging(tags={"quality": "fantastic run"})
    a.add_properties({"author": "azureml-user"})
    b = exp.start_logging(tags={"worth another look": None})
    c = a.child_run()
    assert [r.id for r in exp.get_runs()] == [b.id, a.id]
    found = exp.get_runs(properties={"author": "azureml-user"}, tags={"quality": "fantastic run"})
    assert [r.id for r in found] == [a.id]
    assert [r.id for r in exp.get_runs(tags="worth another look")] == [b.id]
    assert c.id in [r.id for r in exp.get_runs(include_children=True)]
    b.complete()
    assert [r.id for r in exp.get_runs(status="Completed")] == [b.id]


def test_children(exp: Experiment) -> None:
    parent = exp.start_logging()
    with parent.child_run("child") as child:
        child.log("x", 1)
    assert child.get_status() == "Completed" and child.parent == parent
    kids = parent.create_children(count=3)
    assert [k.get_tags()["batch_child_number"] for k in kids] == ["0", "1", "2"]
    tagged = parent.create_children(tag_key="lr", tag_values=["0.1", "0.01"])
    assert [k.get_tags()["lr"] for k in tagged] == ["0.1", "0.01"]
    assert len(list(parent.get_children())) == 6
    grandchild = kids[0].child_run()
    assert grandchild.id in [r.id for r in parent.get_children(recursive=True)]
    assert parent.parent is None
    with pytest.raises(ValueError):
        parent.create_children(count=101)


def test_files(exp: Experiment, tmp_path: Path) -> None:
    run = exp.start_logging()
    src = tmp_path / "myfile.txt"
    src.write_text("This is an output file that will be uploaded.\n")
    run.upload_file("logging-api/myfile.txt", str(src))
    with pytest.raises(ArtifactExistsError):
        run.upload_file("logging-api/myfile.txt", str(src))
    run.upload_file("stream.bin", io.BytesIO(b"abc"))
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.txt").write_text("a")
    (data / "sub" / "b.txt").write_text("b")
    run.upload_folder("important_files", str(data))
    with pytest.raises(TypeError):
        run.upload_files(["x"], [])
    names = run.get_file_names()
    assert {
        "logging-api/myfile.txt",
        "stream.bin",
        "important_files/a.txt",
        "important_files/sub/b.txt",
    } <= set(names)
    assert Path(run.download_file("logging-api/myfile.txt")).read_text().startswith("This is")
    out = tmp_path / "out"
    out.mkdir()
    assert run.download_file("stream.bin", str(out)) == str(out / "stream.bin")
    got = run.download_files(prefix="important_files", output_directory=str(tmp_path / "dl"))
    assert sorted(Path(p).read_text() for p in got) == ["a", "b"]
    got = run.download_files(
        prefix="important_files", output_directory=str(tmp_path / "np"), append_prefix=False
    )
    assert (tmp_path / "np" / "sub" / "b.txt").exists()
    with pytest.raises(NotFoundError, match="get_file_names"):
        run.download_file("nope.txt")


def test_outputs_folder_is_uploaded_at_the_end(exp: Experiment) -> None:
    run = exp.start_logging()
    assert Path("outputs").is_dir()
    Path("outputs/model.pkl").write_bytes(b"model")
    run.complete()
    assert "outputs/model.pkl" in run.get_file_names()


def test_load_run_by_id(ws: Workspace, exp: Experiment) -> None:
    run = exp.start_logging()
    run.log("m", 1)
    run.complete()
    assert Run(exp, run.id).get_metrics() == {"m": 1}
    assert Run.get(ws, run.id).experiment.name == "tests"
    with pytest.raises(NotFoundError):
        Run(exp, "missing")


def test_offline_context_prints_and_never_raises(capsys: pytest.CaptureFixture[str]) -> None:
    run = Run.get_context()
    assert isinstance(run, OfflineRun) and isinstance(run, _OfflineRun)
    assert run.id.startswith("OfflineRun") and run._run_id == run.id
    run.log("loss", 0.5, step=3)
    run.log_row("r", a=1)
    run.tag("k", "v")
    run.upload_file("x", "nowhere")
    run.complete()
    out = capsys.readouterr().out
    assert "Attempted to log scalar metric loss:\n0.5" in out
    assert "Attempted to log row metric r:\n{'a': 1}" in out
    assert "Attempted to add tag k with value v" in out
    with pytest.raises(Exception, match="submitted run"):
        Run.get_context(allow_offline=False)
    assert Run.get_context().id != run.id


def test_a_run_settled_by_another_handle_keeps_this_handles_points(exp: Experiment) -> None:
    # complete() does not read the run first: a Canceled run is found by set_status, once
    # this handle's points are stored
    run = exp.start_logging(snapshot_directory=None)
    run.log("loss", 0.5)
    Run(exp, run.id).cancel()
    with pytest.raises(RunStateError, match="already Canceled; terminal states are final"):
        run.complete()
    assert run.get_status() == "Canceled"
    assert exp.workspace.store.read_series(run.id, "loss").values == [0.5]
    Run(exp, run.id).cancel()  # the same terminal state again: a no-op


def test_the_fast_log_path_follows_the_spool(exp: Experiment) -> None:
    run = exp.start_logging(snapshot_directory=None)
    run.log("loss", 1.0)
    fast = run.log
    run.log("loss", 2.0, step=1)
    run.complete()
    assert run.get_metrics()["loss"] == [1.0, 2.0]
    # the completed run's spool is closed: its old logger hands the point to the run's
    # slow path, which opens a new spool, as run.log does after complete()
    fast("loss", 3.0, step=2)
    assert run.log is not fast
    run.flush()
    assert run.get_metrics()["loss"] == [1.0, 2.0, 3.0]
    # a dropped handle: the slow path says what to do instead of losing the point quietly
    other = exp.start_logging(snapshot_directory=None)
    other.log("x", 1.0)
    kept = other.log
    other.complete()
    del other
    with pytest.raises(RunStateError, match="keep a reference to the run"):
        kept("x", 2.0)


def test_a_log_function_taken_before_the_first_point_takes_the_fast_path(
    exp: Experiment, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = exp.start_logging(snapshot_directory=None)
    log = run.log  # the method: no spool yet
    log("loss", 1.0)
    slow: list[object] = []
    monkeypatch.setattr(run, "_log_slow", lambda *call: slow.append(call))
    log("loss", 2.0, step=1)
    assert slow == []  # the writer's scalar logger took it
    log("loss", True, step=2)
    assert slow == [("loss", True, "", 2)]  # what it does not take still goes the slow way
    monkeypatch.undo()
    run.complete()
    assert run.get_metrics()["loss"] == [1.0, 2.0]
