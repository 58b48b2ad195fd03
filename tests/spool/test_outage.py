"""A server outage at the end of a run (issue #11, items 7 and 8): ``complete()``
queues the final status in the spool, the console output is kept, and recovery
settles everything once the server is back — nothing lost, nothing doubled."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from runtrack import Experiment, Workspace
from runtrack.model import RunStatus
from runtrack.spool.owner import final_path
from tests.live_server import start_server


def test_complete_during_an_outage_is_settled_by_recovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    spool = tmp_path / "spool"
    monkeypatch.setenv("RUNTRACK_SPOOL_DIR", str(spool))
    server = start_server(tmp_path / "server")
    port = int(server.url.rsplit(":", 1)[1])
    ws = Workspace(server.url)
    caplog.set_level(logging.WARNING, "runtrack")
    try:
        with Experiment(ws, "outage").start_logging() as run:  # the tee is on
            for i in range(100):
                run.log("x", float(i), step=i)
            print("line 1 before the outage")
            run.flush()
            run._ending.tee.flush()  # type: ignore[union-attr]
            server.stop()
            for i in range(100, 250):
                run.log("x", float(i), step=i)
            print("line 2 during the outage")
            print("line 3 during the outage")
        # the with block ended normally although the server is down
        assert final_path(spool, run.id).exists()
        assert "queued" in caplog.text
        assert list(spool.glob(f"{run.id}.console-*.log"))
    finally:
        server.stop()
        ws.close()
    again = start_server(tmp_path / "server", workspace=server.workspace, port=port)
    try:
        back = Workspace(server.url)  # opening it recovers the leftovers
        try:
            info = back.store.get_run(run.id)
            assert info.status is RunStatus.COMPLETED
            assert back.store.read_series(run.id, "x").values == [float(i) for i in range(250)]
            with back.artifacts.open(run.id, "logs/user_log.txt") as fh:
                log = fh.read().decode()
            assert log == (
                "line 1 before the outage\nline 2 during the outage\nline 3 during the outage\n"
            )
            assert not list(spool.iterdir())
        finally:
            back.close()
    finally:
        again.stop()
    capsys.readouterr()
