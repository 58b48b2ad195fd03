"""Where a workspace lives: argument > RUNTRACK_TRACKING_URI > config file > ./.runtrack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtrack import ConfigError, Experiment, InvalidValueError, Workspace
from runtrack.config import resolve


def test_default_is_a_local_folder_with_sqlite_and_artifacts() -> None:
    ws = Workspace()
    assert ws.tracking_uri == f"sqlite:///{Path.cwd() / '.runtrack' / 'runtrack.db'}"
    run = Experiment(ws, "e").start_logging()
    run.upload_file("a.txt", __file__)
    run.complete()
    assert (Path.cwd() / ".runtrack" / "runtrack.db").is_file()
    assert (Path.cwd() / ".runtrack" / "artifacts").is_dir()
    assert list(ws.experiments) == ["e"]


def test_environment_variable_wins_over_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("runtrack.json").write_text(json.dumps({"tracking_uri": "from-config"}))
    monkeypatch.setenv("RUNTRACK_TRACKING_URI", str(tmp_path / "env-ws"))
    assert resolve().tracking_uri == f"sqlite:///{tmp_path / 'env-ws' / 'runtrack.db'}"


@pytest.mark.parametrize(
    "config_file",
    [
        ".runtrack/config.json",
        "runtrack.json",
        ".azureml/config.json",
        "aml_config/config.json",
        "config.json",
    ],
)
def test_from_config_searches_upward(tmp_path: Path, config_file: str) -> None:
    project = tmp_path / "project"
    deep = project / "src" / "pkg"
    deep.mkdir(parents=True)
    cfg = project / config_file
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(
        json.dumps({"subscription_id": "x", "resource_group": "y", "workspace_name": "my-ws"})
    )
    ws = Workspace.from_config(str(deep))
    assert ws.name == "my-ws"
    assert ws.tracking_uri == f"sqlite:///{project / '.runtrack' / 'runtrack.db'}"


def test_config_with_tracking_uri_relative_to_the_project(tmp_path: Path) -> None:
    (tmp_path / "runtrack.json").write_text(json.dumps({"tracking_uri": "data/ws"}))
    assert resolve(search_from=tmp_path).tracking_uri == (
        f"sqlite:///{tmp_path / 'data' / 'ws' / 'runtrack.db'}"
    )


def test_a_folder_given_as_a_path(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")  # as a str: the same workspace
    Experiment(ws, "e").start_logging(snapshot_directory=None, outputs=False).complete()
    ws.close()
    again = Workspace(str(tmp_path / "ws"))
    assert [r.status for r in Experiment(again, "e").get_runs()] == ["Completed"]
    again.close()


def test_bad_config_and_uri_give_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "runtrack.json").write_text("{nope")
    with pytest.raises(ConfigError, match=r"runtrack\.json"):
        resolve(search_from=tmp_path)
    with pytest.raises(ConfigError, match="unsupported tracking URI"):
        resolve("ftp://x")
    with pytest.raises(ConfigError, match="artifact root"):
        resolve("postgresql://localhost/db")


def test_experiment_names_are_validated(ws: Workspace) -> None:
    assert Experiment(ws, "train-on-local_2").name == "train-on-local_2"
    for bad in ("", "-leading", "has space", "x" * 256, "a/b"):
        with pytest.raises(InvalidValueError, match="not valid"):
            Experiment(ws, bad)
    assert Experiment(ws, "same").id == Experiment(ws, "same").id
    exp = Experiment(ws, "tagged")
    exp.tag("owner", "me")
    exp.set_tags({"k": 1})
    exp.remove_tags("owner")
    assert Experiment(ws, "tagged").tags == {"k": "1"}
    assert str(exp) == f"Experiment(Name: tagged,\nWorkspace: {ws.name})"
