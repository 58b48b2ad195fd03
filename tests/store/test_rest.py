"""The TrackingStore contract against RestStore talking to a real server process.

Each test gets an empty server: a fresh process over a fresh SQLite workspace, forked
from a warm interpreter (``tests/server_forker.py``) so the suite stays quick.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runtrack.store.rest import RestStore
from tests.server_forker import Forker
from tests.store.contract import TrackingStoreContract


@pytest.fixture(scope="session")
def forker() -> Iterator[Forker]:
    forker = Forker()
    yield forker
    forker.close()


@pytest.fixture
def server_url(forker: Forker, tmp_path: Path) -> Iterator[str]:
    url, pid = forker.start(tmp_path / "server-ws")
    yield url
    forker.stop(pid)


@pytest.fixture
def store(server_url: str) -> Iterator[RestStore]:
    rest = RestStore(server_url)
    yield rest
    rest.close()


class TestRestStore(TrackingStoreContract):
    pass
