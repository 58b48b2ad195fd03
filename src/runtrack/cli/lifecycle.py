"""Run lifecycle and disk use: ``delete``, ``archive``, ``restore``, ``gc``, ``du``."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from runtrack.cli._common import URI, open_workspace, resolve_run_id

#: artifact folders that hold a run's captured output (the rest are its files)
LOG_FOLDERS = ("logs/", "user_logs/", "system_logs/")
#: where submitted runs' supervisors keep their working folders (see sdk._submit)
_WORKDIRS = "runtrack_runs"


def _run_tree(store: Any, run_id: str) -> list[str]:
    """``run_id`` and all its descendants."""
    from runtrack.model import RunQuery

    out, todo = [], [run_id]
    while todo:
        current = todo.pop()
        out.append(current)
        todo += [r.id for r in store.search_runs(RunQuery(parent_id=current,
                                                          include_children=True))]
    return out


@click.command()
@URI
@click.argument("runs", nargs=-1, required=True)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def delete(uri: str | None, runs: tuple[str, ...], yes: bool) -> None:
    """Delete runs (with their child runs, metrics and files) for good.

    A run that has not ended is refused: cancel it first."""
    ws = open_workspace(uri)
    store = ws.store
    ids = [resolve_run_id(store, ref) for ref in runs]
    for run_id in ids:
        status = store.get_run(run_id).status
        if not status.is_terminal:
            raise click.ClickException(
                f"run {run_id} is {status.value}: cancel it first (runtrack cancel {run_id})"
            )
    trees = {run_id: _run_tree(store, run_id) for run_id in ids}
    total = sum(len(t) for t in trees.values())
    if not yes:
        click.confirm(f"delete {total} run(s) ({', '.join(ids)}) and their files?", abort=True)
    for run_id, tree in trees.items():
        store.delete_run(run_id)
        for member in tree:
            ws.artifacts.delete_run(member)
        click.echo(f"deleted {run_id}" + (f" and {len(tree) - 1} child run(s)"
                                          if len(tree) > 1 else ""))


def _experiment(ws: Any, name: str) -> Any:
    from runtrack.sdk.experiment import Experiment

    info = ws.store.get_experiment_by_name(name)
    if info is None:
        raise click.ClickException(
            f"no experiment named {name!r}; 'runtrack experiments --all' lists them"
        )
    return Experiment(ws, name)


@click.command()
@URI
@click.argument("experiments", nargs=-1, required=True)
def archive(uri: str | None, experiments: tuple[str, ...]) -> None:
    """Archive experiments: hidden from lists (as Experiment.archive()), nothing deleted."""
    ws = open_workspace(uri)
    for name in experiments:
        _experiment(ws, name).archive()
        click.echo(f"archived {name} (runtrack restore {name} brings it back)")


@click.command()
@URI
@click.argument("experiment")
@click.option("--name", "new_name", default=None, help="Restore it under this new name.")
def restore(uri: str | None, experiment: str, new_name: str | None) -> None:
    """Restore an archived experiment (as Experiment.reactivate())."""
    ws = open_workspace(uri)
    _experiment(ws, experiment).reactivate(new_name)
    click.echo(f"restored {experiment}" + (f" as {new_name}" if new_name else ""))


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


@dataclass(frozen=True)
class Garbage:
    what: str
    path: Path
    size: int


def find_garbage(ws: Any, older_than_days: float, temp_dir: Path | None = None) -> list[Garbage]:
    """What ``gc`` removes: artifact folders of runs the store no longer has, and
    supervisor working folders of ended runs (of unknown runs: once older than
    ``older_than_days``, as they may belong to another workspace)."""
    from runtrack.errors import NotFoundError
    from runtrack.store.artifacts import LocalArtifactStore

    store = ws.store

    def status_of(run_id: str) -> Any:
        try:
            return store.get_run(run_id).status
        except NotFoundError:
            return None

    found: list[Garbage] = []
    artifacts = ws.artifacts
    if isinstance(artifacts, LocalArtifactStore) and artifacts.root.is_dir():
        for folder in sorted(artifacts.root.iterdir()):
            if folder.is_dir() and status_of(folder.name) is None:
                found.append(Garbage("files of a deleted run", folder, _folder_bytes(folder)))
    workdirs = (temp_dir or Path(tempfile.gettempdir())) / _WORKDIRS
    cutoff = time.time() - older_than_days * 86400
    if workdirs.is_dir():
        for folder in sorted(workdirs.iterdir()):
            status = status_of(folder.name)
            ended = status is not None and status.is_terminal
            stale = status is None and folder.stat().st_mtime < cutoff
            if folder.is_dir() and (ended or stale):
                what = "working folder of an ended run" if ended else "old working folder"
                found.append(Garbage(what, folder, _folder_bytes(folder)))
    return found


@click.command()
@URI
@click.option("--dry-run/--apply", default=True, show_default=True,
              help="Only show what would be removed (--apply removes it).")
@click.option("--older-than", default=7.0, show_default=True, type=click.FloatRange(0),
              help="Days after which a working folder of a run unknown here is removed.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def gc(uri: str | None, dry_run: bool, older_than: float, as_json: bool) -> None:
    """Find (and with --apply remove) files nothing refers to: deleted runs' files and
    left-over supervisor working folders in the temp folder."""
    ws = open_workspace(uri)
    garbage = find_garbage(ws, older_than)
    total = sum(g.size for g in garbage)
    if not dry_run:
        for item in garbage:
            shutil.rmtree(item.path, ignore_errors=True)
    if as_json:
        click.echo(json.dumps({"removed": not dry_run, "bytes": total,
                               "items": [{"what": g.what, "path": str(g.path), "bytes": g.size}
                                         for g in garbage]}, indent=2))
        return
    for item in garbage:
        click.echo(f"{_size(item.size):>10}  {item.what}: {item.path}")
    verb = "would free" if dry_run else "freed"
    click.echo(f"{len(garbage)} item(s), {verb} {_size(total)}"
               + (" (run 'runtrack gc --apply' to remove them)" if dry_run and garbage else ""))


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def _metric_bytes(store: Any, run_ids: list[str]) -> dict[str, int]:
    """Bytes of packed metric points per run (SQL workspaces; others report 0)."""
    from runtrack.store.sql import SqlStore

    if not isinstance(store, SqlStore) or not run_ids:
        return {}
    from sqlalchemy import func, select

    from runtrack.store.sql.schema import chunks, series

    size = func.sum(func.length(chunks.c.steps) + func.length(chunks.c.times)
                    + func.length(chunks.c.vals))
    query = (select(series.c.run_id, size).join(chunks, chunks.c.series_id == series.c.id)
             .where(series.c.run_id.in_(run_ids)).group_by(series.c.run_id))
    with store.engine.connect() as conn:
        return {str(r): int(n or 0) for r, n in conn.execute(query)}


@click.command()
@URI
@click.option("--experiment", "-e", default=None, help="Show this experiment's runs one by one.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def du(uri: str | None, experiment: str | None, as_json: bool) -> None:
    """Disk use per experiment (or per run of one experiment): metrics, files, logs."""
    from runtrack.cli import _print_table
    from runtrack.model import RunQuery

    ws = open_workspace(uri)
    store = ws.store
    infos = store.list_experiments(include_archived=True)
    if experiment is not None:
        infos = [i for i in infos if i.name == experiment]
        if not infos:
            raise click.ClickException(f"no experiment named {experiment!r}")
    rows: list[dict[str, Any]] = []
    for info in infos:
        runs = store.search_runs(RunQuery(experiment_ids=[info.id], include_children=True))
        metric = _metric_bytes(store, [r.id for r in runs])
        for run in runs:
            files = ws.artifacts.list(run.id)
            logs = sum(f.size for f in files if f.path.startswith(LOG_FOLDERS))
            rows.append({"experiment": info.name, "run": run.id,
                         "metrics": metric.get(run.id, 0),
                         "artifacts": sum(f.size for f in files) - logs, "logs": logs})
    if experiment is None:
        by_exp: dict[str, dict[str, Any]] = {}
        for row in rows:
            agg = by_exp.setdefault(row["experiment"], {"experiment": row["experiment"],
                                                        "runs": 0, "metrics": 0,
                                                        "artifacts": 0, "logs": 0})
            agg["runs"] += 1
            for key in ("metrics", "artifacts", "logs"):
                agg[key] += row[key]
        for info in infos:
            by_exp.setdefault(info.name, {"experiment": info.name, "runs": 0, "metrics": 0,
                                          "artifacts": 0, "logs": 0})
        rows = sorted(by_exp.values(), key=lambda r: r["experiment"])
    for row in rows:
        row["total"] = row["metrics"] + row["artifacts"] + row["logs"]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    first = "run" if experiment else "experiment"
    columns = [first, *(["runs"] if experiment is None else []),
               "metrics", "artifacts", "logs", "total"]
    _print_table(f"Disk use of {ws.name}" + (f" / {experiment}" if experiment else ""),
                 ["id" if first == "run" else "name", *columns[1:]],
                 [[r[first], *(r[c] if c == "runs" else _size(r[c]) for c in columns[1:])]
                  for r in rows])


COMMANDS = [delete, archive, restore, gc, du]
