"""A fresh PostgreSQL database opened by several processes at once is migrated once."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from runtrack.store import open_store
from runtrack.store.sql.migrations import HEAD
from tests.live_server import start_server


def test_simultaneous_opens_migrate_once(postgres_url: str) -> None:
    """Six stores open one empty database at the same moment; none fails."""
    barrier = threading.Barrier(6)
    failures: list[BaseException] = []

    def open_one() -> None:
        barrier.wait()
        try:
            open_store(postgres_url).close()
        except BaseException as exc:  # collected and reported below
            failures.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    store = open_store(postgres_url)
    try:
        from sqlalchemy import text

        with store.engine.connect() as conn:  # type: ignore[attr-defined]
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        assert [v[0] for v in versions] == [HEAD]
    finally:
        store.close()


def test_two_workers_on_a_fresh_database(postgres_url: str, tmp_path: Path) -> None:
    server = start_server(tmp_path, "--backend-store-uri", postgres_url, "--workers", "2",
                          "--artifact-root", str(tmp_path / "artifacts"))
    try:
        with httpx.Client(base_url=server.api, timeout=30) as client:
            for i in range(8):  # new connections: both workers get some
                made = client.post("/experiments", json={"name": f"w{i}"},
                                   headers={"connection": "close"})
                assert made.status_code == 200, made.text
        assert server.process.poll() is None
        log = server.log()
        assert "UniqueViolation" not in log and "Traceback" not in log, log
    finally:
        server.stop()
