"""Named compute targets through the CLI, the Azure classes and submit (no cluster
needed: runs are refused or go to 'local'; the Ray runs are in test_ray_target.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runtrack import Experiment, ScriptRunConfig, Workspace
from runtrack.cli import main
from runtrack.errors import InvalidValueError
from runtrack.runner.ray_target import RayTarget
from runtrack.runner.target import LocalTarget
from runtrack.runner.targets import target_for
from runtrack.sdk.compute import ComputeTarget, ComputeTargetException
from tests.live_server import LiveServer

RAY = "http://127.0.0.1:8265"


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_cli_add_list_remove(tmp_path: Path) -> None:
    uri = str(tmp_path / "ws")
    assert _cli("compute", "add", "gpu", "--ray", RAY + "/", "--uri", uri) == (
        0, f"gpu: ray at {RAY}\n")
    code, out = _cli("compute", "list", "--uri", uri)
    assert code == 0 and out.splitlines() == [
        "local  local  this machine", f"gpu    ray    {RAY}"]
    code, out = _cli("compute", "list", "--json", "--uri", uri)
    assert [(t["name"], t["kind"], t["address"]) for t in json.loads(out)] == [
        ("local", "local", None), ("gpu", "ray", RAY)]
    code, out = _cli("compute", "add", "gpu", "--ray", RAY, "--uri", uri)
    assert code == 1 and "exists already" in out
    code, out = _cli("compute", "add", "x", "--ray", "127.0.0.1:6379", "--uri", uri)
    assert code == 1 and "Ray job-submission address" in out
    assert _cli("compute", "remove", "gpu", "--uri", uri) == (0, "removed compute target gpu\n")
    code, out = _cli("compute", "remove", "gpu", "--uri", uri)
    assert code == 1 and "'gpu' does not exist" in out


def test_azure_classes_read_the_stored_targets(tmp_path: Path) -> None:
    ws = Workspace(str(tmp_path / "ws"))
    ws.store.add_compute_target("cpu-cluster", "ray", RAY)
    assert sorted(ws.compute_targets) == ["cpu-cluster", "local"]
    cluster = ComputeTarget(ws, "cpu-cluster")
    assert (cluster.kind, cluster.address) == ("ray", RAY)
    assert ws.compute_targets["cpu-cluster"].address == RAY
    assert isinstance(target_for("cpu-cluster", ws.compute_target_infos()), RayTarget)
    assert isinstance(target_for(None, ws.compute_target_infos()), LocalTarget)
    cluster.delete()
    assert ws.store.list_compute_targets() == []
    with pytest.raises(ComputeTargetException, match=r"known: local\); add it with"):
        ComputeTarget(ws, "cpu-cluster")
    with pytest.raises(InvalidValueError, match="needs its address"):
        ws.map_compute_target("c", "ray")
    ws.map_compute_target("gpu-box", "local")  # a mapped name: delete() unmaps it
    ComputeTarget(ws, "gpu-box").delete()
    assert sorted(ws.compute_targets) == ["local"]
    assert not ws.unmap_compute_target("gpu-box")
    ws.close()


def test_unknown_name_is_refused_listing_the_names(tmp_path: Path) -> None:
    ws = Workspace(str(tmp_path / "ws"))
    ws.store.add_compute_target("gpu", "ray", RAY)
    (tmp_path / "x.py").write_text("print(1)\n")
    exp = Experiment(ws, "e")
    with pytest.raises(InvalidValueError, match=r"'gpu-2' is not known .*\(known: gpu, local\)"):
        exp.submit(ScriptRunConfig(str(tmp_path), "x.py", compute_target="gpu-2"))
    assert list(exp.get_runs()) == []
    code, out = _cli("submit", "--uri", str(tmp_path / "ws"), "-e", "e", "--compute", "gpu-2",
                     str(tmp_path / "x.py"))
    assert code == 1 and "(known: gpu, local)" in out
    ws.close()


def test_a_server_workspace_keeps_the_targets(live_server: LiveServer) -> None:
    assert _cli("compute", "add", "shared", "--ray", RAY, "--uri", live_server.url)[0] == 0
    other = Workspace(live_server.url)
    assert ComputeTarget(other, "shared").address == RAY
    other.close()
    assert _cli("compute", "remove", "shared", "--uri", live_server.url)[0] == 0


def test_a_ray_run_whose_cluster_is_gone_fails_saying_so(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    from runtrack.model import NewRun, RunStatus
    from runtrack.runner.ray_target import RAY_PROPERTY
    from runtrack.sdk.run import Run
    from tests.live_server import free_port

    ws = Workspace(str(tmp_path / "ws"))
    exp = ws.store.get_or_create_experiment("e")
    gone = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    ws.store.create_run(NewRun(
        exp.id, "r1", display_name="r1", run_type="script", status=RunStatus.RUNNING,
        properties={RAY_PROPERTY: json.dumps({"address": gone, "job_id": "runtrack-r1"})},
    ))
    run = Run.get(ws, "r1")
    assert run.get_status() == "Failed"
    error = run.get_details()["error"]["error"]
    assert error["code"] == "SupervisorDied"
    assert f"the Ray cluster at {gone} cannot be reached" in error["message"]
    ws.close()
