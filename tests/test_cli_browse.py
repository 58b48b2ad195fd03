"""``runtrack diff``, ``runtrack open`` and the Web View line of a local workspace."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from runtrack import Experiment, Run, Workspace, config
from runtrack.cli import main


def _cli(*args: str, code: int = 0) -> str:
    out = CliRunner().invoke(main, list(args))
    assert out.exit_code == code, out.output
    return out.output


def _run(ws: Workspace, lr: str, loss: list[float], tags: dict[str, str]) -> str:
    run = Experiment(ws, "cmp").start_logging()
    run.add_properties({"lr": lr, "model": "mlp"})
    run.set_tags(tags)
    for value in loss:
        run.log("loss", value)
    run.complete()
    return str(run.id)


def test_diff_shows_only_differences_unless_all(tmp_path: Path) -> None:
    ws = Workspace(str(tmp_path / "ws"))
    a = _run(ws, "0.1", [3.0, 1.0], {"team": "x"})
    b = _run(ws, "0.01", [2.0, 1.5], {"team": "x", "note": "best"})
    ws.close()
    uri = str(tmp_path / "ws")
    data = json.loads(_cli("diff", a, b, "--uri", uri, "--json"))
    rows = {(r["section"], r["key"]): (r["a"], r["b"]) for r in data["rows"]}
    assert rows[("property", "lr")] == ("0.1", "0.01")
    assert rows[("tag", "note")] == (None, "best")
    assert rows[("metric", "loss")][0].startswith("last 1 · min 1 · max 3")
    assert ("property", "model") not in rows and ("tag", "team") not in rows
    everything = json.loads(_cli("diff", a, b, "--uri", uri, "--json", "--all"))
    assert ("property", "model") in {(r["section"], r["key"]) for r in everything["rows"]}
    table = _cli("diff", a, b, "--uri", uri)
    assert "lr" in table and "best" in table
    assert "same status" in _cli("diff", a, a, "--uri", uri)


def test_web_view_of_a_local_run_says_how_to_open_it(tmp_path: Path) -> None:
    ws = Workspace(str(tmp_path / "ws"))
    run = Experiment(ws, "web").start_logging()
    assert run.web_view() == f"runtrack open {run.id}  (starts the web UI for this workspace)"
    config.write_ui_marker(ws.settings, "http://127.0.0.1:5999")  # this process is alive
    assert run.web_view() == f"http://127.0.0.1:5999/runs/{run.id}"
    assert Run.get(ws, run.id).web_view().startswith("http://127.0.0.1:5999")
    assert run.get_portal_url() == f"http://127.0.0.1:5999/runs/{run.id}"  # Azure's name too
    run.complete()
    ws.close()


def test_open_starts_a_ui_once_and_then_finds_it(tmp_path: Path) -> None:
    ws = Workspace(str(tmp_path / "ws"))
    run_id = _run(ws, "0.1", [1.0], {})
    settings = ws.settings
    ws.close()
    uri = str(tmp_path / "ws")
    try:
        url = _cli("open", "latest", "--uri", uri, "--no-browser").splitlines()[0]
        base = url.rsplit("/runs/", 1)[0]
        assert url == f"{base}/runs/{run_id}"
        assert httpx.get(url).status_code == 200
        again = _cli("open", "--uri", uri, "--no-browser").splitlines()[0]
        assert again == f"{base}/runs"
    finally:
        marker = json.loads((tmp_path / "ws" / config.UI_MARKER).read_text())
        os.kill(marker["pid"], signal.SIGTERM)
        for _ in range(300):  # bounded wait for the UI (a child of this process) to end
            if os.waitpid(marker["pid"], os.WNOHANG) != (0, 0):
                break
            time.sleep(0.1)
    assert config.ui_url(settings) is None
