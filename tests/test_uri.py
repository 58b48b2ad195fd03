"""The one tracking-URI parser (runtrack.config.parse_uri) and its three readers:
the workspace settings, the store registry and the server settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtrack.config import DB_FILE, parse_uri, resolve
from runtrack.errors import ConfigError
from runtrack.server.settings import ServerSettings
from runtrack.store import open_store


def test_each_form(tmp_path: Path) -> None:
    db = (tmp_path / DB_FILE).resolve()
    for given in (str(tmp_path), f"file://{tmp_path}", f"sqlite:///{db}"):
        parsed = parse_uri(given)
        assert (parsed.kind, parsed.database, parsed.folder) == ("sqlite", db, db.parent)
    assert parse_uri(str(tmp_path)).uri == f"sqlite:///{db}"
    assert parse_uri("sqlite://").database is None
    for given in ("postgresql://u@h/db", "postgres://h/db", "postgresql+psycopg://h/db"):
        assert (parse_uri(given).kind, parse_uri(given).uri) == ("postgresql", given)
    assert parse_uri("https://host:5000").kind == "http"


def test_an_unknown_scheme_is_refused_the_same_way_by_every_reader(tmp_path: Path) -> None:
    for read in (parse_uri, open_store, ServerSettings.for_uri, lambda u: resolve(u)):
        with pytest.raises(ConfigError, match=r"unsupported tracking URI 'ftp://x'.*folder path"):
            read("ftp://x")


def test_the_readers_agree_on_a_folder(tmp_path: Path) -> None:
    expected = f"sqlite:///{(tmp_path / DB_FILE).resolve()}"
    assert resolve(str(tmp_path)).tracking_uri == expected
    server = ServerSettings.for_uri(str(tmp_path))
    assert server.backend_store_uri == expected
    assert server.artifact_root == str(tmp_path.resolve() / "artifacts")
    store = open_store(f"file://{tmp_path}")
    store.close()
    assert (tmp_path / DB_FILE).exists()
