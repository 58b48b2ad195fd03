"""``runtrack open`` (a run or the workspace in the browser) and ``runtrack diff``."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import click

from runtrack._format import format_number
from runtrack.cli._common import URI, open_workspace, resolve_run_id

UI_START_TIMEOUT_S = 60.0


def _answers(base: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{base}/api/v1/health", timeout=2.0).is_success
    except httpx.TransportError:
        return False


def _start_ui(settings: Any) -> str:
    """Start ``runtrack ui`` over this local workspace in the background and return its
    URL once it answers (it keeps serving after this command ends)."""
    from runtrack import config

    folder = config.workspace_folder(settings)
    if folder is None:
        raise click.ClickException(
            f"{settings.tracking_uri} has no folder to run 'runtrack ui' from: start "
            "'runtrack ui --uri …' or 'runtrack server' over it and open that"
        )
    log = folder / "ui.log"
    with log.open("ab") as out:
        subprocess.Popen(
            [sys.executable, "-m", "runtrack", "ui", "--uri", settings.tracking_uri],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + UI_START_TIMEOUT_S
    while time.monotonic() < deadline:
        url = config.ui_url(settings)
        if url is not None and _answers(url):
            return url
        time.sleep(0.2)
    raise click.ClickException(f"the web UI did not start; its log is {log}")


@click.command("open")
@URI
@click.argument("run", required=False)
@click.option("--no-browser", is_flag=True, help="Only print the URL.")
def open_(uri: str | None, run: str | None, no_browser: bool) -> None:
    """Open the web UI at RUN's page (or the workspace's runs): a server workspace's own
    pages, a 'runtrack ui' already serving this folder, or one started in the background."""
    from runtrack import config

    ws = open_workspace(uri)
    path = f"/runs/{resolve_run_id(ws.store, run)}" if run else "/runs"
    base = config.ui_url(ws.settings)
    if base is not None and not ws.settings.is_remote and not _answers(base):
        base = None  # a stale note: its process is gone or is something else now
    started = base is None
    if base is None:
        base = _start_ui(ws.settings)
    url = base + path
    click.echo(url)
    if started:
        click.echo(f"(a web UI now serves this workspace at {base}; stop it with Ctrl+C "
                   "in its terminal or by ending its process)", err=True)
    if not no_browser:
        import webbrowser

        if not webbrowser.open(url):
            click.echo("no browser found here: open the URL above yourself", err=True)


def _summary_rows(ws: Any, run_id: str) -> dict[tuple[str, str], str]:
    info = ws.store.get_run(run_id)
    rows: dict[tuple[str, str], str] = {
        ("run", "experiment"): info.experiment_name,
        ("run", "status"): info.status.value,
        ("run", "type"): info.run_type,
        ("run", "display name"): info.display_name,
    }
    if info.start_time and info.end_time:
        rows[("run", "duration s")] = f"{info.end_time - info.start_time:.1f}"
    rows.update({("property", k): str(v) for k, v in info.properties.items()})
    rows.update({("tag", k): "" if v is None else str(v) for k, v in info.tags.items()})
    for s in ws.store.get_summaries([run_id]).get(run_id, {}).values():
        if s.count and s.last is not None:
            rows[("metric", s.name)] = (
                f"last {format_number(s.last)} · min {format_number(s.minimum)} · "
                f"max {format_number(s.maximum)} · n {format_number(s.count)}"
            )
    return rows


@click.command()
@URI
@click.argument("run_a")
@click.argument("run_b")
@click.option("--all", "show_all", is_flag=True, help="Also show the rows that are equal.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def diff(uri: str | None, run_a: str, run_b: str, show_all: bool, as_json: bool) -> None:
    """Compare two runs side by side: status, properties, tags and metric summaries
    (last, min, max, count). Only differences unless --all."""
    ws = open_workspace(uri)
    a, b = (resolve_run_id(ws.store, ref) for ref in (run_a, run_b))
    left, right = _summary_rows(ws, a), _summary_rows(ws, b)
    keys = sorted(set(left) | set(right), key=lambda k: (
        ["run", "property", "tag", "metric"].index(k[0]), k[1]))
    rows = [(k, left.get(k), right.get(k)) for k in keys
            if show_all or left.get(k) != right.get(k)]
    if as_json:
        click.echo(json.dumps({"a": a, "b": b, "rows": [
            {"section": k[0], "key": k[1], "a": x, "b": y, "same": x == y}
            for k, x, y in rows]}, indent=2))
        return
    if not rows:
        click.echo(f"{a} and {b} have the same status, properties, tags and metrics")
        return
    from runtrack.cli import _print_table

    _print_table(f"{a}  vs  {b}", ["what", "name", "A", "B"],
                 [[k[0], k[1], "—" if x is None else x, "—" if y is None else y]
                  for k, x, y in rows])


COMMANDS = [open_, diff]
