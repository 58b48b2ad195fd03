"""The Ray compute target on a real 2-node cluster (``ray.cluster_utils.Cluster``):
ranks spread over the nodes, per-node log folders, every node's ./outputs in the run, a
placement that cannot be satisfied, and a cluster that vanishes."""

from __future__ import annotations

import re
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtrack import Experiment, MpiConfiguration, ScriptRunConfig, Workspace
from runtrack.runner.ray_rank import NODE_ID_ENV
from runtrack.runner.ray_target import PLACEMENT_TIMEOUT_ENV
from tests.ray_cluster import start_two_nodes

WAIT = 240.0

TRAIN = """
    import os, time
    from runtrack import Run
    run = Run.get_context()
    keys = ["RANK", "WORLD_SIZE", "LOCAL_RANK", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT"]
    print("env", " ".join(f"{k}={os.environ.get(k)}" for k in keys), flush=True)
    print("node", os.environ["{node}"], flush=True)
    run.log("rank", int(os.environ.get("RANK", "0")))
    os.makedirs("outputs/by_rank", exist_ok=True)
    with open(f"outputs/by_rank/rank{os.environ.get('RANK', '0')}.txt", "w") as fh:
        fh.write(os.environ["{node}"])
    if os.environ.get("SLOW"):
        print("slow started", flush=True)
        time.sleep(600)
""".replace("{node}", NODE_ID_ENV)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Experiment, Any, Path]]:
    root = tmp_path_factory.mktemp("ray2")
    src = root / "src"
    src.mkdir()
    (src / "train.py").write_text(textwrap.dedent(TRAIN))
    with start_two_nodes() as (address, handle):
        ws = Workspace(str(root / "ws"))
        ws.store.add_compute_target("two", "ray", address)
        yield Experiment(ws, "two"), handle, src
        ws.close()


def _text(run: Any, path: str) -> str:
    with run._artifacts.open(run.id, path) as fh:
        return bytes(fh.read()).decode()


def test_two_nodes_get_one_rank_each_with_node_log_folders(cluster: Any) -> None:
    exp, _, src = cluster
    run = exp.submit(ScriptRunConfig(
        str(src), "train.py", compute_target="two",
        distributed_job_config=MpiConfiguration(process_count_per_node=1, node_count=2)))
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=WAIT)
    assert details["status"] == "Completed", details
    logs = [_text(run, f"user_logs/node_{n:02d}/std_log_process_{n:02d}.txt") for n in (0, 1)]
    for rank, log in enumerate(logs):
        assert f"RANK={rank} WORLD_SIZE=2 LOCAL_RANK=0 NODE_RANK={rank}" in log
    nodes = {line.split()[1] for log in logs for line in log.splitlines()
             if line.startswith("node ")}
    assert len(nodes) == 2  # STRICT_SPREAD: one rank on each node
    metrics = run.get_metrics()
    assert (metrics["rank"], metrics["rank1/rank"]) == (0, 1)
    execution = _text(run, "system_logs/execution.txt")
    assert "2 bundle(s), STRICT_SPREAD" in execution
    # ./outputs of the rank on the second node (its own working_dir copy) reached the run
    outputs = {n: _text(run, f"outputs/by_rank/rank{n}.txt") for n in (0, 1)}
    assert set(outputs.values()) == nodes
    # from the one node that does not share the driver's folder (the driver may sit on
    # the node of either bundle)
    post = _text(run, "system_logs/post.txt")
    copied = re.findall(r"1 file\(s\) from node ([01])'s \./outputs", post)
    assert len(copied) == 1


def test_a_placement_that_cannot_be_satisfied_fails_the_run_after_the_timeout(
    cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp, _, src = cluster
    monkeypatch.setenv(PLACEMENT_TIMEOUT_ENV, "3")
    run = exp.submit(ScriptRunConfig(  # STRICT_SPREAD over 3 nodes; the cluster has 2
        str(src), "train.py", compute_target="two",
        distributed_job_config=MpiConfiguration(process_count_per_node=1, node_count=3)))
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=WAIT)
    assert details["status"] == "Failed", details
    error = details["error"]["error"]
    assert error["code"] == "PlacementTimeout", error
    assert "could not place the run's 3 node(s)" in error["message"]
    assert "the cluster has 2 live node(s)" in error["message"]
    assert PLACEMENT_TIMEOUT_ENV in error["message"]
    assert not any(name.startswith("user_logs/") for name in run.get_file_names())


def test_a_cluster_that_vanishes_fails_the_run_with_the_reason(cluster: Any) -> None:
    exp, handle, src = cluster
    config = ScriptRunConfig(str(src), "train.py", compute_target="two")
    config.run_config.environment_variables["SLOW"] = "1"
    run = exp.submit(config)
    deadline = time.monotonic() + WAIT
    log = "user_logs/std_log.txt"
    while "slow started" not in (_text(run, log) if run._artifacts.exists(run.id, log) else ""):
        assert time.monotonic() < deadline and not run._refresh().status.is_terminal
        time.sleep(0.5)
    handle.shutdown()  # the whole cluster goes away mid-run
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=WAIT)
    assert details["status"] == "Failed"
    message = details["error"]["error"]["message"]
    assert "Ray" in message, message
