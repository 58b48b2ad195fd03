"""Archiving runs (runs table and run page, read-only tokens get no action) and selecting
every run matching the filter across pages, in real Chromium against a real server."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from click.testing import CliRunner

from tests.live_server import LiveServer, start_server
from tests.ui.browser import require_browser

LOADED = 60_000
N_RUNS = 105  # three pages of 50, and more runs than one chart request takes (100)
ARCHIVED = "runtrack.archived"


def fill(folder: Path) -> str:
    from runtrack.model import MetricBatch, NewRun, RunStatus
    from runtrack.store import open_store

    store = open_store(f"sqlite:///{folder / 'runtrack.db'}")
    try:
        exp = store.get_or_create_experiment("many")
        now = time.time()
        for i in range(N_RUNS):
            run_id = f"s{i:03d}"
            store.create_run(NewRun(exp.id, run_id, display_name=f"run-{i:03d}",
                                    run_type="interactive", status=RunStatus.COMPLETED,
                                    tags={"opt": "adam" if i % 3 == 0 else "sgd"}))
            records: list[Any] = [("loss", "scalar", s, now + s, (i + 1) / (1 + s))
                                  for s in range(5)]
            store.ingest(run_id, MetricBatch("main", 0, records))
        return exp.id
    finally:
        store.close()


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    require_browser()
    tmp = tmp_path_factory.mktemp("archive")
    folder = tmp / "ws"
    folder.mkdir()
    experiment_id = fill(folder)
    server = start_server(tmp, workspace=folder)
    try:
        yield server, experiment_id
    finally:
        server.stop()


def _ids(server: LiveServer, experiment_id: str, query: str = "") -> list[str]:
    answer = httpx.get(f"{server.api}/views/run-ids?experiment={experiment_id}{query}")
    assert answer.status_code == 200, answer.text
    return [r["id"] for r in answer.json()["runs"]]


def _act(server: LiveServer, action: str, runs: list[str]) -> httpx.Response:
    return httpx.post(f"{server.api}/views/runs/actions", json={"action": action, "runs": runs})


def test_archive_from_the_runs_table_hides_runs_until_shown(page: Any, many: Any) -> None:
    server, experiment_id = many
    page.set_default_timeout(LOADED)
    base = f"{server.url}/experiments/{experiment_id}"
    page.goto(f"{base}?sort=number")
    for run_id in ("s000", "s001"):
        page.locator(f"#runs-table tr[data-run={run_id}] .pick-run").check()
    page.locator("#run-actions").wait_for()
    page.click("#run-actions button[data-action=archive]")
    page.wait_for_selector("#runs-table tr[data-run=s000]", state="detached")
    assert page.locator("#runs-table tr[data-run=s001]").count() == 0
    assert page.locator(".page-head .archived-count").inner_text() == "+ 2 archived"
    tags = httpx.get(f"{server.api}/runs/s000").json()["tags"]
    assert float(tags[ARCHIVED]) > 0  # when it was archived
    # every list of the runs table filters the same way: page, JSON twin, CSV, run-ids
    twin = httpx.get(f"{server.api}/views/runs?experiment={experiment_id}&per_page=500").json()
    assert twin["total"] == N_RUNS - 2 and twin["archived_total"] == 2
    assert {"s000", "s001"}.isdisjoint(r["id"] for r in twin["runs"])
    rows = list(csv.DictReader(io.StringIO(httpx.get(
        f"{server.api}/views/runs.csv?experiment={experiment_id}").text)))
    assert len(rows) == N_RUNS - 2 and "s000" not in {r["id"] for r in rows}
    assert len(_ids(server, experiment_id)) == N_RUNS - 2
    assert len(_ids(server, experiment_id, "&archived=1")) == N_RUNS
    # the toggle shows them, marked; the state is in the URL
    toggle = page.locator("#archived-toggle")
    assert toggle.inner_text().split() == ["Show", "archived", "2"]
    toggle.click()
    page.wait_for_url("**archived=1*")
    archived_row = page.locator("#runs-table tr[data-run=s000]")
    assert "archived" in (archived_row.get_attribute("class") or "")
    assert archived_row.locator(".archived-badge").text_content() == "archived"
    assert ARCHIVED not in archived_row.locator("td.tags").inner_text()  # a badge, not a tag
    assert page.locator(".page-head .archived-count").count() == 0
    everything = httpx.get(f"{server.api}/views/runs?experiment={experiment_id}&archived=1")
    assert everything.json()["total"] == N_RUNS
    # unarchive one from the shown list
    archived_row.locator(".pick-run").check()
    page.click("#run-actions button[data-action=unarchive]")
    page.wait_for_function(
        "() => !document.querySelector('#runs-table tr[data-run=s000]')"
        ".classList.contains('archived')")
    assert ARCHIVED not in httpx.get(f"{server.api}/runs/s000").json()["tags"]
    page.click("#archived-toggle")
    page.wait_for_selector("#runs-table tr[data-run=s000]")
    assert page.locator("#runs-table tr[data-run=s001]").count() == 0
    assert _act(server, "unarchive", ["s001"]).status_code == 200
    assert len(_ids(server, experiment_id)) == N_RUNS


def test_archive_and_unarchive_from_the_run_page(page: Any, many: Any) -> None:
    server, experiment_id = many
    page.set_default_timeout(LOADED)
    page.goto(f"{server.url}/runs/s007")
    button = page.locator("#archive-run")
    button.wait_for()
    assert button.inner_text() == "Archive" and not page.locator("#run-archived").is_visible()
    button.click()
    page.wait_for_selector("#run-archived:visible")
    assert button.inner_text() == "Unarchive"
    assert ARCHIVED in httpx.get(f"{server.api}/runs/s007").json()["tags"]
    assert "s007" not in _ids(server, experiment_id)
    page.screenshot(path=str(server.workspace.parent / "run-archived.png"))
    # the page drawn for an archived run says so and offers to unarchive
    page.reload()
    page.wait_for_selector("#archive-run:visible")
    assert button.inner_text() == "Unarchive" and page.locator("#run-archived").is_visible()
    button.click()
    page.wait_for_selector("#run-archived", state="hidden")
    assert ARCHIVED not in httpx.get(f"{server.api}/runs/s007").json()["tags"]
    assert "s007" in _ids(server, experiment_id)


def test_archive_api_keeps_the_first_time_and_checks_input(many: Any) -> None:
    server, experiment_id = many
    assert _act(server, "archive", ["s010"]).status_code == 200
    first = httpx.get(f"{server.api}/runs/s010").json()["tags"][ARCHIVED]
    assert _act(server, "archive", ["s010"]).status_code == 200
    assert httpx.get(f"{server.api}/runs/s010").json()["tags"][ARCHIVED] == first
    assert _act(server, "unarchive", ["s010", "s011"]).status_code == 200  # s011 never was
    assert _act(server, "archive", ["s010", "nope"]).status_code == 404
    assert ARCHIVED not in httpx.get(f"{server.api}/runs/s010").json()["tags"]  # nothing done
    bad = httpx.get(f"{server.api}/views/runs?experiment={experiment_id}&archived=maybe")
    assert bad.status_code == 400 and "archived must be 1 or 0" in bad.text
    page = httpx.get(f"{server.url}/experiments/{experiment_id}?archived=maybe")
    assert page.status_code == 400


def test_read_only_token_cannot_archive(
    tmp_path_factory: pytest.TempPathFactory, browser: Any
) -> None:
    from runtrack.cli import main

    tmp = tmp_path_factory.mktemp("ro-archive")
    folder = tmp / "ws"
    folder.mkdir()
    experiment_id = fill(folder)
    tokens = {}
    for kind, extra in (("rw", []), ("ro", ["--read-only"])):
        out = CliRunner().invoke(main, ["token", "create", "--backend-store-uri", str(folder),
                                        *extra])
        assert out.exit_code == 0, out.output
        tokens[kind] = out.output.strip()
    server = start_server(tmp, "--auth", workspace=folder)
    try:
        for kind, visible in (("ro", False), ("rw", True)):
            context = browser.new_context()
            context.add_cookies([{"name": "runtrack_token", "value": tokens[kind],
                                  "url": server.url}])
            page = context.new_page()
            page.set_default_timeout(LOADED)
            page.goto(f"{server.url}/runs/s001")
            page.wait_for_function(f"() => fetch('/api/v1/views/access').then(r => r.json())"
                                   f".then(a => a.write === {str(visible).lower()})")
            if visible:
                page.wait_for_selector("#archive-run:visible")
            else:
                page.wait_for_timeout(300)
                assert not page.locator("#archive-run").is_visible()
            page.goto(f"{server.url}/experiments/{experiment_id}?sort=number")
            page.locator("#runs-table tr[data-run=s001] .pick-run").check()
            page.wait_for_timeout(300)
            assert page.locator("#run-actions button[data-action=archive]").is_visible() is visible
            context.close()
        for action in ("archive", "unarchive"):
            refused = httpx.post(f"{server.api}/views/runs/actions",
                                 json={"action": action, "runs": ["s001"]},
                                 headers={"Authorization": f"Bearer {tokens['ro']}"})
            assert refused.status_code == 403
        assert ARCHIVED not in httpx.get(
            f"{server.api}/runs/s001", headers={"Authorization": f"Bearer {tokens['ro']}"}
        ).json()["tags"]
    finally:
        server.stop()


def test_select_all_runs_matching_the_filter_across_pages(page: Any, many: Any) -> None:
    server, experiment_id = many
    page.set_default_timeout(LOADED)
    base = f"{server.url}/experiments/{experiment_id}"
    page.goto(base)
    banner = page.locator("#select-matching")
    assert not banner.is_visible()
    page.locator("#select-all").check()
    banner.wait_for()
    assert banner.locator(".text").inner_text() == "All 50 runs on this page are ticked."
    button = banner.locator("button")
    assert button.inner_text() == f"Select all {N_RUNS} runs matching the filter"
    button.click()
    page.wait_for_function(
        f"() => document.querySelector('#compare-btn .n').textContent === '{N_RUNS}'")
    assert banner.locator(".text").inner_text() == (
        f"All {N_RUNS} runs matching the filter are selected.")
    # compare draws every one of them (the chart data comes in two requests of <= 100 runs)
    page.click("#compare-btn")
    page.wait_for_selector(f"#compare-chart[data-traces='{N_RUNS}']")
    # beyond 10 series there is no legend, and the hover lists the 5 nearest lines
    assert page.locator("#compare-chart .chart-legend").count() == 0
    over = page.locator("#compare-chart .u-over").bounding_box()
    assert over is not None
    page.mouse.move(over["x"] + over["width"] / 3, over["y"] + over["height"] / 2)
    page.wait_for_selector("#compare-chart .chart-hover:not([hidden])")
    assert page.locator("#compare-chart .chart-hover div").count() == 5
    query = parse_qs(urlsplit(page.url).query)
    assert query["sel"] == ["all"] and query["cmp"] == ["1"]
    # the URL brings the same selection back (ids fetched again, not carried in the URL)
    page.goto(page.url)
    page.wait_for_selector(f"#compare-chart[data-traces='{N_RUNS}']")
    assert page.locator("#compare-btn .n").inner_text() == str(N_RUNS)
    # unticking one row goes back to this page's ticks
    page.locator("#runs-table tbody .pick-run").first.uncheck()
    assert page.locator("#compare-btn .n").inner_text() == "49"
    assert not banner.is_visible()
    # with a filter: all matching runs on every page get the action
    page.goto(f"{base}?tag=opt=sgd&per_page=20")
    page.locator("#select-all").check()
    banner.locator("button").click()
    sgd = [f"s{i:03d}" for i in range(N_RUNS) if i % 3]
    page.wait_for_function(
        f"() => document.querySelector('#compare-btn .n').textContent === '{len(sgd)}'")
    page.fill("#action-tag", "batch=all")
    page.click("#run-actions button[data-action=tag]")
    page.wait_for_function(
        "() => document.getElementById('action-note').textContent.startsWith('tag: ')")
    assert page.locator("#action-note").inner_text() == f"tag: {len(sgd)} run(s) done"
    tagged = httpx.get(f"{server.api}/views/run-ids?experiment={experiment_id}&tag=batch=all")
    assert sorted(r["id"] for r in tagged.json()["runs"]) == sgd
    page.screenshot(path=str(Path(server.workspace).parent / "select-matching.png"))
    banner.locator("button").click()  # clear
    assert page.locator(".pick-run:checked").count() == 0
    assert page.locator("#compare-btn .n").inner_text() == "0"
