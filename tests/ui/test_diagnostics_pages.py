"""The System tab, the log search page (hits open the log viewer at the line), the
Failures page and the run's error hint, in Chromium against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.live_server import LiveServer, start_server
from tests.ui.browser import missing_reason, require_browser
from tests.ui.diagnostics_seed import seed

World = tuple[LiveServer, dict[str, str]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if missing_reason() is not None:
        require_browser()
    root = tmp_path_factory.mktemp("diagnostics")
    ids = seed(root)
    server = start_server(root, workspace=root / "ws")
    try:
        yield server, ids
    finally:
        server.stop()


def test_system_tab_draws_one_chart_per_quantity(world: World, page: Any) -> None:
    server, ids = world
    page.goto(f"{server.url}/runs/{ids['submitted']}#system")
    page.wait_for_selector("#system-charts .main-svg")
    quantities = page.locator(".system-chart").evaluate_all(
        "nodes => nodes.map(n => n.dataset.quantity)"
    )
    assert {"cpu_percent", "rss_bytes", "open_files", "memory_percent"} <= set(quantities)
    assert len(quantities) == len(set(quantities))
    # both ranks are lines of the same chart
    names = page.locator(".system-chart[data-quantity='rss_bytes']").evaluate(
        "n => n.data.map(t => t.name)"
    )
    assert sorted(names) == ["rank0", "rank1"]


def test_error_box_shows_rank_and_hint(world: World, page: Any) -> None:
    server, ids = world
    page.goto(f"{server.url}/runs/{ids['submitted']}")
    assert "GPU ran out of memory" in page.locator("#error-hint").inner_text()
    assert "rank 1" in page.locator(".error-box").inner_text()


def test_search_hit_opens_the_log_at_its_line(world: World, page: Any) -> None:
    server, _ = world
    page.goto(f"{server.url}/logs/search")
    page.fill("input[name=q]", "CUDA out of memory")
    page.click("form.logsearch-form button[type=submit]")
    # (the newest hit is the supervisor's "run ended: Failed (… CUDA out of memory …)" line)
    link = page.locator(".log-hit a.hit-link", has_text="user_logs/").first
    assert link.inner_text().startswith("user_logs/std_log_process_01.txt:")
    line = int(link.inner_text().rsplit(":", 1)[1])
    link.click()
    page.wait_for_selector(".log-lines .current-hit")
    assert page.locator(".log-lines .current-hit").get_attribute("data-n") == str(line)
    assert "CUDA out of memory" in page.locator(".log-lines .current-hit").inner_text()
    assert page.locator("#viewer-path").inner_text() == "user_logs/std_log_process_01.txt"


def test_failures_page_groups_the_same_error(world: World, page: Any) -> None:
    server, _ = world
    page.goto(f"{server.url}/failures")
    rows = page.locator("#failures-table tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    grouped = [t for t in texts if "learning rate must be below 0.1" in t]
    assert len(grouped) == 1 and grouped[0].split()[0] == "2"
    assert any("RuntimeError" in t and "GPU ran out of memory" in t for t in texts)


def test_runs_table_error_column(world: World, page: Any) -> None:
    server, ids = world
    page.goto(f"{server.url}/runs")
    cell = page.locator(f"tr[data-run='{ids['lr-0.5']}'] td.error-col")
    assert cell.inner_text() == "ValueError: learning rate must be below 0.1"
    printer = page.locator(f"tr[data-run='{ids['printer']}'] td.error-col").inner_text()
    assert printer.startswith("OSError: The run completed but printed 1 traceback")
