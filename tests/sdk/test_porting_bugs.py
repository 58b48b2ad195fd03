"""The three porting bugs of issue #12 (each test failed before its fix)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtrack import Experiment, Workspace


def test_env_tracking_uri_wins_over_a_found_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = Workspace(str(tmp_path / "shared"))
    Experiment(shared, "exp").start_logging(snapshot_directory=None).complete()
    shared.close()
    Path("config.json").write_text(
        json.dumps({"subscription_id": "sub", "resource_group": "rg", "workspace_name": "azws"})
    )
    monkeypatch.setenv("RUNTRACK_TRACKING_URI", str(tmp_path / "shared"))
    ws = Workspace.from_config()
    assert ws.tracking_uri == f"sqlite:///{tmp_path / 'shared' / 'runtrack.db'}"
    assert len(list(Experiment(ws, "exp").get_runs())) == 1
    # the file still supplies the name and the Azure fields
    assert (ws.name, ws.subscription_id, ws.resource_group) == ("azws", "sub", "rg")
    assert not Path(".runtrack").exists()


def test_download_files_strips_only_folder_prefixes(exp: Experiment, tmp_path: Path) -> None:
    run = exp.start_logging(snapshot_directory=None)
    src = tmp_path / "std_log.txt"
    src.write_text("log line\n")
    run.upload_file("user_logs/std_log.txt", str(src))
    out = tmp_path / "d"
    got = run.download_files(
        prefix="user_logs/std_log.txt", output_directory=str(out), append_prefix=False
    )
    assert got == [str(out / "user_logs" / "std_log.txt")]
    assert (out / "user_logs" / "std_log.txt").read_text() == "log line\n"
    # a folder prefix, with or without its trailing slash, is stripped
    for prefix in ("user_logs", "user_logs/"):
        got = run.download_files(
            prefix=prefix, output_directory=str(tmp_path / prefix.strip("/")), append_prefix=False
        )
        assert got == [str(tmp_path / "user_logs" / "std_log.txt")]
    run.complete()
