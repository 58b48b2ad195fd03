"""``runtrack ui`` and ``runtrack demo``: the web pages over a local workspace."""

from __future__ import annotations

import socket
from pathlib import Path

import click

DEFAULT_PORT = 5050
_PORT_TRIES = 20


def _free_port(host: str, wanted: int) -> int:
    """``wanted`` if it can be bound, else the next free port after it (0: any)."""
    for port in ([0] if wanted == 0 else range(wanted, wanted + _PORT_TRIES)):
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise click.ClickException(
        f"ports {wanted}-{wanted + _PORT_TRIES - 1} on {host} are all taken: pass --port"
    )


def _serve_workspace(uri: str | None, host: str, port: int) -> None:
    from runtrack import config
    from runtrack.errors import ConfigError
    from runtrack.server.serve import serve
    from runtrack.server.settings import ServerSettings

    try:
        resolved = config.resolve(uri)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if resolved.is_remote or resolved.artifact_root is None:
        raise click.ClickException(
            f"{resolved.tracking_uri} is a runtrack server already: open it in a browser"
        )
    port = _free_port(host, port)
    settings = ServerSettings(resolved.tracking_uri, resolved.artifact_root, host=host, port=port)
    click.echo(f"runtrack UI for {resolved.tracking_uri}")
    click.echo(f"  open http://{host}:{port}/   (Ctrl+C to stop)")
    marker = config.write_ui_marker(resolved, f"http://{host}:{port}")
    try:
        serve(settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if marker is not None:
            marker.unlink(missing_ok=True)


_HOST = click.option("--host", default="127.0.0.1", show_default=True,
                     help="Address to bind (the UI has no auth: keep it on loopback).")
_PORT = click.option("--port", default=DEFAULT_PORT, show_default=True, type=int,
                     help="Port to bind; the next free one is used if it is taken (0: any).")


@click.command()
@click.option("--uri", default=None,
              help="Workspace folder or sqlite:///… / postgresql://… URI. Default: "
              "RUNTRACK_TRACKING_URI, a config file, or ./.runtrack.")
@_HOST
@_PORT
def ui(uri: str | None, host: str, port: int) -> None:
    """Serve the web UI (experiments, runs, charts, logs) over a local workspace."""
    _serve_workspace(uri, host, port)


@click.command()
@click.option("--dir", "folder", default="runtrack-demo", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Workspace folder to fill (created if missing; runs are added).")
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="Serve the UI over the demo workspace afterwards.")
@click.option("--wait/--no-wait", default=None,
              help="Wait for the submitted sweep to finish (default: only with --no-serve).")
@_HOST
@_PORT
def demo(folder: Path, serve: bool, wait: bool | None, host: str, port: int) -> None:
    """Fill a demo workspace (every metric kind; an alpha sweep with one failed run) and
    serve the UI over it."""
    from runtrack.cli import _demo

    folder = folder.expanduser().resolve()
    click.echo(f"filling demo workspace {folder} …")
    made = _demo.fill(folder, wait=not serve if wait is None else wait)
    for experiment, ids in made.items():
        click.echo(f"  {experiment}: {len(ids)} run(s)")
    if serve:
        click.echo("the sweep's runs keep training for a few seconds: watch them live")
        _serve_workspace(str(folder), host, port)


COMMANDS = [ui, demo]
