"""Concurrent ingests on PostgreSQL: runs do not wait for each other, and the ingests of
one run (a retry racing its original, two replicas) apply each point once.

A separate connection holds a run's row lock, so an ingest of that run is seen blocked
(``pg_stat_activity``) before the test goes on: no timing decides the outcome.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from runtrack.model import MetricBatch, NewRun, RunStatus
from runtrack.store.sql import SqlStore

#: Bound on every wait here (a hang fails the test instead of blocking the suite).
LIVENESS = 60.0


@pytest.fixture
def stores(postgres_url: str) -> Iterator[tuple[SqlStore, SqlStore]]:
    first, second = SqlStore(postgres_url), SqlStore(postgres_url)  # one process, two replicas
    exp = first.get_or_create_experiment("e")
    for run_id in ("a", "b"):
        first.create_run(NewRun(exp.id, run_id, display_name=run_id, run_type="script",
                                status=RunStatus.RUNNING))
    yield first, second
    first.close()
    second.close()


def _batch(first: int, count: int) -> MetricBatch:
    now = time.time()  # points newer than the run's last activity, as in training
    return MetricBatch("s", first, [("m", "scalar", i, now + i, i * 0.5)
                                    for i in range(first, first + count)])


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _lock_waiters(url: str) -> int:
    with psycopg.connect(_psycopg_url(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
    return int(row[0]) if row else 0


def _in_thread(call: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []

    def body() -> None:
        try:
            out.append(call())
        except Exception as exc:  # reported by the test
            out.append(exc)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, out


def _holding_run_lock(url: str, run_id: str) -> psycopg.Connection[tuple[object, ...]]:
    conn = psycopg.connect(_psycopg_url(url))
    conn.execute("SELECT id FROM runs WHERE id = %s FOR UPDATE", (run_id,))
    return conn


def _wait_for_waiters(url: str, count: int) -> None:
    deadline = time.monotonic() + LIVENESS
    while _lock_waiters(url) < count:
        assert time.monotonic() < deadline, f"{count} ingest(s) never waited on the run lock"
        time.sleep(0.05)


def test_an_ingest_does_not_wait_for_an_ingest_of_another_run(
    stores: tuple[SqlStore, SqlStore], postgres_url: str
) -> None:
    store, _ = stores
    holder = _holding_run_lock(postgres_url, "a")
    try:
        blocked, blocked_out = _in_thread(lambda: store.ingest("a", _batch(0, 10)))
        _wait_for_waiters(postgres_url, 1)
        other, other_out = _in_thread(lambda: store.ingest("b", _batch(0, 10)))
        other.join(LIVENESS)  # before: queued behind run a's ingest on a process lock
        assert other_out == [10], "run b's ingest waited for run a's"
        assert blocked.is_alive()
    finally:
        holder.rollback()
        holder.close()
    blocked.join(LIVENESS)
    assert blocked_out == [10]
    assert store.read_series("a", "m").values == [i * 0.5 for i in range(10)]


def test_the_same_batch_from_two_replicas_at_once_is_applied_once(
    stores: tuple[SqlStore, SqlStore], postgres_url: str
) -> None:
    first, second = stores
    batch = _batch(0, 25)
    holder = _holding_run_lock(postgres_url, "a")
    try:  # a retry racing its original, through the other replica
        one, one_out = _in_thread(lambda: first.ingest("a", batch))
        two, two_out = _in_thread(lambda: second.ingest("a", batch))
        _wait_for_waiters(postgres_url, 2)
    finally:
        holder.rollback()
        holder.close()
    one.join(LIVENESS)
    two.join(LIVENESS)
    assert one_out == [25] and two_out == [25], (one_out, two_out)
    assert first.read_series("a", "m").values == [i * 0.5 for i in range(25)]
    assert first.ingest_position("a", "s") == 25
