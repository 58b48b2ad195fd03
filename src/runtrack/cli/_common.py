"""What every CLI command shares: the ``--uri`` option, opening a workspace that must
exist, naming a run by id, unique id prefix or ``latest``, and the one-line error group.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import click

URI = click.option(
    "--uri",
    "uri",
    default=None,
    help="Workspace location (folder, sqlite:///…, postgresql://…, http://host:port). "
    "Default: RUNTRACK_TRACKING_URI, a config file, or ./.runtrack.",
)
_PREFIX_PAGE = 1000


class RuntrackGroup(click.Group):
    """The main group: an error from a command is one line (``Error: …``, exit 1) unless
    ``--debug`` was given, which shows the whole traceback instead."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            from runtrack.errors import RuntrackError

            hint = "" if isinstance(exc, RuntrackError) else " (runtrack --debug … shows where)"
            raise click.ClickException(one_line(exc) + hint) from exc


def one_line(exc: BaseException) -> str:
    """What went wrong, in one line, from the most telling exception of a chain."""
    from runtrack.errors import RuntrackError

    if isinstance(exc, RuntrackError):
        text = exc.message
    elif isinstance(exc, ImportError) and exc.name:
        text = f"a module is missing: {exc.name}; install it (pip install {exc.name})"
    elif isinstance(exc, OSError) and exc.filename:
        text = f"{exc.strerror or type(exc).__name__}: {exc.filename}"
    else:
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return " ".join(text.split())


def open_workspace(uri: str | None, *, must_exist: bool = True) -> Any:
    """The workspace ``uri`` names. A read-only command passes ``must_exist`` so that a
    mistyped folder is refused instead of created."""
    from runtrack.sdk.workspace import Workspace

    return Workspace(_settings=workspace_settings(uri, must_exist=must_exist))


def workspace_settings(uri: str | None, *, must_exist: bool = True) -> Any:
    """The settings of the workspace ``uri`` names, refusing a missing one (see
    :func:`open_workspace`) without opening it (``sync`` must see leftovers before an
    open recovers them)."""
    from runtrack import config
    from runtrack.errors import ConfigError

    settings = config.resolve(uri)
    if must_exist and settings.tracking_uri.startswith("sqlite:///"):
        db = Path(settings.tracking_uri[len("sqlite:///") :])
        if not db.exists():
            raise ConfigError(
                f"no workspace at {db.parent} (looked for {db}; the location came from "
                f"{settings.source}): check --uri or RUNTRACK_TRACKING_URI; a workspace is "
                "created by logging or submitting a run"
            )
    return settings


def resolve_run_id(store: Any, ref: str) -> str:
    """The id of the run ``ref`` names: an id, a unique id prefix, or ``latest`` (the
    newest top-level run)."""
    from runtrack.errors import InvalidValueError, NotFoundError
    from runtrack.model import RunQuery

    hint = "list the runs with 'runtrack runs'"
    if ref == "latest":
        newest = store.search_runs(RunQuery(limit=1))
        if not newest:
            raise NotFoundError(f"the workspace has no runs yet, so no 'latest' run; {hint}")
        return str(newest[0].id)
    try:
        return str(store.get_run(ref).id)
    except NotFoundError:
        pass
    matches: list[str] = []
    offset = 0
    while len(matches) < 2:
        page = store.search_runs(
            RunQuery(include_children=True, limit=_PREFIX_PAGE, offset=offset)
        )
        matches += [r.id for r in page if r.id.startswith(ref)]
        if len(page) < _PREFIX_PAGE:
            break
        offset += _PREFIX_PAGE
    if not matches:
        raise NotFoundError(f"no run with id or id prefix {ref!r}; {hint}")
    if len(matches) > 1:
        raise InvalidValueError(
            f"{ref!r} is the prefix of several runs ({', '.join(matches[:2])}…): give more of "
            "the id"
        )
    return matches[0]


def get_run(uri: str | None, ref: str) -> Any:
    """The SDK ``Run`` that ``ref`` names in the existing workspace ``uri``."""
    from runtrack.sdk.run import Run

    ws = open_workspace(uri)
    return Run.get(ws, resolve_run_id(ws.store, ref))
