"""Commands for submitted runs: ``submit``, ``logs``, ``cancel``, ``download``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from runtrack.cli._common import URI as _URI
from runtrack.cli._common import get_run as _run
from runtrack.cli._logs_search import with_search


def _exit_code(status: str) -> int:
    return {"Completed": 0, "Failed": 1, "Canceled": 2}.get(status, 0)


@click.command(
    context_settings={"ignore_unknown_options": True, "help_option_names": ["-h", "--help"]}
)
@_URI
@click.option("--experiment", "-e", required=True, help="Experiment to submit into.")
@click.option(
    "--source-directory",
    "-s",
    default=None,
    help="Folder to snapshot and run in (default: the script's folder).",
)
@click.option("--nodes", default=1, show_default=True, help="Number of nodes (process groups).")
@click.option(
    "--processes-per-node", default=1, show_default=True, help="Processes on each node."
)
@click.option("--max-run-duration", type=float, default=None, help="Cancel after this many s.")
@click.option("--compute", "compute_target", default=None, metavar="NAME",
              help="Compute target to run on (see 'runtrack compute list'; default: local).")
@click.option(
    "--requirements",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Build a virtual environment from this pip requirements file.",
)
@click.option("--env", "env_vars", multiple=True, help="KEY=VALUE added to the run (repeatable).")
@click.option("--tag", "tags", multiple=True, help="KEY=VALUE tag of the run (repeatable).")
@click.option("--follow", "-f", is_flag=True, help="Stream rank 0's log until the run ends.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the run as JSON (id, experiment, status…) instead of its id.")
@click.argument("script")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def submit(
    uri: str | None,
    experiment: str,
    source_directory: str | None,
    nodes: int,
    processes_per_node: int,
    max_run_duration: float | None,
    compute_target: str | None,
    requirements: str | None,
    env_vars: tuple[str, ...],
    tags: tuple[str, ...],
    follow: bool,
    as_json: bool,
    script: str,
    args: tuple[str, ...],
) -> None:
    """Submit SCRIPT [ARGS...] as a run of an experiment (use -- before script options
    that clash with these). Prints the run id; with --follow streams its log and exits
    0 (Completed), 1 (Failed) or 2 (Canceled)."""
    from runtrack.sdk.environment import Environment
    from runtrack.sdk.experiment import Experiment
    from runtrack.sdk.script_run_config import MpiConfiguration, ScriptRunConfig
    from runtrack.sdk.workspace import Workspace

    path = Path(script)
    where = Path(source_directory or ".") / script if source_directory else path
    if not where.is_file():
        raise click.BadParameter(f"{where} is not a file", param_hint="SCRIPT")
    if source_directory is None:
        source, rel = str(path.parent or "."), path.name
    else:
        source, rel = source_directory, script
    env = (
        Environment.from_pip_requirements("requirements", requirements)
        if requirements
        else Environment()
    )
    distributed = None
    if nodes > 1 or processes_per_node > 1:
        distributed = MpiConfiguration(process_count_per_node=processes_per_node, node_count=nodes)
    config = ScriptRunConfig(
        source,
        rel,
        arguments=list(args),
        environment=env,
        distributed_job_config=distributed,
        max_run_duration_seconds=max_run_duration,
        compute_target=compute_target,
    )
    config.run_config.environment_variables.update(_pairs(env_vars, "--env"))
    ws = Workspace(uri)
    run = Experiment(ws, experiment).submit(config, tags=_pairs(tags, "--tag") or None)
    if as_json:
        import json

        click.echo(json.dumps(ws.store.get_run(run.id).to_json(), default=str))
    else:
        click.echo(run.id)
    if follow:
        info = run.wait_for_completion(show_output=True, raise_on_error=False)
        sys.exit(_exit_code(info["status"]))


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: use KEY=VALUE", param_hint=option)
        out[key] = value
    return out


@click.command()
@_URI
@click.argument("run_id")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new output until the run ends.")
@click.option("--rank", default=0, show_default=True, help="Which process's log to show.")
@click.option(
    "--raw",
    is_flag=True,
    help="Print bytes as stored (carriage returns, colours) even when not on a terminal.",
)
def logs(uri: str | None, run_id: str, follow: bool, rank: int, raw: bool) -> None:
    """Print the stdout/stderr log of one process of a run (rank 0 by default).

    On a terminal the bytes go out as they are, so progress bars and colours look as
    they did; into a file or pipe they are rendered as a terminal would show them."""
    from runtrack.sdk._logview import LogFollower, log_path_for, render_terminal, stream_run

    run = _run(uri, run_id)
    keep = raw or sys.stdout.isatty()
    path = log_path_for(run.experiment.workspace.store.get_run(run.id), rank)
    if follow:
        info = stream_run(run, rank=rank, raw=keep, header=False)
        sys.exit(_exit_code(info.status.value))
    data = LogFollower(run.experiment.workspace.artifacts, run.id, path).read_new(1 << 30)
    if not data:
        if run.type == "script":
            click.echo(f"no output yet in {path} (run is {run.get_status()})", err=True)
        else:
            click.echo(
                f"run {run.id} ({run.type}, {run.get_status()}) has no captured output in "
                f"{path}: only runs used as 'with exp.start_logging() as run:' capture it",
                err=True,
            )
        return
    text = data.decode("utf-8", "replace")
    click.echo(text if keep else render_terminal(text), nl=False, color=keep)


@click.command()
@_URI
@click.argument("run_id")
def cancel(uri: str | None, run_id: str) -> None:
    """Cancel a run: a submitted run's whole process tree is stopped."""
    run = _run(uri, run_id)
    run.cancel()
    click.echo(f"{run.id}: {run.get_status()}")


