"""``runtrack sweep status RUN_ID``: a HyperDrive sweep's trials, best first."""

from __future__ import annotations

import json
from typing import Any

import click

from runtrack._format import format_number


@click.group()
def sweep() -> None:
    """HyperDrive sweeps (parent runs of type hyperdrive)."""


@sweep.command("status")
@click.argument("run_id")
@click.option("--uri", default=None, help="Workspace (default: the resolved workspace).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def status(run_id: str, uri: str | None, as_json: bool) -> None:
    """The sweep's status and its trials sorted by the primary metric."""
    from runtrack.errors import RuntrackError
    from runtrack.sdk._sweep import CONFIG_PROPERTY, HyperDriveRun
    from runtrack.sdk.run import Run
    from runtrack.sdk.workspace import Workspace

    try:
        ws = Workspace(uri)
        run = Run.get(ws, run_id)
        sweep_run = HyperDriveRun(run.experiment, run.id)
        config = json.loads(sweep_run.get_properties().get(CONFIG_PROPERTY, "{}"))
        if not config:
            raise click.ClickException(f"run {run_id} is not a sweep (no {CONFIG_PROPERTY})")
        rows = sweep_run.get_children_sorted_by_primary_metric()
    except RuntrackError as exc:
        raise click.ClickException(exc.message) from exc
    payload: dict[str, Any] = {"run_id": run_id, "status": sweep_run.get_status(),
                               "primary_metric": config, "trials": rows}
    if as_json:
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(f"sweep {run_id}: {payload['status']}, {len(rows)} trials, "
               f"{config['goal']} {config['name']}")
    for row in rows:
        value = row["best_primary_metric"]
        shown = format_number(value, empty="-")
        click.echo(f"  {row['status']:<10} {shown:>12}  {row['run_id']}  {row['hyperparameters']}")


COMMANDS = [sweep]
