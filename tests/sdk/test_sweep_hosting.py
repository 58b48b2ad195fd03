"""The process hosting a sweep's trials (runtrack.runner.inproc): one watcher polls every
hosted trial's status, the driver hears of a trial's end once its status is final, and
the trials' log index writers keep the process's CPU priority (they share its store's
write lock with every other trial)."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import threading
import time
from pathlib import Path

from runtrack import Experiment, Run, ScriptRunConfig, Workspace
from runtrack.runner.inproc import InProcessTarget
from runtrack.sdk._submit import submit
from runtrack.sdk.hyperdrive import GridParameterSampling, HyperDriveConfig, choice

WAITING = """
    import argparse, os, sys, time
    from runtrack import Run
    parser = argparse.ArgumentParser()
    parser.add_argument("--k", type=int)
    k = parser.parse_args().k
    run = Run.get_context()
    run.log("score", float(k))
    print("trial", k, "started", flush=True)
    if k == 0:  # runs until canceled
        time.sleep(120)
    else:  # runs until the test lets it end
        go = os.path.join(os.environ["BENCH_FOLDER"], "go")
        deadline = time.time() + 120
        while not os.path.exists(go) and time.time() < deadline:
            time.sleep(0.05)
"""


def _source(tmp_path: Path, body: str) -> str:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "train.py").write_text(textwrap.dedent(body))
    return str(folder)


def _wait(predicate, what: str, seconds: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_one_trial_canceled_from_elsewhere_ends_alone(exp: Experiment, tmp_path: Path) -> None:
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(_source(tmp_path, WAITING), "train.py"),
        hyperparameter_sampling=GridParameterSampling({"k": choice(0, 1)}),
        primary_metric_name="score", primary_metric_goal="maximize", max_concurrent_runs=2,
    )
    config.run_config.run_config.environment_variables["BENCH_FOLDER"] = str(tmp_path)
    sweep = exp.submit(config)

    def started() -> bool:
        children = list(sweep.get_children())
        return len(children) == 2 and all("score" in c.get_metrics() for c in children)

    _wait(started, "both trials to log")
    by_k = {json.loads(c.get_properties()["hyperparameters"])["k"]: c
            for c in sweep.get_children()}
    if sys.platform.startswith("linux"):
        # the index writers of the hosted trials run at the process's own priority
        own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        writers = [t for t in threading.enumerate()
                   if t.name.startswith("runtrack-logindex-write-") and t.native_id]
        assert {t.name.rsplit("-", 1)[-1] for t in writers} >= {c.id for c in by_k.values()}
        for t in writers:
            assert t.native_id is not None
            assert os.getpriority(os.PRIO_PROCESS, t.native_id) == own, t.name

    # another process's workspace asks for the cancel: the status is all it can change
    other = Workspace(str(tmp_path / "ws"))
    try:
        Run(Experiment(other, exp.name), by_k[0].id).cancel()
    finally:
        other.close()
    by_k[0].wait_for_completion(raise_on_error=False, timeout_seconds=120)
    assert by_k[0].get_status() == "Canceled"
    assert by_k[1].get_status() == "Running"  # the other trial goes on
    (tmp_path / "go").touch()
    sweep.wait_for_completion(raise_on_error=False, timeout_seconds=120)
    assert sweep.get_status() == "Completed"
    assert by_k[1].get_status() == "Completed"


def test_the_host_hears_of_each_end_once_its_status_is_final(exp: Experiment,
                                                            tmp_path: Path) -> None:
    ws = exp.workspace
    heard: list[tuple[str, str]] = []

    def on_end(run_id: str) -> None:
        heard.append((run_id, ws.store.get_run(run_id).status.value))

    target = InProcessTarget(ws.store, ws.artifacts, on_end=on_end)
    source = _source(tmp_path, """
        import sys
        print("hello")
        sys.exit(int(sys.argv[1]))
    """)
    ok, failing = (submit(exp, ScriptRunConfig(source, "train.py", arguments=[code]),
                          target=target) for code in ("0", "3"))
    target.join(120)
    assert sorted(heard) == sorted([(ok.id, "Completed"), (failing.id, "Failed")])
    assert "user_logs/std_log.txt" in ok.get_file_names()