@click.command()
@_URI
@click.argument("run_id")
@click.option("--prefix", default="", help="Only files under this folder (e.g. logs/).")
@click.option(
    "-o", "--output", "output", default=None, help="Folder to download into (default: RUN_ID)."
)
@click.option("--zip", "zip_file", default=None, help="Write one zip file instead of a folder.")
def download(
    uri: str | None, run_id: str, prefix: str, output: str | None, zip_file: str | None
) -> None:
    """Download a run's files (outputs, logs, snapshot…) into a folder or a zip file."""
    import zipfile

    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    from runtrack.store.base import is_safe_path

    if output is not None and zip_file is not None:
        raise click.UsageError("give either -o/--output or --zip, not both")
    run = _run(uri, run_id)
    listed = run.experiment.workspace.artifacts.list(run.id, prefix.strip("/"))
    files = [f for f in listed if is_safe_path(f.path)]
    for unsafe in (f for f in listed if not is_safe_path(f.path)):
        click.secho(f"skipped {unsafe.path!r}: not a safe relative file name", fg="yellow",
                    err=True)
    if not files:
        raise click.ClickException(f"run {run.id} has no files under {prefix or '/'}")
    total = sum(f.size for f in files)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    archive = zipfile.ZipFile(zip_file, "w", zipfile.ZIP_DEFLATED) if zip_file else None
    base = Path(output or run.id)
    with Progress(*columns, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task("downloading", total=total)
        for info in files:
            progress.update(task, description=info.path)
            with run.experiment.workspace.artifacts.open(run.id, info.path) as src:
                if archive is not None:
                    with archive.open(info.path, "w", force_zip64=True) as dst:
                        _copy(src, dst, lambda n: progress.advance(task, n))
                else:
                    target = base / info.path
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with open(target, "wb") as dst:
                        _copy(src, dst, lambda n: progress.advance(task, n))
    if archive is not None:
        archive.close()
    where = zip_file or str(base)
    click.echo(f"{len(files)} file(s), {total} bytes -> {where}")


def _copy(src: Any, dst: Any, advance: Any) -> None:
    while block := src.read(1 << 20):
        dst.write(block)
        advance(len(block))


COMMANDS = [submit, with_search(logs), cancel, download]
