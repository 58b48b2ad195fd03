"""Two ``runtrack server`` replicas on one PostgreSQL database and one S3 bucket.

Both start at the same moment on an empty database (the schema is made once, under
the advisory lock); clients alternate between them; a run logged through one reads
back through the other; and a replica killed with SIGKILL in the middle of training,
behind a load balancer, loses no point.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runtrack.model import MetricBatch, NewRun, RunStatus
from runtrack.store.rest import RestStore
from runtrack.store.sql.migrations import HEAD
from tests import live_server
from tests.balancer import Balancer
from tests.live_server import LiveServer, start_server
from tests.s3 import moto_s3, s3_root  # noqa: F401  (fixtures)

BATCH = 100


@pytest.fixture
def replicas(
    postgres_url: str, s3_root: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> Iterator[list[LiveServer]]:
    """Two servers started together on a fresh database, sharing one bucket."""
    # two interpreters importing the server at once on a busy 2-core machine
    monkeypatch.setattr(live_server, "STARTUP_TIMEOUT_S", 180.0)
    started: dict[int, LiveServer] = {}
    took: dict[int, float] = {}
    failures: list[BaseException] = []
    barrier = threading.Barrier(2)

    def start(index: int) -> None:
        barrier.wait()
        begin = time.monotonic()
        try:
            started[index] = start_server(
                tmp_path / f"replica{index}", "--backend-store-uri", postgres_url,
                "--artifact-root", s3_root,
            )
            took[index] = time.monotonic() - begin
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    servers = [started[i] for i in sorted(started)]
    try:
        assert failures == [] and len(servers) == 2, (failures, took)
        yield servers
    finally:
        for server in servers:
            server.stop()


def _batch(first: int, count: int, stream: str = "w") -> MetricBatch:
    records = [("loss", "scalar", i, 1_700_000_000.0 + i, i * 0.5)
               for i in range(first, first + count)]
    return MetricBatch(stream, first, records)


def test_replicas_share_one_database_and_bucket(
    replicas: list[LiveServer], postgres_url: str
) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        versions = [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
    engine.dispose()
    assert versions == [HEAD]
    for server in replicas:
        assert "Traceback" not in server.log(), server.log()

    stores = [RestStore(server.url) for server in replicas]
    try:
        exp = stores[0].get_or_create_experiment("replicas")
        assert stores[1].get_or_create_experiment("replicas").id == exp.id

        numbers: list[int] = []
        errors: list[BaseException] = []

        def make_runs(index: int) -> None:
            try:
                for k in range(10):
                    info = stores[index].create_run(NewRun(
                        exp.id, f"rep{index}-{k}", display_name="r", run_type="script",
                        status=RunStatus.RUNNING))
                    numbers.append(info.number)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=make_runs, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        assert sorted(numbers) == list(range(1, 21))

        run_id = "rep0-0"
        total = 40 * BATCH
        for n, first in enumerate(range(0, total, BATCH)):  # batches alternate replicas
            assert stores[n % 2].ingest(run_id, _batch(first, BATCH)) == first + BATCH
        # a batch retried through the other replica (its answer was lost) is not doubled
        assert stores[0].ingest(run_id, _batch(total - BATCH, BATCH)) == total
        for store in stores:
            data = store.read_series(run_id, "loss")
            assert data.steps == list(range(total))
            assert data.values == [i * 0.5 for i in range(total)]

        stores[0].create_run(NewRun(exp.id, "files", display_name="f", run_type="script",
                             status=RunStatus.RUNNING))
        put = httpx.put(f"{replicas[0].api}/runs/files/artifacts/outputs/model.bin",
                        content=b"\x07" * 100_000)
        assert put.status_code == 200, put.text
        got = httpx.get(f"{replicas[1].api}/runs/files/artifacts/outputs/model.bin")
        assert got.status_code == 200 and got.content == b"\x07" * 100_000
    finally:
        for store in stores:
            store.close()


def test_killing_a_replica_mid_training_loses_nothing(
    replicas: list[LiveServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtrack import Experiment, Workspace

    balancer = Balancer([("127.0.0.1", int(s.url.rsplit(":", 1)[1])) for s in replicas])
    monkeypatch.setenv("RUNTRACK_SPOOL_DIR", str(tmp_path / "spool"))
    steps = 20_000
    try:
        ws = Workspace(balancer.url)
        run = Experiment(ws, "failover").start_logging(outputs=False)
        victim = None
        for step in range(steps):
            run.log("loss", step * 0.25, step=step)
            if step == steps // 2:
                time.sleep(0.5)  # let the shipper send part of the points
                # the replica the client's connection goes through now
                victim = max(range(2), key=lambda i: balancer.open[i])
                assert balancer.open[victim] > 0
                os.kill(replicas[victim].process.pid, signal.SIGKILL)
                replicas[victim].process.wait(timeout=30)
                shipped = _count(replicas[1 - victim], run.id)
                assert 0 < shipped <= steps // 2 + 1
            if step % 1000 == 0:
                time.sleep(0.05)  # training takes time; the shipper runs meanwhile
        run.complete()
        ws.close()
    finally:
        balancer.close()
    assert victim is not None
    survivor = RestStore(replicas[1 - victim].url)
    try:
        data = survivor.read_series(run.id, "loss")
        assert data.steps == list(range(steps))
        assert data.values == [s * 0.25 for s in range(steps)]
        assert survivor.get_run(run.id).status == RunStatus.COMPLETED
    finally:
        survivor.close()
    assert balancer.connections[1 - victim] > 0  # the survivor took over


def _count(server: LiveServer, run_id: str) -> int:
    store = RestStore(server.url)
    try:
        return len(store.read_series(run_id, "loss").steps)
    finally:
        store.close()
