"""``runtrack server --artifact-root s3://bucket/prefix`` against a real S3 endpoint
(moto's S3 server on loopback): uploads, streamed downloads, byte ranges, the zip
archive, the MLflow artifact proxy and a 200 MB file with bounded server memory."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from runtrack.model import NewRun, RunStatus
from runtrack.store.rest import RestStore
from tests.live_server import LiveServer, start_server
from tests.mlflow.conftest import require
from tests.s3 import moto_s3, s3_root  # noqa: F401  (fixtures)

RUN = "s3-run"
BIG = 200 << 20
MEMORY_BOUND = 80 << 20  # 8 MiB object-store buffers (s3fs defaults to 50 MiB: ~100 MiB grown)


@pytest.fixture
def server(s3_root: str, tmp_path: Path) -> Iterator[LiveServer]:  # noqa: F811
    live = start_server(tmp_path, "--artifact-root", s3_root)
    store = RestStore(live.url)
    exp = store.get_or_create_experiment("s3")
    store.create_run(NewRun(exp.id, RUN, display_name="s3", run_type="script",
                     status=RunStatus.RUNNING))
    store.close()
    yield live
    live.stop()


def _bucket_keys(s3_root: str) -> dict[str, int]:  # noqa: F811
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    root = s3_root[len("s3://"):]
    return {k[len(root) + 1:]: int(v["size"]) for k, v in fs.find(root, detail=True).items()}


def test_files_live_in_the_bucket_and_come_back(
    server: LiveServer, s3_root: str  # noqa: F811
) -> None:
    files = {"outputs/model.txt": b"weights" * 1000, "logs/a b/std_log.txt": b"line\n" * 50,
             "outputs/empty.bin": b""}
    with httpx.Client(base_url=server.api, timeout=60) as api:
        for path, data in files.items():
            put = api.put(f"/runs/{RUN}/artifacts/{path}", content=data)
            assert put.status_code == 200, put.text
            assert put.json()["size"] == len(data)
        appended = api.post(f"/runs/{RUN}/artifacts/logs/a b/std_log.txt", content=b"more\n",
                            headers={"content-type": "application/octet-stream"})
        assert appended.status_code == 200, appended.text
        assert appended.json()["size"] == 255
        files["logs/a b/std_log.txt"] += b"more\n"

        listed = {a["path"]: a["size"] for a in api.get(f"/runs/{RUN}/artifacts").json()
                  ["artifacts"]}
        assert listed == {p: len(d) for p, d in files.items()}
        with api.stream("GET", f"/runs/{RUN}/artifacts/outputs/model.txt") as down:
            assert down.status_code == 200
            assert b"".join(down.iter_bytes()) == files["outputs/model.txt"]
        ranged = api.get(f"/runs/{RUN}/artifacts/outputs/model.txt",
                         params={"offset": 7, "length": 14})
        assert ranged.content == b"weightsweights"
        assert api.head(f"/runs/{RUN}/artifacts/outputs/nope").status_code == 404
        assert api.get(f"/runs/{RUN}/artifacts/outputs/nope").status_code == 404

        archive = api.get(f"/runs/{RUN}/archive")
        assert archive.status_code == 200, archive.text
        with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
            assert {n: zipped.read(n) for n in zipped.namelist()} == files
        outputs = api.get(f"/runs/{RUN}/archive", params={"prefix": "outputs"})
        with zipfile.ZipFile(io.BytesIO(outputs.content)) as zipped:
            assert sorted(zipped.namelist()) == ["outputs/empty.bin", "outputs/model.txt"]

    in_bucket = _bucket_keys(s3_root)
    assert {k: v for k, v in in_bucket.items()} == {
        f"{RUN}/{p}": len(d) for p, d in files.items()
    }
    assert not (server.workspace / "artifacts").exists()  # nothing on the server's disk


def test_mlflow_client_uses_the_artifact_proxy(
    server: LiveServer, s3_root: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    require("mlflow", "pip install 'runtrack[mlflow]'")
    import mlflow

    for name, value in {"MLFLOW_TRACKING_URI": server.url, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
                        "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
                        "GIT_PYTHON_REFRESH": "quiet"}.items():
        monkeypatch.setenv(name, value)
    mlflow.set_tracking_uri(server.url)
    mlflow.tracking.fluent._active_experiment_id = None  # type: ignore[attr-defined]
    try:
        src = tmp_path / "src"
        (src / "ckpt").mkdir(parents=True)
        (src / "top.txt").write_text("top")
        (src / "ckpt" / "epoch=1.ckpt").write_bytes(b"\x00\x01" * 5000)
        mlflow.set_experiment("s3-mlflow")
        with mlflow.start_run() as run:
            mlflow.log_artifacts(str(src), artifact_path="out")
        run_id = run.info.run_id
        client: Any = mlflow.MlflowClient()
        assert {(f.path, f.is_dir) for f in client.list_artifacts(run_id, "out")} == {
            ("out/top.txt", False), ("out/ckpt", True)}
        target = tmp_path / "down"
        target.mkdir()
        local = Path(client.download_artifacts(run_id, "out", str(target)))
        assert (local / "top.txt").read_text() == "top"
        assert (local / "ckpt" / "epoch=1.ckpt").read_bytes() == b"\x00\x01" * 5000
    finally:
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
    assert _bucket_keys(s3_root)[f"{run_id}/out/ckpt/epoch=1.ckpt"] == 10000


def test_a_200_mb_file_keeps_server_memory_bounded(server: LiveServer) -> None:
    block = os.urandom(1 << 20)
    sent = hashlib.sha256()
    process = psutil.Process(server.process.pid)
    before = process.memory_info().rss
    peak = before

    def body() -> Iterator[bytes]:
        nonlocal peak
        for _ in range(BIG // len(block)):
            sent.update(block)
            peak = max(peak, process.memory_info().rss)
            yield block

    with httpx.Client(base_url=server.api, timeout=300) as api:
        put = api.put(f"/runs/{RUN}/artifacts/outputs/weights.pt", content=body())
        assert put.status_code == 200, put.text
        assert put.json()["size"] == BIG
        peak = max(peak, process.memory_info().rss)

        received = hashlib.sha256()
        with api.stream("GET", f"/runs/{RUN}/artifacts/outputs/weights.pt") as down:
            for chunk in down.iter_bytes(1 << 20):
                received.update(chunk)
                peak = max(peak, process.memory_info().rss)
        assert received.hexdigest() == sent.hexdigest()

        zipped = 0
        with api.stream("GET", f"/runs/{RUN}/archive") as archive:
            for chunk in archive.iter_bytes(1 << 20):
                zipped += len(chunk)
                peak = max(peak, process.memory_info().rss)
        assert zipped > BIG  # stored (.pt), plus the zip headers
    grown = peak - before
    assert grown < MEMORY_BOUND, (
        f"server memory grew by {grown >> 20} MiB for a {BIG >> 20} MiB file on S3"
    )
