"""``runtrack token create|list|revoke`` against a real ``runtrack server --auth``."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from click.testing import CliRunner

from runtrack.cli import main
from tests.live_server import start_server


def _cli(*args: str) -> str:
    out = CliRunner().invoke(main, ["token", *args])
    assert out.exit_code == 0, out.output
    return out.output


def test_revoke_takes_effect_at_once_on_a_running_server(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    made = json.loads(_cli("create", "--backend-store-uri", str(ws), "--name", "ci", "--json"))
    assert made["name"] == "ci" and made["scope"] == "read-write"
    keep = _cli("create", "--backend-store-uri", str(ws), "--name", "keep").strip()
    server = start_server(tmp_path, "--auth", workspace=ws)
    try:
        health = f"{server.api}/experiments"
        assert httpx.get(health, headers={"Authorization": f"Bearer {made['token']}"}).is_success
        listed = json.loads(_cli("list", "--backend-store-uri", str(ws), "--json"))
        assert {t["name"]: t["scope"] for t in listed} == {"ci": "read-write",
                                                           "keep": "read-write"}
        used = {t["name"]: t["last_used"] for t in listed}
        assert used["ci"] is not None and used["keep"] is None
        assert made["token"] not in json.dumps(listed)
        assert "revoked token" in _cli("revoke", "ci", "--backend-store-uri", str(ws))
        refused = httpx.get(health, headers={"Authorization": f"Bearer {made['token']}"})
        assert refused.status_code == 401
        assert httpx.get(health, headers={"Authorization": f"Bearer {keep}"}).is_success
    finally:
        server.stop()


def test_token_list_table_never_shows_secrets(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    secret = _cli("create", "--backend-store-uri", ws, "--read-only", "--name", "dash").strip()
    table = _cli("list", "--backend-store-uri", ws)
    assert "dash" in table and "read" in table and "never" in table
    assert secret not in table


def test_revoke_unknown_or_ambiguous_names(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    _cli("create", "--backend-store-uri", ws, "--name", "twin")
    _cli("create", "--backend-store-uri", ws, "--name", "twin")
    out = CliRunner().invoke(main, ["token", "revoke", "nope", "--backend-store-uri", ws])
    assert out.exit_code == 1 and "no token named 'nope'" in out.output
    out = CliRunner().invoke(main, ["token", "revoke", "twin", "--backend-store-uri", ws])
    assert out.exit_code == 1 and "revoke one by its id" in out.output
    first = json.loads(_cli("list", "--backend-store-uri", ws, "--json"))[0]["id"]
    _cli("revoke", first, "--backend-store-uri", ws)
    assert len(json.loads(_cli("list", "--backend-store-uri", ws, "--json"))) == 1


def test_create_for_a_postgresql_backend_needs_only_a_token_file(tmp_path: Path) -> None:
    uri = "postgresql://runtrack:secret@db/runtrack"
    out = CliRunner().invoke(main, ["token", "create", "--backend-store-uri", uri])
    assert out.exit_code == 2 and "--token-file" in out.output
    tokens = tmp_path / "tokens.json"
    token = _cli("create", "--backend-store-uri", uri, "--token-file", str(tokens)).strip()
    assert token.startswith("rt_") and tokens.exists()
