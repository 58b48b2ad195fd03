"""Pages that stay live, error boxes and failing-rank logs, run counts (real Chromium)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.ui.conftest import LOG_TEXT, Seeded

OCTETS = {"content-type": "application/octet-stream"}  # appends are binary bodies


def _run(api: str, experiment: str, run_id: str, **extra: Any) -> str:
    exp = httpx.post(f"{api}/experiments", json={"name": experiment}).json()
    body = {"experiment_id": exp["id"], "run_id": run_id, "display_name": run_id,
            "run_type": "interactive", "status": "Running", **extra}
    httpx.post(f"{api}/runs", json=body).raise_for_status()
    return str(exp["id"])


def _log(api: str, run_id: str, seq: int, name: str, values: list[float]) -> None:
    now = time.time()
    records = [[name, "scalar", seq + i, now, v] for i, v in enumerate(values)]
    httpx.post(f"{api}/runs/{run_id}/metrics",
               json={"stream": "t", "first_seq": seq, "records": records}).raise_for_status()


def test_a_run_started_after_the_table_opened_appears(page: Any, seeded: Seeded) -> None:
    api = seeded.server.api
    exp_id = _run(api, "ui-joining", "joining-1", status="Completed")
    page.goto(f"{seeded.server.url}/experiments/{exp_id}")
    assert page.locator("tr[data-run]").count() == 1
    page.locator("tr[data-run='joining-1'] .pick-run").check()
    _run(api, "ui-joining", "joining-2")
    page.wait_for_selector("tr[data-run='joining-2'] .chip[data-status='Running']")
    assert page.locator("tr[data-run]").count() == 2
    assert page.locator("tr[data-run='joining-1'] .pick-run").is_checked()
    assert page.locator(".page-head .count").inner_text().startswith("2")


def test_a_metric_logged_after_the_run_page_opened_appears(page: Any, seeded: Seeded) -> None:
    api = seeded.server.api
    _run(api, "ui-late-metric", "late-metric")
    _log(api, "late-metric", 0, "loss", [3.0, 2.0])
    page.goto(f"{seeded.server.url}/runs/late-metric#metrics")
    stats = page.locator(".chart-card[data-metric='loss'] .stats")
    assert stats.inner_text() == "last 2 · min 2 · max 3"
    _log(api, "late-metric", 2, "loss", [0.5])
    _log(api, "late-metric", 3, "acc", [0.25, 0.75])
    page.wait_for_selector(".chart-card[data-metric='acc'] .chart[data-drawn=uplot] canvas")
    loss_stats = ".chart-card[data-metric='loss'] .stats"
    page.wait_for_function(f"() => document.querySelector(\"{loss_stats}\")"
                           ".textContent === 'last 0.5 · min 0.5 · max 3'")
    assert page.locator(".tabs a[data-tab=metrics] .n").inner_text() == "2"
    httpx.put(f"{api}/runs/late-metric/status", json={"status": "Completed"}).raise_for_status()


def test_a_run_without_metrics_yet_gets_its_first_chart(page: Any, seeded: Seeded) -> None:
    api = seeded.server.api
    _run(api, "ui-late-metric", "no-metrics-yet")
    page.goto(f"{seeded.server.url}/runs/no-metrics-yet#metrics")
    assert page.locator("#no-metrics").is_visible()
    _log(api, "no-metrics-yet", 0, "loss", [1.0, 0.5])
    page.wait_for_selector(".chart-card[data-metric='loss'] .chart[data-drawn=uplot] canvas")
    assert not page.locator("#no-metrics").is_visible()
    httpx.put(f"{api}/runs/no-metrics-yet/status", json={"status": "Completed"}).raise_for_status()


def test_an_interactive_failure_shows_no_empty_exit_code(page: Any, seeded: Seeded) -> None:
    page.goto(f"{seeded.server.url}/runs/{seeded.failed_id}")
    title = page.locator(".error-box .error-title").inner_text()
    assert "exit code" not in title


def test_a_canceled_run_shows_no_empty_exit_code(page: Any, seeded: Seeded) -> None:
    api = seeded.server.api
    _run(api, "ui-errors", "canceled-run")
    httpx.put(f"{api}/runs/canceled-run/status", json={"status": "Canceled", "error": {
        "code": "Canceled", "message": "the run was canceled by request"}}).raise_for_status()
    page.goto(f"{seeded.server.url}/runs/canceled-run")
    assert page.locator(".error-box .error-title").inner_text().strip() == "Canceled"


def test_a_failed_distributed_run_opens_the_failing_ranks_traceback(
    page: Any, seeded: Seeded
) -> None:
    api = seeded.server.api
    _run(api, "ui-errors", "ddp-run")
    files = {"user_logs/std_log_process_00.txt": "rank 0 training\nstep 1\n",
             "user_logs/std_log_process_01.txt": LOG_TEXT + "retrying\n" + LOG_TEXT}
    for path, text in files.items():
        httpx.post(f"{api}/runs/ddp-run/artifacts/{path}", content=text.encode(),
                   headers=OCTETS).raise_for_status()
    httpx.put(f"{api}/runs/ddp-run/status", json={"status": "Failed", "error": {
        "code": "UserError",
        "message": "User program (rank 1) failed with ValueError: bad value 42",
        "type": "ValueError", "exit_code": 1}}).raise_for_status()
    page.goto(f"{seeded.server.url}/runs/ddp-run")
    assert "(exit code 1)" in page.locator(".error-box .error-title").inner_text()
    page.click("a[data-tab=outputs]")
    page.wait_for_selector("#viewer .ln.current-issue")
    assert page.locator("#viewer-path").inner_text() == "user_logs/std_log_process_01.txt"
    current = page.locator("#viewer .ln.current-issue")
    assert current.inner_text().startswith("Traceback")
    number = int(current.get_attribute("data-n") or 0)
    assert number > LOG_TEXT.count("\n") + 1, "the last traceback, not the first"


def test_previous_issue_from_the_top_goes_to_the_last_issue(page: Any, seeded: Seeded) -> None:
    page.goto(f"{seeded.server.url}/runs/{seeded.runs['run-a']}#outputs")
    page.wait_for_selector("#viewer .ln:has-text('after the traceback')")
    page.click("#prev-issue")
    assert page.locator("#viewer .ln.current-issue").inner_text().startswith("Traceback")
    assert page.locator("#issue-count").inner_text() == "2/2"


def test_experiments_page_counts_runs_as_the_experiment_page(page: Any, seeded: Seeded) -> None:
    api = seeded.server.api
    exp_id = _run(api, "ui-family", "family-parent", status="Completed")
    for i in range(3):
        httpx.post(f"{api}/runs", json={
            "experiment_id": exp_id, "run_id": f"family-child-{i}", "display_name": f"child {i}",
            "run_type": "interactive", "status": "Completed", "parent_id": "family-parent",
        }).raise_for_status()
    page.goto(f"{seeded.server.url}/experiments")
    listed = page.locator("table.experiments tr", has_text="ui-family").locator("td.num")
    assert listed.inner_text() == "1"
    page.goto(f"{seeded.server.url}/experiments/{exp_id}")
    assert page.locator(".page-head .count").inner_text().startswith("1 ")


def test_search_in_a_20k_line_log_marks_only_the_matches(page: Any, seeded: Seeded) -> None:
    api = seeded.server.api
    _run(api, "ui-big-log", "big-log", status="Completed")
    lines = [f"step {i} loss {1 / (i + 1):.5f}" for i in range(20_000)]
    for i in (10, 12_345, 19_999):
        lines[i] += " needle"
    httpx.post(f"{api}/runs/big-log/artifacts/logs/train.log", headers=OCTETS,
               content=("\n".join(lines) + "\n").encode()).raise_for_status()
    page.goto(f"{seeded.server.url}/runs/big-log#outputs")
    page.wait_for_selector("#viewer .ln:has-text('step 19999 ')", timeout=60_000)
    page.locator("#log-search").press_sequentially("needle", delay=20)
    page.wait_for_function(
        "() => document.getElementById('search-count').textContent === '3 lines'")
    assert page.locator("#viewer mark").count() == 3
    page.press("#log-search", "Enter")
    assert page.locator("#search-count").inner_text() == "1/3"
    assert "step 10 " in page.locator("#viewer .ln.current-hit").inner_text()
    page.fill("#log-search", "")
    page.wait_for_function("() => document.querySelectorAll('#viewer mark').length === 0")


def test_a_3000_row_table_keyed_by_id_opens_as_a_paged_table(page: Any, seeded: Seeded) -> None:
    from runtrack import Experiment, Workspace

    ws = Workspace(str(seeded.server.workspace))
    try:
        run = Experiment(ws, "ui-tables").start_logging(outputs=False, display_name="preds")
        ids = list(range(3000))
        run.log_table("predictions", {"id": ids, "label": [f"c{i % 7}" for i in ids],
                                      "score": [(i * 37 % 1000) / 1000 for i in ids]})
        run.complete()
        run_id = run.id
    finally:
        ws.close()
    page.goto(f"{seeded.server.url}/runs/{run_id}#metrics")
    card = page.locator(".chart-card[data-metric='predictions']")
    card.locator(".table-info").wait_for()
    assert card.locator(".main-svg").count() == 0  # no lines drawn against ids
    assert card.locator("details.raw").get_attribute("open") is not None
    assert card.locator(".table-info").inner_text() == "rows 1\u201350 of 3,000"
    assert card.locator("tbody tr").count() == 50
    card.locator("th[data-col='score']").click()
    card.locator("th[data-col='score']").click()  # descending
    assert card.locator("tbody tr").first.locator("td").nth(2).inner_text() == "0.999"
    card.locator("button:has-text('Next')").click()
    assert card.locator(".table-info").inner_text() == "rows 51\u2013100 of 3,000"
    card.locator(".table-filter").fill("c3")
    page.wait_for_function("() => document.querySelector(\".chart-card[data-metric='predictions']"
                           " .table-info\").textContent.includes('filtered')")
    assert "of 429 (filtered from 3,000)" in card.locator(".table-info").inner_text()
    assert set(card.locator("tbody td:nth-child(2)").all_inner_texts()) == {"c3"}


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082"
)


def test_images_by_name_with_a_step_slider_caption_and_lightbox(
    page: Any, seeded: Seeded, tmp_path: Any
) -> None:
    from runtrack import Experiment, Workspace

    ws = Workspace(str(seeded.server.workspace))
    try:
        run = Experiment(ws, "ui-images").start_logging(outputs=False, display_name="pics")
        for name in ("epoch-a.png", "epoch-b.png", "epoch-c.png"):
            (tmp_path / name).write_bytes(PNG)
            run.log_image("samples", path=str(tmp_path / name), description="validation samples")
        run.complete()
        run_id = run.id
    finally:
        ws.close()
    page.goto(f"{seeded.server.url}/runs/{run_id}#images")
    cards = page.locator(".image-group")
    assert cards.count() == 1
    card = cards.first
    assert card.locator(".caption").inner_text() == "validation samples"
    assert (card.locator("img").get_attribute("src") or "").endswith("epoch-c.png")
    slider = card.locator(".step-slider input")
    assert slider.get_attribute("max") == "2"
    slider.fill("0")
    assert (card.locator("img").get_attribute("src") or "").endswith("epoch-a.png")
    card.locator("img").click()
    box = page.locator("#lightbox")
    assert box.is_visible()
    assert (box.locator("img").get_attribute("src") or "").endswith("epoch-a.png")
    page.keyboard.press("Escape")
    assert not box.is_visible()
