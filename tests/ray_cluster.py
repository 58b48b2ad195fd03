"""Real Ray clusters for the Ray compute-target tests.

:func:`start_head` runs ``ray start --head --block`` in a fresh temp dir on loopback
with a small CPU count and the dashboard (the job API lives there);
:func:`start_two_nodes` builds a head plus one more node with
``ray.cluster_utils.Cluster`` (the second node unpacks a job's working_dir in a folder
of its own, like a separate machine). Without Ray, or where it cannot start, the tests skip,
except under ``CI=true`` (CI installs ``runtrack[dev]``, which brings ``ray[default]``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import free_port

START_SECONDS = 240.0


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the Ray tests must run)")
    pytest.skip(reason)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    # the cluster's workers import this checkout's runtrack (as the submitter does)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def _wait_for_jobs(address: str, what: str, alive: Any) -> None:
    from ray.job_submission import JobSubmissionClient

    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            JobSubmissionClient(address).list_jobs()
            return
        except Exception as exc:
            if not alive() or time.monotonic() > deadline:
                unavailable(f"{what} did not start: {exc}")
        time.sleep(1.0)


@contextmanager
def start_head(num_cpus: int = 2) -> Iterator[str]:
    """A one-node cluster; yields its job-submission address."""
    if shutil.which("ray") is None and not _has_ray():
        unavailable("Ray is not installed (pip install 'runtrack[ray]')")
    temp = Path(tempfile.mkdtemp(prefix="rtray", dir="/tmp"))  # short: socket paths
    dashboard = free_port()
    log = open(temp / "head.log", "wb")  # noqa: SIM115 - closed below
    ray = shutil.which("ray") or f"{sys.executable} -m ray.scripts.scripts"
    proc = subprocess.Popen(
        [*ray.split(), "start", "--head", "--block", "--node-ip-address=127.0.0.1",
         f"--port={free_port()}", f"--ray-client-server-port={free_port()}",
         f"--num-cpus={num_cpus}", "--include-dashboard=true",
         "--dashboard-host=127.0.0.1", f"--dashboard-port={dashboard}",
         f"--temp-dir={temp}", "--disable-usage-stats"],
        stdout=log, stderr=subprocess.STDOUT, env=_env(), start_new_session=True,
    )
    address = f"http://127.0.0.1:{dashboard}"
    try:
        _wait_for_jobs(address, "ray start --head", lambda: proc.poll() is None)
        yield address
    finally:
        _stop(proc)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End the head and every process it started (only those: not `ray stop`)."""
    import psutil

    try:
        family = [proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(recursive=True))]
    except psutil.NoSuchProcess:
        family = []
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(psutil.pid_exists(p) for p in family):
            time.sleep(0.2)
    proc.wait(timeout=10)


def _has_ray() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def start_two_nodes() -> Iterator[tuple[str, Any]]:
    """A head and a second node (one CPU each); yields (job address, the Cluster)."""
    if not _has_ray():
        unavailable("Ray is not installed (pip install 'runtrack[ray]')")
    from ray.cluster_utils import Cluster

    saved = dict(os.environ)
    os.environ.update(_env())  # the node processes inherit this environment
    cluster = None
    for attempt in (1, 2):  # Ray gives a raylet 30 s to register; a busy machine may not
        dashboard = free_port()  # a new one: the first try's dashboard may still hold its port
        try:
            cluster = Cluster(
                initialize_head=True,
                head_node_args={
                    "num_cpus": 1, "include_dashboard": True, "dashboard_host": "127.0.0.1",
                    "dashboard_port": dashboard,
                    "ray_client_server_port": free_port(),
                },
            )
            # its own copy of a job's working_dir, as a second machine has (on one
            # machine the nodes would otherwise share the head's folder)
            cluster.add_node(num_cpus=1, runtime_env_dir_name="runtime_resources_node1")
            cluster.wait_for_nodes()
            break
        except Exception as exc:
            if cluster is not None:
                cluster.shutdown()
                cluster = None
            if attempt == 2:
                os.environ.clear()
                os.environ.update(saved)
                unavailable(f"ray.cluster_utils.Cluster did not start: {exc}")
    assert cluster is not None
    address = f"http://127.0.0.1:{dashboard}"
    try:
        _wait_for_jobs(address, "the 2-node cluster", lambda: True)
        yield address, cluster
    finally:
        cluster.shutdown()
        os.environ.clear()
        os.environ.update(saved)
