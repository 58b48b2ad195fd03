"""The web pages in a real headless Chromium against a real server process.

Every test uses the ``page`` fixture, which fails the test when the page logs a console
error or throws.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import httpx

from tests.ui.conftest import Seeded


def _names(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("#runs-table td.name a").all_inner_texts()]


def test_experiments_page_lists_experiments(page: Any, seeded: Seeded) -> None:
    page.goto(f"{seeded.server.url}/experiments")
    rows = page.locator("table.experiments tbody tr")
    assert rows.count() == 2
    sweep = page.locator("table.experiments tr", has_text="ui-sweep")
    assert sweep.locator("td.num").inner_text() == "4"
    sweep.locator("a").click()
    page.wait_for_url(f"**/experiments/{seeded.experiment_id}")
    assert sorted(_names(page)) == ["run-a", "run-b", "run-c", "run-fails"]


def test_all_runs_page_has_an_experiment_filter(page: Any, seeded: Seeded) -> None:
    page.goto(f"{seeded.server.url}/runs")
    assert "kinds" in _names(page) and "run-a" in _names(page)
    page.select_option("#experiment-filter", label="ui-kinds")
    page.wait_for_url("**/experiments/*")
    assert _names(page) == ["kinds"]


def test_runs_table_sorts_by_a_metric_max(page: Any, seeded: Seeded) -> None:
    url = f"{seeded.server.url}/experiments/{seeded.experiment_id}?col=metric:loss:max"
    page.goto(url)
    header = page.locator("th[data-key='metric:loss:max'] a").first
    header.click()  # first click: descending
    page.wait_for_url("**sort=-metric*")
    assert _names(page) == ["run-b", "run-c", "run-a", "run-fails"]
    cells = page.locator("td.val[data-key='metric:loss:max']").all_inner_texts()
    assert [c.strip() for c in cells] == ["9", "7", "5", "\u2013"]
    page.locator("th[data-key='metric:loss:max'] a").first.click()  # ascending
    page.wait_for_url("**sort=metric*")
    assert _names(page)[:3] == ["run-a", "run-c", "run-b"]
    # the view lives in the URL: reloading it shows the same table
    page.reload()
    assert _names(page)[:3] == ["run-a", "run-c", "run-b"]


def test_runs_table_adds_columns_and_filters(page: Any, seeded: Seeded) -> None:
    page.goto(f"{seeded.server.url}/experiments/{seeded.experiment_id}")
    page.select_option("#add-column", "metric:loss:last")
    page.wait_for_url("**col=metric*")
    assert page.locator("th[data-key='metric:loss:last']").count() == 1
    page.fill("input[name=filter]", "loss:max>6")
    page.click("form.inline button:has-text('Filter')")
    page.wait_for_url("**filter=*")
    assert sorted(_names(page)) == ["run-b", "run-c"]
    page.click("a.toggle:has-text('Failed')")
    page.wait_for_url("**status=Failed*")
    assert page.locator("text=No runs match").count() == 1


def test_compare_chart_draws_the_selected_runs(page: Any, seeded: Seeded) -> None:
    page.goto(f"{seeded.server.url}/experiments/{seeded.experiment_id}?sort=display_name")
    page.locator("tr", has_text="run-a").locator(".pick-run").check()
    page.locator("tr", has_text="run-b").locator(".pick-run").check()
    page.click("#compare-btn")
    chart = page.locator("#compare-chart")
    page.wait_for_function(
        "() => (document.getElementById('compare-chart').data || []).length === 2"
    )
    assert chart.get_attribute("data-traces") == "2"
    assert page.locator("#compare-chart canvas").count() >= 1
    legend = " ".join(page.locator("#compare-chart .chart-legend .item").all_text_contents())
    assert "run-a" in legend and "run-b" in legend
    # the first metric with a series is picked; a second metric on y: a trace per run and metric
    assert page.locator("#metric-picks input:checked").get_attribute("value") == "acc"
    page.locator("#metric-picks input[value='loss']").check()
    page.wait_for_function(
        "() => (document.getElementById('compare-chart').data || []).length === 4"
    )
    page.select_option("#x-axis", "metric:acc")
    page.wait_for_function(
        "() => document.getElementById('compare-chart').uplot?.axes[0].label === 'acc'")


def test_run_page_shows_a_failed_runs_error(page: Any, seeded: Seeded) -> None:
    page.goto(f"{seeded.server.url}/runs/{seeded.failed_id}")
    assert page.locator("#run-status .chip").inner_text() == "Failed"
    box = page.locator(".error-box")
    assert "the data loader broke" in box.inner_text()
    assert "Traceback" in box.locator(".traceback").inner_text()


def test_metrics_tab_draws_every_kind(page: Any, seeded: Seeded) -> None:
    page.goto(f"{seeded.server.url}/runs/{seeded.kinds_id}#metrics")
    page.wait_for_selector(".chart-card[data-metric='curve'] .chart[data-drawn=uplot] canvas")
    for name in ("fib", "wave", "cm", "res"):
        page.wait_for_selector(f".chart-card[data-metric='{name}'] .main-svg")
    assert page.locator(".value-tile[data-metric='single'] .value").inner_text() == "3"
    assert page.locator(".chart-card[data-metric='cm'] .heatmaplayer").count() == 1
    assert "Raw table (5 rows)" in page.locator(".chart-card[data-metric='wave']").inner_text()
    page.click("a[data-tab=images]")
    page.wait_for_selector(".gallery img")
    assert "pic" in page.locator(".gallery figcaption").inner_text()


def test_scalar_charts_draw_without_waiting_for_plotly(page: Any, seeded: Seeded) -> None:
    held: list[Any] = []  # the Plotly request (structured charts), never answered here
    page.route("**/plotly.min.js", lambda route: held.append(route))
    page.goto(f"{seeded.server.url}/runs/{seeded.kinds_id}#metrics", wait_until="commit")
    curve = ".chart-card[data-metric='curve'] .chart"
    page.wait_for_selector(f"{curve}[data-drawn=uplot] canvas")  # a line chart: uPlot
    assert page.evaluate(f"() => document.querySelector(\"{curve}\").data[0].y.length") == 50
    assert held, "the page asked for Plotly.js (for its other charts)"
    assert page.locator(".chart-card[data-metric='cm'] .main-svg").count() == 0
    held[0].continue_()
    page.wait_for_selector(".chart-card[data-metric='cm'] .main-svg")


def test_log_viewer_renders_like_a_terminal(page: Any, seeded: Seeded) -> None:
    page.goto(f"{seeded.server.url}/runs/{seeded.runs['run-a']}#outputs")
    viewer = page.locator("#viewer")
    page.wait_for_selector("#viewer .ln:has-text('after the traceback')")
    lines = viewer.locator(".ln").all_inner_texts()
    assert "100%|##########| 10/10" in lines  # carriage returns overwrote the bar
    assert not any("50%" in line for line in lines)
    red = viewer.locator("span", has_text="red words")
    assert "color" in (red.get_attribute("style") or "")
    assert viewer.locator(".ln.warn").count() == 1
    assert viewer.locator(".ln.err").count() == 4  # the traceback, through its last line
    page.click("#next-issue")
    assert "something looks odd" in viewer.locator(".ln.current-issue").inner_text()
    page.click("#next-issue")
    assert "Traceback" in viewer.locator(".ln.current-issue").inner_text()
    page.fill("#log-search", "bad value")
    page.press("#log-search", "Enter")
    assert viewer.locator("mark").inner_text() == "bad value"
    assert page.locator("#search-count").inner_text() == "1/1"


def test_live_run_status_and_log_lines_appear(page: Any, seeded: Seeded) -> None:
    api = seeded.server.api
    exp = httpx.post(f"{api}/experiments", json={"name": "ui-live"}).json()
    run_id = "ui-live-run"
    httpx.post(f"{api}/runs", json={
        "experiment_id": exp["id"], "run_id": run_id, "display_name": "live",
        "run_type": "interactive", "status": "Running"}).raise_for_status()
    log_url = f"{api}/runs/{run_id}/artifacts/logs/live.txt"
    binary = {"content-type": "application/octet-stream"}
    httpx.post(log_url, content=b"first line\n", headers=binary).raise_for_status()
    page.goto(f"{seeded.server.url}/runs/{run_id}#outputs")
    page.wait_for_selector("#viewer .ln:has-text('first line')")
    httpx.post(log_url, content=b"second \x1b[32mgreen\x1b[0m line\n",
               headers=binary).raise_for_status()
    page.wait_for_selector("#viewer .ln:has-text('second green line')")
    httpx.put(f"{api}/runs/{run_id}/status", json={"status": "Completed"}).raise_for_status()
    page.wait_for_selector("#run-status .chip[data-status='Completed']")


def test_runs_table_status_updates_live(page: Any, seeded: Seeded) -> None:
    api = seeded.server.api
    exp = httpx.post(f"{api}/experiments", json={"name": "ui-live-table"}).json()
    httpx.post(f"{api}/runs", json={
        "experiment_id": exp["id"], "run_id": "ui-live-table-run", "display_name": "busy",
        "run_type": "interactive", "status": "Running"}).raise_for_status()
    page.goto(f"{seeded.server.url}/experiments/{exp['id']}")
    assert page.locator("tr[data-run] .chip").inner_text() == "Running"
    httpx.put(f"{api}/runs/ui-live-table-run/status", json={"status": "Failed"}).raise_for_status()
    page.wait_for_selector("tr[data-run] .chip[data-status='Failed']")


def test_download_all_returns_a_zip_of_the_files(page: Any, seeded: Seeded) -> None:
    page.goto(f"{seeded.server.url}/runs/{seeded.runs['run-b']}#outputs")
    page.wait_for_selector("#viewer .ln")
    with page.expect_download() as info:
        page.click("#download-all")
    data = info.value.path().read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == ["logs/train.log", "outputs/model.txt"]
        assert archive.read("outputs/model.txt") == b"model b\n"
    with page.expect_download() as one:
        page.click("#tree .file[data-path='outputs/model.txt']")
        page.click("#download-one")
    assert one.value.path().read_bytes() == b"model b\n"
