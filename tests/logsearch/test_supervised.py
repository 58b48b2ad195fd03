"""Submitted runs end to end: logs indexed as they arrive, errors extracted, hints,
system metrics sampled by the supervisor. Real supervisor and script processes."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from runtrack import Experiment, PyTorchConfiguration, Run, ScriptRunConfig, Workspace
from runtrack.cli import main
from runtrack.logsearch import LogQuery
from runtrack.model import RunStatus
from runtrack.runner.spec import rank_log_paths
from tests.logsearch.supervisor_exit import wait_supervisor_exit

WAIT = 120.0

SCRIPTS = {
    "ranks_fail.py": """
        import os, sys, time, traceback
        rank = int(os.environ["RANK"])
        try:
            raise KeyError("early problem")
        except KeyError:
            traceback.print_exc()
        print("rank", rank, "carries on", flush=True)
        if rank == 1:
            time.sleep(0.3)
            raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")
        time.sleep(30)
    """,
    "tb_ok.py": """
        import traceback
        try:
            {}["missing"]
        except KeyError:
            traceback.print_exc()
        print("recovered and finished")
    """,
    "oomkill.py": "import os, signal; print('allocating', flush=True); "
                  "os.kill(os.getpid(), signal.SIGKILL)",
    "segv.py": "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)",
    "junk.py": """
        import sys, time
        out = sys.stdout.buffer
        out.write(bytes(b for b in range(256) if b != 10) * 4 + b"\\n")
        out.write(b"\\xff\\xfe invalid utf-8 \\xc3\\x28 here\\n")
        out.write(b"x" * (10 << 20) + b" tail-of-huge-line\\n")
        for i in range(5):
            out.write(b"\\x1b[32m" + b"#" * i + b"\\x1b[0m progress %d%%\\r" % (i * 25))
        out.write(b"\\n")
        out.write(b"needle after junk\\n")
        out.flush()
        time.sleep(1.5)
    """,
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("logsearch")
    prefixes = ("RUNTRACK_", "AZUREML_", "MLFLOW_")
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith(prefixes)}
    os.environ["RUNTRACK_SYSTEM_METRICS_INTERVAL"] = "0.3"
    src = root / "src"
    src.mkdir()
    for name, body in SCRIPTS.items():
        (src / name).write_text(textwrap.dedent(body).lstrip())
    ws = Workspace(str(root / "ws"))
    exp = Experiment(ws, "logsearch")
    runs: dict[str, Run] = {
        name: exp.submit(ScriptRunConfig(str(src), f"{name}.py"))
        for name in ("tb_ok", "oomkill", "segv", "junk")
    }
    runs["ranks_fail"] = exp.submit(
        ScriptRunConfig(str(src), "ranks_fail.py",
                        distributed_job_config=PyTorchConfiguration(process_count=2))
    )
    try:
        for run in runs.values():
            run.wait_for_completion(raise_on_error=False, timeout_seconds=WAIT)
        for run in runs.values():  # its log index is complete when its supervisor is gone
            wait_supervisor_exit(run, WAIT)
        yield {"ws": ws, "runs": runs, "root": root}
    finally:
        os.environ.pop("RUNTRACK_SYSTEM_METRICS_INTERVAL", None)
        os.environ.update(saved)


def _error(run: Run) -> dict[str, Any]:
    error: dict[str, Any] = run.get_details()["error"]["error"]
    return error


def test_failing_rank_first_and_last_traceback_and_hint(world: dict[str, Any]) -> None:
    run = world["runs"]["ranks_fail"]
    assert run.get_status() == "Failed"
    error = _error(run)
    assert error["rank"] == 1 and error["type"] == "RuntimeError"
    assert "CUDA out of memory" in error["message"]
    assert "KeyError: 'early problem'" in error["first_traceback"]
    assert "CUDA out of memory" in error["traceback"]
    assert "GPU ran out of memory" in error["hint"]


def test_traceback_printed_but_completed(world: dict[str, Any]) -> None:
    run = world["runs"]["tb_ok"]
    assert run.get_status() == "Completed"
    error = _error(run)
    assert error["code"] == "TracebackInLog" and error["type"] == "KeyError"


@pytest.mark.parametrize(("name", "words"), [("oomkill", "OOM killer"),
                                             ("segv", "segmentation fault")])
def test_signal_hints(world: dict[str, Any], name: str, words: str) -> None:
    run = world["runs"][name]
    assert run.get_status() == "Failed"
    assert words in _error(run)["hint"]


def test_logs_indexed_safely_with_line_numbers(world: dict[str, Any]) -> None:
    ws, run = world["ws"], world["runs"]["junk"]
    hits = ws.store.search_logs(LogQuery("needle after junk", context=1))
    assert [(h.run_id, h.path, h.line_no) for h in hits] == [
        (run.id, "user_logs/std_log.txt", 5)
    ]
    assert hits[0].before == ["#### progress 100%"]
    huge = ws.store.search_logs(LogQuery("invalid utf 8", run_id=run.id, context=1))
    assert len(huge) == 1 and len(huge[0].after[0]) <= 2000
    assert "x" * 100 in huge[0].after[0]


def test_search_filters_and_cli(world: dict[str, Any]) -> None:
    ws, runs = world["ws"], world["runs"]
    failed = ws.store.search_logs(LogQuery("early problem", status=[RunStatus.FAILED]))
    assert {h.run_id for h in failed} == {runs["ranks_fail"].id}
    assert {h.path for h in failed} == set(rank_log_paths(1, 2))  # both ranks printed it
    result = CliRunner().invoke(main, ["logs", "search", "--uri", str(world["root"] / "ws"),
                                       "CUDA out of memory", "--status", "Failed", "--since",
                                       "1d", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found and all(h["run_id"] == runs["ranks_fail"].id for h in found)
    bad = CliRunner().invoke(main, ["logs", "search", "--uri", str(world["root"] / "ws"),
                                    "x", "--since", "yesterday"])
    assert bad.exit_code != 0 and "7d" in bad.output
    bad = CliRunner().invoke(main, ["logs", "search", "--uri", str(world["root"] / "ws"), "!!"])
    assert bad.exit_code != 0 and "no word" in bad.output


def test_system_metrics_from_the_supervisor(world: dict[str, Any]) -> None:
    run = world["runs"]["junk"]
    system = run.get_system_metrics()
    for name in ("sys/rank0/cpu_percent", "sys/rank0/rss_bytes", "sys/rank0/open_files",
                 "sys/node0/memory_used_bytes", "sys/node0/net_recv_bytes"):
        assert name in system, sorted(system)
    rss = system["sys/rank0/rss_bytes"]  # one value or a list (how many: machine load)
    assert min(rss if isinstance(rss, list) else [rss]) > 1 << 20
    assert not any(k.startswith("sys/") for k in run.get_metrics())
    assert not any(k.startswith("sys/") and "gpu" in k for k in system)  # no GPU here
