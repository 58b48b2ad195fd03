"""A workspace for the System tab, log search and Failures pages (tests and screenshots).

A submitted two-process run whose rank 1 dies of CUDA out-of-memory (system metrics
sampled every 0.3 s), two interactive runs failing with the same error, and one
interactive run that prints a traceback and carries on. ``python -m
tests.ui.diagnostics_seed OUTDIR`` also writes the docs' screenshots into OUTDIR.
"""

from __future__ import annotations

import os
import sys
import textwrap
import traceback
from pathlib import Path

from tests.live_server import LiveServer, start_server

TRAIN = """
    import os, time
    rank = int(os.environ["RANK"])
    for step in range(8):
        print(f"rank {rank} step {step} loss {1 / (step + 1):.4f}", flush=True)
        x = [0.0] * (200_000 * (step + 1))
        time.sleep(0.25)
    if rank == 1:
        raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB (GPU 1; "
                           "79.15 GiB total capacity)")
    time.sleep(20)
"""


def seed(root: Path) -> dict[str, str]:
    from runtrack import Experiment, PyTorchConfiguration, ScriptRunConfig, Workspace
    from tests.logsearch.supervisor_exit import wait_supervisor_exit

    ids: dict[str, str] = {}
    saved = os.environ.get("RUNTRACK_SYSTEM_METRICS_INTERVAL")
    os.environ["RUNTRACK_SYSTEM_METRICS_INTERVAL"] = "0.3"
    ws = Workspace(str(root / "ws"))
    try:
        src = root / "src"
        src.mkdir(parents=True, exist_ok=True)
        (src / "train.py").write_text(textwrap.dedent(TRAIN).lstrip())
        exp = Experiment(ws, "gpu-train")
        run = exp.submit(ScriptRunConfig(
            str(src), "train.py", distributed_job_config=PyTorchConfiguration(process_count=2)
        ))
        for name in ("lr-0.5", "lr-0.9"):
            try:
                with exp.start_logging(outputs=False, display_name=name) as failing:
                    print("loading data")
                    raise ValueError("learning rate must be below 0.1")
            except ValueError:
                ids[name] = failing.id
        with exp.start_logging(outputs=False, display_name="flaky-io") as printer:
            print("epoch 1")
            try:
                raise OSError("disk quota exceeded on /scratch")
            except OSError:
                traceback.print_exc()
            print("epoch 2 after retry")
        ids["printer"] = printer.id
        run.wait_for_completion(raise_on_error=False, timeout_seconds=120)
        wait_supervisor_exit(run)  # then its log lines are all searchable
        ids["submitted"] = run.id
    finally:
        ws.close()
        if saved is None:
            os.environ.pop("RUNTRACK_SYSTEM_METRICS_INTERVAL", None)
        else:
            os.environ["RUNTRACK_SYSTEM_METRICS_INTERVAL"] = saved
    return ids


def screenshots(server: LiveServer, ids: dict[str, str], out: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.ui.browser import launch

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 860}, device_scale_factor=1)
        page.goto(f"{server.url}/runs/{ids['submitted']}#system")
        page.wait_for_selector("#system-charts .main-svg", timeout=20000)
        page.wait_for_timeout(800)
        page.screenshot(path=str(out / "run-system.png"), full_page=True)
        page.goto(f"{server.url}/runs/{ids['submitted']}#overview")
        page.screenshot(path=str(out / "run-error-hint.png"))
        page.goto(f"{server.url}/logs/search?q=CUDA+out+of+memory")
        page.screenshot(path=str(out / "log-search.png"))
        page.goto(f"{server.url}/failures")
        page.screenshot(path=str(out / "failures.png"))
        browser.close()


def main(out: Path) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ids = seed(root)
        server = start_server(root, workspace=root / "ws")
        try:
            screenshots(server, ids, out)
        finally:
            server.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
