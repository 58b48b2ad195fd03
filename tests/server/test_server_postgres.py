"""``runtrack server`` on a PostgreSQL backend, used through RestStore."""

from __future__ import annotations

from pathlib import Path

from runtrack.model import MetricBatch, NewRun, RunStatus
from runtrack.store.rest import RestStore
from tests.live_server import start_server


def test_server_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    server = start_server(tmp_path, "--backend-store-uri", postgres_url,
                          "--artifact-root", str(tmp_path / "artifacts"))
    store = RestStore(server.url)
    try:
        exp = store.get_or_create_experiment("pg")
        store.create_run(NewRun(exp.id, "pg-run", display_name="p", run_type="script",
                         status=RunStatus.RUNNING))
        records = [("m", "scalar", i, float(i), i * 0.5) for i in range(20_000)]
        assert store.ingest("pg-run", MetricBatch("s", 0, records)) == 20_000
        assert store.list_series("pg-run")[0].maximum == 19_999 * 0.5
        store.artifacts.put("pg-run", "outputs/a.txt", b"hello")
        assert (tmp_path / "artifacts" / "pg-run" / "outputs" / "a.txt").read_bytes() == b"hello"
    finally:
        store.close()
        server.stop()


def test_values_postgres_refuses_are_a_400(postgres_url: str, tmp_path: Path) -> None:
    import httpx

    server = start_server(tmp_path, "--backend-store-uri", postgres_url,
                          "--artifact-root", str(tmp_path / "artifacts"))
    try:
        answer = httpx.post(f"{server.api}/experiments", json={"name": "nul\x00name"})
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == "INVALID_VALUE"
        exp_id = httpx.post(f"{server.api}/experiments", json={"name": "e"}).json()["id"]
        store = RestStore(server.url)
        store.create_run(NewRun(exp_id, "r", display_name="r", run_type="script",
                         status=RunStatus.RUNNING))
        store.close()
        answer = httpx.post(f"{server.api}/runs/r/metrics", json={  # the ingest path too
            "stream": "nul\x00stream", "first_seq": 0, "records": [["m", "scalar", 0, 1.0, 1.0]]})
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == "INVALID_VALUE"
        assert "NUL" in answer.json()["error"]["message"]
    finally:
        server.stop()
