"""The sweep page in a real headless Chromium: the parallel-coordinates chart of the
trials' hyperparameters against the primary metric, the trials best first, and why a
stopped trial was stopped; its JSON twin; the run page links to it."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.live_server import LiveServer

TRIALS = [  # (lr, optimizer, accuracy) — the last one stopped by the policy
    (0.1, "adam", [0.70, 0.91]),
    (0.01, "sgd", [0.60, 0.95]),
    (0.5, "adam", [0.30, 0.40]),
]
REASON = "BanditPolicy: primary metric 0.4 at interval 2 is outside the slack of the best 0.95"


def _seed(url: str) -> tuple[str, list[str]]:
    from runtrack import Experiment, Workspace
    from runtrack.model import ErrorInfo, RunStatus
    from runtrack.sdk.run import Run

    ws = Workspace(url)
    try:
        exp = Experiment(ws, "ui-sweep-page")
        config = json.dumps({"name": "accuracy", "goal": "maximize"})
        parent = Run._create(exp, run_type="hyperdrive",
                             properties={"primary_metric_config": config})
        ids = []
        for i, (lr, opt, values) in enumerate(TRIALS):
            trial = Run._create(exp, run_type="child", parent_id=parent.id,
                                display_name=f"trial_{i}", properties={
                                    "hyperparameters": json.dumps({"lr": lr, "optimizer": opt})})
            for value in values:
                trial.log("accuracy", value)
            if i < len(TRIALS) - 1:
                trial.complete()
            else:
                trial.flush()
                trial.add_properties({"runtrack.termination_reason": REASON})
                ws.store.set_status(trial.id, RunStatus.CANCELED, error=ErrorInfo(
                    "EarlyTermination",
                    f"the trial was stopped by the sweep's early termination policy: {REASON}"))
            ids.append(trial.id)
        ws.store.set_status(parent.id, RunStatus.COMPLETED)
        return parent.id, ids
    finally:
        ws.close()


def test_sweep_page_draws_parallel_coordinates(page: Any, live_server: LiveServer) -> None:
    sweep_id, ids = _seed(live_server.url)
    page.goto(f"{live_server.url}/runs/{sweep_id}", wait_until="domcontentloaded")
    link = page.locator("a.sweep-link")
    assert link.get_attribute("href") == f"/sweeps/{sweep_id}"
    # the page is usable before Plotly (4.8 MB, loaded by the page's script) has arrived
    page.goto(f"{live_server.url}/sweeps/{sweep_id}", wait_until="domcontentloaded")
    chart = page.locator("#sweep-parcoords")
    page.wait_for_selector("#sweep-parcoords[data-ready='true']", timeout=90_000)
    assert chart.get_attribute("data-lines") == "3"
    # Plotly drew one axis per hyperparameter plus the primary metric, with their names
    labels = page.evaluate("""() => Array.from(
        document.querySelectorAll('#sweep-parcoords text.axis-title'), t => t.textContent)""")
    assert labels == ["lr", "optimizer", "accuracy"]
    drawn = page.evaluate("""() => {
        const d = document.getElementById('sweep-parcoords').data[0];
        return {type: d.type, dims: d.dimensions.map(x => [x.label, x.values, x.ticktext || null]),
                color: d.line.color};
    }""")
    assert drawn["type"] == "parcoords"
    # best first: trial 1 (0.95), trial 0 (0.91), trial 2 (0.40)
    assert drawn["dims"][0] == ["lr", [0.01, 0.1, 0.5], None]
    assert drawn["dims"][1] == ["optimizer", [0, 1, 1], ["sgd", "adam"]]
    assert drawn["dims"][2] == ["accuracy", [0.95, 0.91, 0.4], None]
    assert drawn["color"] == [0.95, 0.91, 0.4]

    rows = page.locator("#sweep-trials tbody tr")
    assert [rows.nth(i).get_attribute("data-run-id") for i in range(3)] == [ids[1], ids[0], ids[2]]
    stopped = page.locator(f"#sweep-trials tr[data-run-id='{ids[2]}']")
    assert "Canceled" in stopped.inner_text()
    assert "early termination policy: BanditPolicy" in stopped.locator("td.reason").inner_text()
    assert page.locator(f"#sweep-trials tr[data-run-id='{ids[0]}'] td.reason").inner_text() == ""

    twin = httpx.get(f"{live_server.url}/api/v1/views/sweeps/{sweep_id}").json()
    assert twin["primary_metric"] == {"name": "accuracy", "goal": "maximize"}
    assert twin["parameters"] == ["lr", "optimizer"]
    assert [t["id"] for t in twin["trials"]] == [ids[1], ids[0], ids[2]]

    # the stopped trial's own page shows the reason in its error box
    assert stopped.locator("a").get_attribute("href") == f"/runs/{ids[2]}"
    page.goto(f"{live_server.url}/runs/{ids[2]}", wait_until="domcontentloaded")
    box = page.locator(".error-box")
    assert "EarlyTermination" in box.locator(".error-title").inner_text()
    assert REASON in box.locator(".error-message").inner_text()


def test_a_run_that_is_not_a_sweep_has_no_sweep_page(live_server: LiveServer) -> None:
    from runtrack import Experiment, Workspace

    ws = Workspace(live_server.url)
    try:
        run = Experiment(ws, "ui-sweep-page").start_logging(outputs=False)
        run.complete()
    finally:
        ws.close()
    answer = httpx.get(f"{live_server.url}/sweeps/{run.id}")
    assert answer.status_code == 404 and "is not a sweep" in answer.text


def test_page_and_sdk_agree_on_the_sweep_properties() -> None:
    from runtrack.sdk import _sweep
    from runtrack.server.api import _sweep_page

    assert _sweep_page.CONFIG_PROPERTY == _sweep.CONFIG_PROPERTY
    assert _sweep_page.PARAMS_PROPERTY == _sweep.PARAMS_PROPERTY
    assert _sweep_page.REASON_PROPERTY == _sweep.REASON_PROPERTY
