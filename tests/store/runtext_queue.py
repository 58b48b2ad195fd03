"""Test helper: build the ``run_text`` rows of the queued ended runs on SQLite (revision
``y18_runtext_batches``) the way the store does, by ending runs until the queue fills."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from runtrack.model import NewRun, RunStatus
from runtrack.store.sql import SqlStore
from runtrack.store.sql.runtext import ENDED_BATCH


def queued(store: SqlStore) -> set[str]:
    """The ended runs waiting for their rows."""
    with store.engine.connect() as conn:
        return set(conn.execute(text("SELECT run_id FROM run_text_ended")).scalars())


def fill_the_queue(store: SqlStore) -> None:
    """End runs of the experiment ``filler`` (run type ``filler``) until the queue of
    ended runs is full: the end that fills it builds the rows of every queued run."""
    exp = store.get_or_create_experiment("filler")
    waiting = len(queued(store))
    assert waiting < ENDED_BATCH
    for _ in range(ENDED_BATCH - waiting):
        run = store.create_run(NewRun(exp.id, f"filler-{uuid.uuid4().hex}", display_name="f",
                                      run_type="filler", status=RunStatus.RUNNING))
        store.set_status(run.id, RunStatus.COMPLETED)
    assert queued(store) == set()
