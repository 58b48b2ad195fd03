"""``runtrack server``: run a tracking server (its tokens: :mod:`runtrack.cli.tokens`)."""

from __future__ import annotations

from pathlib import Path

import click


def _settings(
    backend_store_uri: str, artifact_root: str | None, token_file: str | None, **options: object
) -> object:
    from runtrack.server.settings import ServerSettings

    return ServerSettings.for_uri(
        backend_store_uri,
        artifact_root,
        Path(token_file).expanduser().resolve() if token_file else None,
        **options,
    )


_BACKEND = click.option(
    "--backend-store-uri",
    default=".runtrack",
    show_default=True,
    help="Where tracking data lives: a folder (SQLite file inside), sqlite:///file.db or "
    "postgresql://user:pw@host/db.",
)
_TOKEN_FILE = click.option(
    "--token-file",
    default=None,
    help="JSON file holding hashed tokens (default: tokens.json beside the SQLite file; "
    "required with PostgreSQL).",
)


@click.command()
@_BACKEND
@click.option(
    "--artifact-root",
    default=None,
    help="Folder or fsspec URL (s3://bucket/prefix …) for run files. "
    "Default: artifacts/ beside the SQLite file.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to bind.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Worker processes.")
@click.option("--auth/--no-auth", default=False, show_default=True,
              help="Require bearer tokens on every route.")
@_TOKEN_FILE
@click.option("--max-request-bytes", default=64 * 1024 * 1024, show_default=True,
              type=click.IntRange(1024), help="Largest JSON request body (uploads stream).")
@click.option("--log-level", default="warning", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]),
              help="Server log level (info adds an access log).")
def server(
    backend_store_uri: str,
    artifact_root: str | None,
    host: str,
    port: int,
    workers: int,
    auth: bool,
    token_file: str | None,
    max_request_bytes: int,
    log_level: str,
) -> None:
    """Run a tracking server: the /api/v1 API, the web pages and the MLflow routes."""
    from runtrack.errors import ConfigError, StoreUnavailableError
    from runtrack.server.serve import serve
    from runtrack.server.settings import ServerSettings

    try:
        settings = _settings(
            backend_store_uri, artifact_root, token_file,
            host=host, port=port, workers=workers, auth=auth, log_level=log_level,
            max_request_bytes=max_request_bytes,
        )
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    assert isinstance(settings, ServerSettings)
    if not auth and not settings.is_loopback:
        click.secho(
            "\n" + "!" * 78 + f"\nWARNING: serving {host} WITHOUT AUTH: anyone who can reach "
            f"port {port} can read and change every run.\nRestart with --auth (and create "
            "tokens with 'runtrack token create') unless this network is trusted.\n"
            + "!" * 78 + "\n",
            fg="red", bold=True, err=True,
        )
    if auth and not (settings.token_file and settings.token_file.exists()):
        click.secho(
            f"auth is on but {settings.token_file} holds no tokens yet: create one with "
            f"'runtrack token create --token-file {settings.token_file}'",
            fg="yellow", err=True,
        )
    click.echo(f"runtrack server on http://{host}:{port} ({backend_store_uri})", err=True)
    try:
        serve(settings)
    except (ConfigError, StoreUnavailableError) as exc:  # e.g. a damaged database file
        raise click.ClickException(str(exc)) from exc


COMMANDS = [server]
