"""``runtrack compute add|list|remove``: the workspace's named compute targets.

``local`` (this machine) always exists; ``add NAME --ray ADDRESS`` names a Ray cluster
by its job-submission address. Scripts then submit there with
``ScriptRunConfig(..., compute_target="NAME")`` or ``runtrack submit --compute NAME``.
"""

from __future__ import annotations

import json

import click

from runtrack.cli._common import URI as _URI
from runtrack.cli._common import open_workspace


@click.group()
def compute() -> None:
    """Name the compute targets runs are submitted to ('local' always exists)."""


@compute.command("add")
@_URI
@click.argument("name")
@click.option("--ray", "ray_address", required=True, metavar="ADDRESS",
              help="The Ray cluster's job-submission address, as 'ray job submit --address' "
              "takes it (e.g. http://127.0.0.1:8265).")
def compute_add(uri: str | None, name: str, ray_address: str) -> None:
    """Add compute target NAME (a Ray cluster) to the workspace."""
    ws = open_workspace(uri, must_exist=False)
    info = ws.store.add_compute_target(name, "ray", ray_address.rstrip("/"))
    click.echo(f"{info.name}: ray at {info.address}")


@compute.command("list")
@_URI
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
def compute_list(uri: str | None, as_json: bool) -> None:
    """List the workspace's compute targets."""
    ws = open_workspace(uri, must_exist=False)
    known = ws.compute_target_infos()
    if as_json:
        click.echo(json.dumps([info.to_json() for info in known.values()]))
        return
    width = max(len(name) for name in known)
    for name, info in known.items():
        where = info.address or "this machine"
        click.echo(f"{name:<{width}}  {info.kind:<5}  {where}")


@compute.command("remove")
@_URI
@click.argument("name")
def compute_remove(uri: str | None, name: str) -> None:
    """Remove compute target NAME from the workspace (runs keep their history)."""
    ws = open_workspace(uri)
    ws.store.remove_compute_target(name)
    click.echo(f"removed compute target {name}")


COMMANDS = [compute]
