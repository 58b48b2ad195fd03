"""The TrackingStore contract against RestStore talking to the server.

``TestRestStore`` runs the whole contract against the server app in this process
(``tests/inprocess.py``: real routes, middleware and wire format, no socket), each test
on a fresh workspace. ``TestRestStoreLive`` runs a part of it against real server
processes on real sockets, forked from a warm interpreter (``tests/server_forker.py``)
so the suite stays quick.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runtrack.store.rest import RestStore
from tests.inprocess import InProcessServer
from tests.server_forker import Forker
from tests.store.contract import TrackingStoreContract


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RestStore]:
    server = InProcessServer(tmp_path / "server-ws")
    yield server.store()
    server.close()


class TestRestStore(TrackingStoreContract):
    pass


@pytest.fixture(scope="session")
def forker() -> Iterator[Forker]:
    forker = Forker()
    yield forker
    forker.close()


@pytest.fixture
def live_store(forker: Forker, tmp_path: Path) -> Iterator[RestStore]:
    url, pid = forker.start(tmp_path / "server-ws")
    rest = RestStore(url)
    yield rest
    rest.close()
    forker.stop(pid)


class TestRestStoreLive:
    """Contract tests that cover runs, ingest, reads and error mapping over a socket."""

    @pytest.mark.parametrize("name", [
        "test_create_run_fields_and_numbering",
        "test_create_run_errors",
        "test_run_numbers_are_unique_under_concurrency",
        "test_set_status_lifecycle",
        "test_ingest_positions_and_retries",
        "test_values_round_trip_with_exact_types",
        "test_search_filters",
    ])
    def test_contract_over_a_socket(self, live_store: RestStore, name: str) -> None:
        getattr(TestRestStore(), name)(live_store)
