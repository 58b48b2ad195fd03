"""``runtrack logs search TEXT``, and the ``logs`` group that keeps ``runtrack logs RUN``.

:func:`with_search` wraps the existing ``logs`` command (which prints one run's log)
into a group: ``runtrack logs search …`` runs the search, anything else goes to the
wrapped command as before (``runtrack logs RUN_ID -f``), also reachable as
``runtrack logs show RUN_ID``.
"""

from __future__ import annotations

import json
import time

import click

SHOW = "show"


class _LogsGroup(click.Group):
    """A group whose first argument, when it is not a subcommand, goes to ``show``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [SHOW, *args]
        return super().parse_args(ctx, args)


def with_search(show: click.Command) -> click.Group:
    """The ``logs`` group: ``show`` (the given command, the default) and ``search``."""
    group = _LogsGroup(
        name="logs",
        help=(
            "Print a run's log (runtrack logs RUN_ID [-f] [--rank N]), or search the logs "
            'of every run (runtrack logs search "CUDA out of memory").'
        ),
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    group.add_command(show, SHOW)
    group.add_command(search)
    return group


@click.command()
@click.option("--uri", default=None, help="Workspace location (as for every command).")
@click.argument("text")
@click.option("--experiment", "-e", "experiments", multiple=True,
              help="Only runs of this experiment (name; repeatable).")
@click.option("--since", default=None, help="Only runs created since: 7d, 12h, 30m or a date.")
@click.option("--status", "statuses", multiple=True,
              help="Only runs with this status (Failed, Completed…; repeatable).")
@click.option("--run", "run_id", default=None, help="Only this run.")
@click.option("--limit", default=20, show_default=True, help="At most this many lines.")
@click.option("--context", "-C", default=2, show_default=True,
              help="Lines shown before and after each hit.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def search(
    uri: str | None,
    text: str,
    experiments: tuple[str, ...],
    since: str | None,
    statuses: tuple[str, ...],
    run_id: str | None,
    limit: int,
    context: int,
    as_json: bool,
) -> None:
    """Search the logs of every run for lines holding TEXT's words in that order.

    Case and punctuation are ignored; the newest lines come first, each with its run,
    file, line number and the lines around it."""
    from runtrack.errors import RuntrackError
    from runtrack.logsearch import LogQuery, parse_since
    from runtrack.model import RunStatus
    from runtrack.sdk.workspace import Workspace
    from runtrack.store.base import LogSearchStore

    ws = Workspace(uri)
    store = ws.store
    if not isinstance(store, LogSearchStore):
        raise click.ClickException("this workspace's store has no log search index")
    find = store.search_logs
    try:
        ids = []
        for name in experiments:
            info = store.get_experiment_by_name(name)
            if info is None:
                raise click.ClickException(f"no experiment named {name!r}")
            ids.append(info.id)
        status = [RunStatus(s) for s in statuses] or None
        after = parse_since(since, time.time()) if since else None
        hits = find(LogQuery(text, ids or None, status, after, run_id, limit, context))
    except ValueError as exc:  # a bad status or since, InvalidValueError included
        raise click.ClickException(str(exc)) from exc
    except RuntrackError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps([h.to_json() for h in hits], indent=2))
        return
    if not hits:
        click.echo(f"no log line matches {text!r}", err=True)
        return
    for hit in hits:
        click.secho(
            f"{hit.run_id} ({hit.experiment_name} #{hit.run_number}, {hit.status.value}) "
            f"{hit.path}:{hit.line_no}",
            bold=True,
        )
        first = hit.line_no - len(hit.before)
        for i, line in enumerate(hit.before):
            click.echo(f"  {first + i:>7}  {line}")
        click.secho(f"> {hit.line_no:>7}  {hit.line}", fg="red")
        for i, line in enumerate(hit.after, 1):
            click.echo(f"  {hit.line_no + i:>7}  {line}")
