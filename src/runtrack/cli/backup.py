"""``runtrack backup`` (a consistent copy of a SQLite workspace) and ``runtrack db``
(schema revision and explicit upgrade)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import click

from runtrack.cli._common import URI

_BACKUP_PAGES = 256  # pages copied per step, so writers are not held up for long


def backup_sqlite(db: Path, artifact_root: Path | None, target: Path) -> tuple[int, int]:
    """Copy the database ``db`` with SQLite's online backup API (consistent even while
    runs log, WAL included) and the artifact folder into the new folder ``target``,
    laid out as a workspace folder. Returns (database bytes, artifact files)."""
    target.mkdir(parents=True)
    copy = target / db.name
    source = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    dest = sqlite3.connect(copy)
    try:
        source.backup(dest, pages=_BACKUP_PAGES)
        dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        dest.close()
        source.close()
    files = 0
    if artifact_root is not None and artifact_root.is_dir():
        shutil.copytree(artifact_root, target / "artifacts", symlinks=True)
        files = sum(1 for p in (target / "artifacts").rglob("*") if p.is_file())
    tokens = db.parent / "tokens.json"
    if tokens.is_file():
        shutil.copy2(tokens, target / "tokens.json")
    return copy.stat().st_size, files


@click.command()
@URI
@click.argument("path", type=click.Path(path_type=Path))
def backup(uri: str | None, path: Path) -> None:
    """Copy a SQLite workspace into the new folder PATH, safely while runs are logging:
    the database through SQLite's online backup API, then its artifact folder (and
    tokens.json). PATH is itself a workspace: 'runtrack runs --uri PATH' reads it."""
    from runtrack import config
    from runtrack.errors import ConfigError

    settings = config.resolve(uri)
    if not settings.tracking_uri.startswith("sqlite:///"):
        raise ConfigError(
            f"runtrack backup copies SQLite workspaces; {settings.tracking_uri.split(':')[0]} "
            "ones are backed up with their own tools (pg_dump for PostgreSQL, the bucket's "
            "versioning or a sync for object storage)"
        )
    db = Path(settings.tracking_uri[len("sqlite:///") :])
    if not db.exists():
        raise ConfigError(f"no workspace at {db.parent} (looked for {db})")
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise click.BadParameter(f"{path} exists and is not empty: give a new folder",
                                 param_hint="PATH")
    if path.exists():
        path.rmdir()
    root = settings.artifact_root
    local_root = Path(root) if root and "://" not in root else None
    size, files = backup_sqlite(db, local_root, path)
    click.echo(f"backed up {db} ({size} bytes) and {files} file(s) to {path}")
    if root and local_root is None:
        click.echo(f"the artifact root {root} is not a local folder: back it up separately",
                   err=True)


@click.group()
def db() -> None:
    """The workspace database's schema: show its revision, upgrade it."""


def _engine(uri: str | None):  # type: ignore[no-untyped-def]
    from runtrack import config
    from runtrack.errors import ConfigError
    from runtrack.store.sql.dialects import Dialect

    settings = config.resolve(uri)
    if settings.is_remote:
        raise ConfigError("a server migrates its own database: run 'runtrack db upgrade' "
                          "on the server with --uri set to its backend store")
    url = settings.tracking_uri
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists():
        raise ConfigError(f"no workspace database at {url[len('sqlite:///'):]}")
    dialect = Dialect(url)
    return dialect, dialect.create_engine()


@db.command("status")
@URI
def db_status(uri: str | None) -> None:
    """Print the database's schema revision and the one this runtrack expects."""
    from runtrack.store.sql.migrations import HEAD, current_revision

    _, engine = _engine(uri)
    with engine.connect() as conn:
        current = current_revision(conn)
    engine.dispose()
    if current == HEAD:
        state = "up to date"
    elif current is not None and not _known(current):
        state = "written by a newer runtrack: upgrade runtrack (pip install -U runtrack)"
    else:
        state = "needs 'runtrack db upgrade' (or opening it with this runtrack)"
    click.echo(f"schema revision {current or 'none (empty database)'}; this runtrack "
               f"expects {HEAD}: {state}")


def _known(revision: str) -> bool:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from runtrack.store.sql.migrations import SCRIPT_LOCATION

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    try:
        return ScriptDirectory.from_config(config).get_revision(revision) is not None
    except CommandError:
        return False


@db.command("upgrade")
@URI
def db_upgrade(uri: str | None) -> None:
    """Upgrade the database to this runtrack's schema (opening a workspace does the same
    automatically; this does it now, e.g. before starting several servers)."""
    from runtrack.store.sql.migrations import HEAD, current_revision, upgrade

    dialect, engine = _engine(uri)
    with engine.connect() as conn:
        before = current_revision(conn)
    upgrade(engine, dialect, HEAD)
    engine.dispose()
    if before == HEAD:
        click.echo(f"already at schema revision {HEAD}")
    else:
        click.echo(f"upgraded schema revision {before or 'none'} -> {HEAD}")


COMMANDS = [backup, db]
