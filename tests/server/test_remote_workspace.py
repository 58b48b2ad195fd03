"""The SDK against a real server: the logging example unchanged, a server outage during
training, several workers, and the OpenAPI document's summaries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from runtrack import Experiment, Workspace
from tests.live_server import LiveServer, start_server

ROOT = Path(__file__).resolve().parents[2]


def test_logging_example_runs_unchanged_against_a_server(
    live_server: LiveServer, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTRACK_")}
    env["RUNTRACK_TRACKING_URI"] = live_server.url
    env["RUNTRACK_SPOOL_DIR"] = str(tmp_path / "spool")
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "logging_api.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "is Completed" in done.stdout
    assert not (tmp_path / ".runtrack").exists()  # nothing went to a local workspace
    ws = Workspace(live_server.url)
    try:
        runs = Experiment(ws, "logging-api-test").get_runs()
        run = next(iter(runs))
        metrics = run.get_metrics()
        assert metrics["Fibonacci"] == [0, 2, 2, 4, 6, 10, 16, 26, 42, 68, 110, 178]
        assert metrics["Category"] == "Red"
        assert any(f.startswith("logging-api/") for f in run.get_file_names())
    finally:
        ws.close()


def test_training_carries_on_while_the_server_is_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTRACK_SPOOL_DIR", str(tmp_path / "spool"))
    server = start_server(tmp_path)
    port = server.url.rsplit(":", 1)[1]
    ws = Workspace(server.url)
    run = Experiment(ws, "outage").start_logging(outputs=False)
    for i in range(100):
        run.log("loss", float(i), step=i)
    run.flush()
    server.stop()  # the server goes away mid-training
    for i in range(100, 5000):
        run.log("loss", float(i), step=i)  # never raises, never blocks on the network
    again = start_server(tmp_path / "again", port=int(port), workspace=server.workspace)
    try:
        run.complete()
        reader = Workspace(again.url)
        try:
            data = reader.store.read_series(run.id, "loss")
            assert data.values == [float(i) for i in range(5000)]  # nothing lost, no doubles
            assert reader.store.get_run(run.id).status.value == "Completed"
        finally:
            reader.close()
    finally:
        ws.close()
        again.stop()


def test_several_workers_share_one_database(tmp_path: Path) -> None:
    server = start_server(tmp_path, "--workers", "2")
    try:
        with httpx.Client(base_url=server.api) as client:
            ids = {client.post("/experiments", json={"name": f"e{i}"}).json()["id"]
                   for i in range(20)}
            assert len(ids) == 20
            names = [e["name"] for e in client.get("/experiments").json()["experiments"]]
            assert sorted(names) == sorted(f"e{i}" for i in range(20))
    finally:
        server.stop()


def test_every_api_route_has_a_summary(live_server: LiveServer) -> None:
    doc = httpx.get(f"{live_server.api}/openapi.json").json()
    v1 = {p: ops for p, ops in doc["paths"].items() if p.startswith("/api/v1/")}
    assert len(v1) > 15
    missing = [(m, p) for p, ops in v1.items() for m, op in ops.items() if not op.get("summary")]
    assert not missing


def test_submitted_runs_inherit_the_server(
    live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtrack import ScriptRunConfig

    monkeypatch.setenv("RUNTRACK_SPOOL_DIR", str(tmp_path / "spool"))
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text(
        "import os\n"
        "from runtrack import Run\n"
        "run = Run.get_context()\n"
        "for i in range(50):\n"
        "    run.log('loss', 1.0 / (i + 1), step=i)\n"
        "os.makedirs('outputs', exist_ok=True)\n"
        "open('outputs/model.txt', 'w').write('weights')\n"
        "print('uri', os.environ['RUNTRACK_TRACKING_URI'])\n"
    )
    ws = Workspace(live_server.url)
    try:
        run = Experiment(ws, "submitted").submit(
            ScriptRunConfig(source_directory=str(source), script="train.py")
        )
        run.wait_for_completion(timeout_seconds=240)
        with Workspace(live_server.url) as reader:
            info = reader.store.get_run(run.id)
            assert info.status.value == "Completed", info.error
            assert len(reader.store.read_series(run.id, "loss").values) == 50
            files = [a.path for a in reader.artifacts.list(run.id)]
            assert "outputs/model.txt" in files
            logs = httpx.get(f"{live_server.api}/runs/{run.id}/logs").json()["logs"]
            assert logs, files
            paths = {entry["path"]: entry["size"] for entry in logs}
            assert paths["user_logs/std_log.txt"] > 0
            url = f"{live_server.api}/runs/{run.id}/logs/user_logs/std_log.txt"
            head = httpx.get(url, params={"offset": 0, "limit": 4})
            assert head.content == b"uri " and head.headers["X-Runtrack-Next-Offset"] == "4"
            rest = httpx.get(url, params={"offset": 4})
            assert rest.content.startswith(live_server.url.encode())
            end = int(rest.headers["X-Runtrack-Next-Offset"])
            assert end == paths["user_logs/std_log.txt"]
            assert httpx.get(url, params={"offset": end}).content == b""
            refused = httpx.get(f"{live_server.api}/runs/{run.id}/logs/outputs/model.txt")
            assert refused.status_code == 400
    finally:
        ws.close()
