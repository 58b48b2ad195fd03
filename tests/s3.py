"""A real S3 endpoint for tests: moto's S3 server on a loopback port.

``moto_s3`` (session) starts ``python -m moto.server`` on a free 127.0.0.1 port and
yields its endpoint URL. ``s3_root`` (function) creates a fresh bucket there, points
this process and every server it starts at the endpoint through the standard AWS
variables (``AWS_ENDPOINT_URL_S3`` and dummy credentials, the same way a user points
runtrack at MinIO), and yields ``s3://<bucket>/artifacts``. Without moto or s3fs the
tests skip, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live_server import free_port

STARTUP_TIMEOUT_S = 60.0


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: S3 tests must run)")
    pytest.skip(reason)


def s3_env(endpoint: str) -> dict[str, str]:
    """The variables that send botocore (and so s3fs) to ``endpoint`` with test keys."""
    return {
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Endpoint URL of a moto S3 server that lives for the test session."""
    for module, hint in (("moto", "moto[server]"), ("s3fs", "s3fs"), ("flask", "moto[server]")):
        try:
            __import__(module)
        except ImportError:
            _missing(f"{module} is not installed: pip install '{hint}' (or runtrack[dev])")
    port = free_port()
    log_path = Path(tmp_path_factory.mktemp("moto")) / "moto.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out, stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"moto server exited early:\n{log_path.read_text()}")
            try:
                httpx.get(endpoint, timeout=2.0)
                break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto server did not answer:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture
def s3_root(moto_s3: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``s3://<fresh bucket>/artifacts``, with this process's AWS variables aimed at moto."""
    import s3fs

    for name, value in s3_env(moto_s3).items():
        monkeypatch.setenv(name, value)
    bucket = f"rt-{uuid.uuid4().hex[:12]}"
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir(bucket)
    yield f"s3://{bucket}/artifacts"
