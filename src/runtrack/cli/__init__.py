"""The ``runtrack`` command line (also ``python -m runtrack``).

Commands are thin: they open a workspace and call the SDK or the store. Every
command has help text and ``--json`` output where it prints data. This module holds
the group and the workspace-browsing commands; each other area (server, submit, …)
keeps its commands in a sibling module exposing ``COMMANDS = [...]``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from runtrack import __version__
from runtrack._format import duration_text, format_number, run_seconds, time_text
from runtrack._rules import SYSTEM_PREFIX
from runtrack.cli._common import URI as _URI
from runtrack.cli._common import RuntrackGroup, open_workspace, resolve_run_id, workspace_settings

if TYPE_CHECKING:
    from runtrack.model import RunInfo, SeriesInfo

_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def _duration(info: RunInfo) -> str:
    return duration_text(run_seconds(info), empty="")


def _when(ts: float | None) -> str:
    return time_text(ts, empty="")


_ONE_LINE = frozenset({"id", "status"})


def _print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for column in columns:
        # ids and statuses stay on one line (ids are copied); names and values may fold
        table.add_column(column, overflow="fold", no_wrap=column in _ONE_LINE)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console = Console()
    if _natural_width(console, table) > console.width:
        table.box = None  # narrow terminal: drop the frame first
        needed = _natural_width(console, table)
        if needed > console.width:  # still too wide: never crop a cell, let lines run on
            console = Console(width=needed)
    console.print(table)


def _natural_width(console: Any, table: Any) -> int:
    """Width the table takes when no cell folds or is cut (names may still fold)."""
    fixed = [c for c in table.columns if c.no_wrap]
    widths = [
        max([len(str(c.header)), *(len(str(cell)) for cell in c._cells)]) for c in fixed
    ]
    folding = sum(
        min(10, max([len(str(c.header)), *(len(str(cell)) for cell in c._cells)]))
        for c in table.columns if not c.no_wrap
    )
    per_column = 3 if table.box is not None else 2
    return sum(widths) + folding + per_column * len(table.columns) + 1


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.group(cls=RuntrackGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runtrack")
@click.option("--debug", is_flag=True, help="Show the full traceback when a command fails.")
def main(debug: bool) -> None:
    """runtrack: log runs from training code, then browse, compare and download them.

    Wherever a command takes a RUN, give its id, a unique prefix of it, or 'latest'."""


@main.command()
@_URI
@_JSON
@click.option("--all", "include_archived", is_flag=True, help="Include archived experiments.")
def experiments(uri: str | None, as_json: bool, include_archived: bool) -> None:
    """List experiments with their number of runs and last activity."""
    ws = open_workspace(uri)
    infos = ws.store.list_experiments(include_archived=include_archived)
    if as_json:
        _echo_json([i.to_json() for i in infos])
        return
    _print_table(
        f"Experiments in {ws.name}",
        ["name", "id", "runs", "last activity"],
        [[i.name, i.id, i.run_count, _when(i.last_activity)] for i in infos],
    )


@main.command()
@_URI
@_JSON
@click.option("--experiment", "-e", default=None, help="Only runs of this experiment.")
@click.option(
    "--metric", "-m", "metrics", multiple=True, help="Add a column with this metric's last value."
)
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1),
              help="At most this many runs.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (for spreadsheets) instead.")
def runs(
    uri: str | None, as_json: bool, experiment: str | None, metrics: tuple[str, ...], limit: int,
    as_csv: bool,
) -> None:
    """List runs, newest first: id, number, status, duration and chosen metrics."""
    from runtrack.model import RunQuery

    if as_json and as_csv:
        raise click.UsageError("give either --json or --csv, not both")
    ws = open_workspace(uri)
    ids = None
    if experiment is not None:
        info = ws.store.get_experiment_by_name(experiment)
        if info is None:
            raise click.ClickException(
                f"no experiment named {experiment!r}; 'runtrack experiments' lists them"
            )
        ids = [info.id]
    found = ws.store.search_runs(RunQuery(experiment_ids=ids, limit=limit))
    summaries = ws.store.get_summaries([r.id for r in found], list(metrics) or None)
    unknown = [m for m in metrics if found and not any(m in v for v in summaries.values())]
    if unknown:
        raise click.BadParameter(
            f"no listed run has a scalar metric named {', '.join(map(repr, unknown))}; "
            "'runtrack show RUN' lists a run's metrics",
            param_hint="--metric",
        )
    if as_json:
        _echo_json(
            [
                {
                    **r.to_json(),
                    "metrics": {
                        m: (
                            summaries.get(r.id, {}).get(m).last
                            if m in summaries.get(r.id, {})
                            else None
                        )  # type: ignore[union-attr]
                        for m in metrics
                    },
                }
                for r in found
            ]
        )
        return
    rows = []
    for r in found:
        values = summaries.get(r.id, {})
        rows.append(
            [r.id, r.experiment_name, r.number, r.status.value, _duration(r)]
            + [values[m].last if m in values else None for m in metrics]
        )
    columns = ["id", "experiment", "number", "status", "duration", *metrics]
    if as_csv:  # exact values (None: an empty cell)
        _echo_csv(columns, rows)
        return
    _print_table("Runs", columns, [row[:5] + [_fmt(v) for v in row[5:]] for row in rows])


def _echo_csv(columns: list[str], rows: list[list[Any]]) -> None:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    click.echo(out.getvalue(), nl=False)


def _fmt(value: float | None) -> str:
    return format_number(value, empty="")


def _fmt_last(series: SeriesInfo) -> str:
    """The last value of a series: numeric summary, else the last cell (e.g. a string)."""
    if series.last is not None or series.last_value is None:
        return _fmt(series.last)
    return str(series.last_value)


@main.command()
@_URI
@_JSON
@click.argument("run_id")
def show(uri: str | None, as_json: bool, run_id: str) -> None:
    """Show one run: details, tags, properties, metric summaries and files."""
    ws = open_workspace(uri)
    run_id = resolve_run_id(ws.store, run_id)
    info = ws.store.get_run(run_id)
    series = [s for s in ws.store.list_series(run_id) if not s.name.startswith(SYSTEM_PREFIX)]
    files = ws.artifacts.list(run_id)
    if as_json:
        _echo_json(
            {
                "run": info.to_json(),
                "metrics": [s.to_json() for s in series],
                "files": [{"path": f.path, "size": f.size} for f in files],
            }
        )
        return
    from rich.console import Console

    console = Console()
    console.print(f"[bold]{info.id}[/]  ({info.display_name})")
    console.print(
        f"experiment {info.experiment_name} · #{info.number} · {info.status.value} · "
        f"type {info.run_type} · started {_when(info.start_time)} · "
        f"duration {_duration(info)}"
    )
    if info.error:
        console.print(f"[red]error[/] {info.error.code}: {info.error.message}")
    if info.tags:
        console.print(
            "tags: " + ", ".join(f"{k}={v}" if v is not None else k for k, v in info.tags.items())
        )
    if info.properties:
        console.print("properties: " + ", ".join(f"{k}={v}" for k, v in info.properties.items()))
    _print_table(
        "Metrics",
        ["name", "kind", "count", "last", "min", "max"],
        [
            [s.name, s.kind.value, s.count, _fmt_last(s), _fmt(s.minimum), _fmt(s.maximum)]
            for s in series
        ],
    )
    _print_table("Files", ["path", "size"], [[f.path, f.size] for f in files])


@main.command()
@_URI
@_JSON
def sync(uri: str | None, as_json: bool) -> None:
    """Ship leftover metric spools (crashed or offline runs) into the store, exactly once."""
    from rich.progress import Progress

    from runtrack.spool.sync import pending_streams, ship_leftovers, spool_size
    from runtrack.store import open_store

    settings = workspace_settings(uri)  # not a Workspace: its open would recover first
    store = open_store(settings.tracking_uri)
    pending = pending_streams(settings.spool_dir)
    total_bytes = sum(spool_size(settings.spool_dir, r, s) for r, s in pending)
    with Progress(transient=True, disable=as_json or total_bytes < 8 << 20) as progress:
        task = progress.add_task("shipping spools", total=None)

        def advance(run_id: str, stream: str, n: int) -> None:
            progress.update(task, advance=n, description=f"run {run_id}")

        artifacts = _artifacts_for(settings, store)
        report = ship_leftovers(
            store, settings.spool_dir, on_progress=advance, artifacts=artifacts
        )
    from runtrack.runner.target import LocalTarget, reap_orphans

    for info in reap_orphans(store, LocalTarget()):  # submitted runs whose supervisor died
        click.echo(f"run {info.id}: marked {info.status.value}: its supervisor died", err=True)
    if as_json:
        _echo_json([vars(r) for r in report])
        return
    if not report:
        click.echo("nothing to sync: no leftover spools")
    for item in report:
        if item.points < 0:
            click.echo(f"run {item.run_id}: not in the store; spool {item.stream} kept")
            continue
        note = " (run marked Failed: its process died)" if item.marked_failed else (
            f" (run marked {item.settled}, as queued by its process)" if item.settled else ""
        )
        if item.stream:
            click.echo(f"run {item.run_id}: shipped {item.points} points from {item.stream}{note}")
        elif note:
            click.echo(f"run {item.run_id}:{note}")
        for problem in item.problems:
            click.echo(f"run {item.run_id}: {problem}", err=True)


def _artifacts_for(settings: Any, store: Any) -> Any:
    """The workspace's artifact store, as ``Workspace`` wires it (None if it has none)."""
    from runtrack.store import open_artifacts
    from runtrack.store.base import ServesArtifacts

    if settings.artifact_root is not None:
        return open_artifacts(settings.artifact_root)
    return store.artifacts if isinstance(store, ServesArtifacts) else None


def _register_subcommands() -> None:
    """Commands of other areas live in sibling modules (one area per module)."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", []):
            main.add_command(command)


_register_subcommands()
