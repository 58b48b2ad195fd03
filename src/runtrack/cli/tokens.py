"""``runtrack token create|list|revoke``: the access tokens of ``runtrack server --auth``.

Tokens live hashed in the server's token file (see :mod:`runtrack.server.auth`); a
running server re-reads it on its next request, so a new or revoked token takes effect
at once.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from runtrack.cli.server import _BACKEND, _TOKEN_FILE


def _token_path(backend_store_uri: str, token_file: str | None) -> Path:
    if token_file:
        return Path(token_file).expanduser().resolve()
    from runtrack.server.settings import ServerSettings

    # the artifact root does not matter here: only where the token file lives
    settings = ServerSettings.for_uri(backend_store_uri, "-", None)
    if settings.token_file is None:
        raise click.UsageError(
            "this backend keeps no tokens.json beside a database file: pass --token-file PATH "
            "(the same file as 'runtrack server --token-file')"
        )
    return settings.token_file


@click.group()
def token() -> None:
    """Manage the server's access tokens (used with 'runtrack server --auth')."""


@token.command("create")
@_BACKEND
@_TOKEN_FILE
@click.option("--read-only", is_flag=True, help="The token may only read.")
@click.option("--name", default="", help="A name to tell tokens apart (and to revoke by).")
@click.option("--json", "as_json", is_flag=True,
              help="Print {id, name, scope, token} as JSON instead of the bare token.")
def token_create(backend_store_uri: str, token_file: str | None, read_only: bool,
                 name: str, as_json: bool) -> None:
    """Create a token, store its hash and print it (it is shown only once)."""
    from runtrack.server.auth import create_token, read_tokens

    path = _token_path(backend_store_uri, token_file)
    secret = create_token(path, name=name, read_only=read_only)
    if not as_json:
        click.echo(secret)
        return
    record = read_tokens(path)[-1]
    click.echo(json.dumps({"id": record.id, "name": record.name,
                           "scope": "read" if read_only else "read-write", "token": secret}))


@token.command("list")
@_BACKEND
@_TOKEN_FILE
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def token_list(backend_store_uri: str, token_file: str | None, as_json: bool) -> None:
    """List tokens: id, name, scope, created, last used (never the secret)."""
    from runtrack.server.auth import read_last_used, read_tokens

    path = _token_path(backend_store_uri, token_file)
    used = read_last_used(path)
    rows = [
        {"id": r.id, "name": r.name, "scope": "read" if r.read_only else "read-write",
         "created": r.created_time, "last_used": used.get(r.id)}
        for r in read_tokens(path)
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"no tokens in {path}; create one with 'runtrack token create'")
        return
    from runtrack.cli import _print_table, _when

    _print_table(
        f"Tokens in {path}", ["id", "name", "scope", "created", "last used"],
        [[r["id"], r["name"], r["scope"], _when(r["created"]),  # type: ignore[arg-type]
          _when(r["last_used"]) or "never"] for r in rows],  # type: ignore[arg-type]
    )


@token.command("revoke")
@_BACKEND
@_TOKEN_FILE
@click.argument("name")
def token_revoke(backend_store_uri: str, token_file: str | None, name: str) -> None:
    """Revoke the token named NAME (or with id NAME); a running server refuses it at once."""
    from runtrack.server.auth import revoke_token

    record = revoke_token(_token_path(backend_store_uri, token_file), name)
    click.echo(f"revoked token {record.id} ({record.name or 'no name'})")


COMMANDS = [token]
