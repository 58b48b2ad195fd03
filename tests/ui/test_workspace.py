"""The compare workspace in real Chromium: panels, grouping, saved views, parallel
coordinates and scatter, run actions (and their auth/CSRF rules), column management."""

from __future__ import annotations

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

STEPS = 30
# Plotly.js (4.8 MB, parallel coordinates and scatter) loads cold in each test, on a
# machine shared with other suites
LOADED = 60_000
# six runs: opt adam/sgd (3 each), a numeric lr property, loss curves offset per run
RUNS = [(f"w{i}", "adam" if i % 2 else "sgd", 0.001 * (i + 1)) for i in range(6)]


def fill(folder: Path) -> str:
    from runtrack.model import MetricBatch, NewRun, RunStatus
    from runtrack.store import open_store

    store = open_store(f"sqlite:///{folder / 'runtrack.db'}")
    try:
        exp = store.get_or_create_experiment("workspace")
        now = time.time()
        for i, (run_id, opt, lr) in enumerate(RUNS):
            store.create_run(NewRun(exp.id, run_id, display_name=f"run-{i}", run_type="interactive",
                             status=RunStatus.COMPLETED, tags={"opt": opt},
                             properties={"lr": str(lr), "arch": "cnn" if i < 3 else "mlp"}))
            records: list[Any] = []
            for s in range(STEPS):
                records.append(("loss", "scalar", s, now + s, (i + 1) / (1 + s)))
                records.append(("acc", "scalar", s, now + s, 1 - 1 / (2 + s + i)))
            store.ingest(run_id, MetricBatch("main", 0, records))
        store.create_run(NewRun(exp.id, "live", display_name="live-run", run_type="interactive",
                         status=RunStatus.RUNNING))
        return exp.id
    finally:
        store.close()


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    require_browser()
    tmp = tmp_path_factory.mktemp("workspace")
    folder = tmp / "ws"
    folder.mkdir()
    experiment_id = fill(folder)
    server = start_server(tmp, workspace=folder)
    try:
        yield server, experiment_id
    finally:
        server.stop()


def _tick(page: Any, *names: str) -> None:
    for name in names:
        page.locator("#runs-table tr", has_text=name).locator(".pick-run").check()


def _trace_count(page: Any, selector: str) -> int:
    return int(page.evaluate(f"() => (document.querySelector({selector!r}).data || []).length"))


def test_panels_and_grouping_live_in_the_url(page: Any, ws: Any) -> None:
    server, experiment_id = ws
    page.set_default_timeout(LOADED)
    page.goto(f"{server.url}/experiments/{experiment_id}")
    _tick(page, *[f"run-{i}" for i in range(6)])
    page.click("#compare-btn")
    page.wait_for_selector("#compare-chart[data-drawn=uplot]")
    page.select_option("#add-panel", "line:acc")
    page.wait_for_selector(".panel-line[data-metric=acc] .panel-chart[data-drawn=uplot]")
    assert _trace_count(page, ".panel-line .panel-chart") == 6
    # grouping by the opt tag: 2 groups, each a band (2 traces) and a mean line
    page.locator("#metric-picks input[value='loss']").check()
    page.locator("#metric-picks input[value='acc']").uncheck()
    page.select_option("#group-by", "tag:opt")
    page.wait_for_selector("#compare-chart[data-groups='2']")
    page.wait_for_selector(".panel-line .panel-chart[data-groups='2']")
    names = page.evaluate(
        "() => document.getElementById('compare-chart').data.filter(t => t.showlegend !== false)"
        ".map(t => t.name)")
    assert sorted(names) == ["opt=adam (3 runs)", "opt=sgd (3 runs)"]
    fills = page.evaluate(
        "() => document.getElementById('compare-chart').data.filter(t => t.fill).length")
    assert fills == 2
    # the mean of sgd (runs 0, 2, 4: loss (i+1)/(1+s)) at step 0 is 3; band 1..5
    sgd = page.evaluate("""() => {
        const d = document.getElementById('compare-chart').data;
        const i = d.findIndex(t => t.name === 'opt=sgd (3 runs)');
        return [d[i - 2].y[0], d[i - 1].y[0], d[i].y[0]]; }""")
    assert sgd == [1, 5, 3]
    query = parse_qs(urlsplit(page.url).query)
    assert query["group"] == ["tag:opt"] and query["panel"] == ["line:acc"]
    assert query["cmp"] == ["1"] and len(query["sel"]) == 6 and query["cm"] == ["loss"]
    # the URL alone rebuilds the workspace
    page.goto(page.url)
    page.wait_for_selector("#compare-chart[data-groups='2']")
    page.wait_for_selector(".panel-line[data-metric=acc] .panel-chart[data-groups='2']")
    assert page.locator(".pick-run:checked").count() == 6
    page.click(".panel-line .panel-remove")
    assert page.locator(".panel").count() == 0
    assert "panel=" not in page.url


def test_parallel_coordinates_and_scatter(page: Any, ws: Any) -> None:
    server, experiment_id = ws
    page.set_default_timeout(LOADED)
    page.goto(f"{server.url}/experiments/{experiment_id}")
    _tick(page, *[f"run-{i}" for i in range(6)])
    page.click("#compare-btn")
    page.select_option("#add-panel", "parcoords")
    chart = page.locator(".panel-parcoords .panel-chart[data-drawn=parcoords]")
    chart.wait_for()
    dims = (chart.get_attribute("data-dims") or "").split(",")
    # varying columns only: arch, lr, opt and the last of each metric (not the run-less)
    assert {"prop:arch", "prop:lr", "tag:opt", "metric:loss:last"} <= set(dims)
    svg = page.locator(".panel-parcoords svg.parcoords")
    assert svg.locator("path.run-line").count() == 6
    titles = svg.locator(".axis .axis-title").all_text_contents()
    assert "lr" in titles and "opt" in titles and "arch" in titles
    assert svg.locator(".axis[data-key='tag:opt'] .tick").all_text_contents() == ["adam", "sgd"]
    # lr rises with the run number: on the lr axis run-5 sits highest
    heights = page.evaluate("""() => {
        const key = 'prop:lr', svg = document.querySelector('.panel-parcoords svg');
        const i = svg.closest('.panel-chart').dataset.dims.split(',').indexOf(key);
        return [...svg.querySelectorAll('path.run-line')].map(p => [p.dataset.run,
            Number(p.getAttribute('d').split(/[ML ]+/).filter(Boolean)[i].split(',')[1])]); }""")
    order = [run for run, _ in sorted(heights, key=lambda h: h[1])]  # svg y grows downwards
    assert order == ["w5", "w4", "w3", "w2", "w1", "w0"]
    # drag along the opt axis over "sgd" only (the top of the axis): 3 runs stay
    hit = svg.locator(".axis[data-key='tag:opt'] rect.hit").bounding_box()
    assert hit is not None
    x = hit["x"] + hit["width"] / 2
    page.mouse.move(x, hit["y"] + 1)
    page.mouse.down()
    page.mouse.move(x, hit["y"] + 20, steps=4)
    page.mouse.up()
    chart = page.locator(".panel-parcoords .panel-chart")
    assert chart.get_attribute("data-kept") == "3"
    kept = svg.locator("path.run-line:not(.out)").evaluate_all("ps => ps.map(p => p.dataset.run)")
    assert sorted(kept) == ["w0", "w2", "w4"]
    assert "3 of 6 runs" in page.locator(".panel-parcoords .panel-note").inner_text()
    page.locator(".panel-parcoords .axis[data-key='tag:opt'] rect.hit").click()
    assert chart.get_attribute("data-kept") == "6"
    # colour by another metric: the choice goes into the URL
    page.select_option(".panel-parcoords .panel-color", "metric:loss:max")
    page.wait_for_selector(".panel-parcoords .panel-chart[data-color='metric:loss:max']")
    assert "panel=parcoords%3Ametric%3Aloss%3Amax" in page.url
    page.select_option("#add-panel", "scatter")
    scatter = page.locator(".panel-scatter .panel-chart[data-drawn=scatter]")
    scatter.wait_for()
    page.select_option(".panel-scatter .panel-x", "prop:lr")
    page.select_option(".panel-scatter .panel-y", "metric:loss:max")
    page.wait_for_function("""() => {
        const d = document.querySelector('.panel-scatter .panel-chart').data;
        return d && d[0].y.length === 6 && Math.max(...d[0].y) === 6; }""")
    xy = page.evaluate("""() => { const t = document.querySelector('.panel-scatter .panel-chart')
        .data[0]; return t.x.map((x, i) => [x, t.y[i]]).sort((a, b) => a[0] - b[0]); }""")
    assert [y for _, y in xy] == [1, 2, 3, 4, 5, 6]  # loss max = i + 1, lr rising with i
    assert "panel=scatter%3Aprop%3Alr%7Cmetric%3Aloss%3Amax" in page.url
    page.screenshot(path=str(Path(server.workspace).parent / "workspace.png"), full_page=True)


def test_saved_views_persist_per_experiment_and_open_by_url(page: Any, ws: Any) -> None:
    server, experiment_id = ws
    page.set_default_timeout(LOADED)
    base = f"{server.url}/experiments/{experiment_id}"
    page.goto(f"{base}?col=metric:loss:min&tag=opt=adam")
    _tick(page, "run-1", "run-3")
    page.click("#compare-btn")
    page.select_option("#add-panel", "line:acc")
    page.select_option("#group-by", "prop:arch")
    page.wait_for_selector("#compare-chart[data-groups='2']")
    page.fill("#view-name", "adam by arch")
    page.click("#save-view")
    page.wait_for_function("() => [...document.querySelectorAll('#saved-views option')]"
                           ".some(o => o.value === 'adam by arch')")
    views = httpx.get(f"{server.api}/views/experiments/{experiment_id}/saved-views").json()
    saved = {v["name"]: v["query"] for v in views["views"]}
    query = parse_qs(saved["adam by arch"])
    assert query["tag"] == ["opt=adam"] and query["group"] == ["prop:arch"]
    assert query["panel"] == ["line:acc"] and sorted(query["sel"]) == ["w1", "w3"]
    # a fresh browser context opens it by name: the whole workspace comes back
    page.goto(f"{base}?view=adam%20by%20arch")
    page.wait_for_url("**sel=*")
    page.wait_for_selector("#compare-chart[data-groups='2']")
    page.wait_for_selector(".panel-line[data-metric=acc]")
    assert sorted(t.strip() for t in page.locator("#runs-table td.name a").all_inner_texts()) == [
        "run-1", "run-3", "run-5"]
    assert page.locator("th[data-key='metric:loss:min']").count() == 1
    assert page.locator("#saved-views").input_value() == "adam by arch"
    # delete it (the dialog is confirmed)
    page.once("dialog", lambda d: d.accept())
    page.click("#delete-view")
    page.wait_for_function("() => ![...document.querySelectorAll('#saved-views option')]"
                           ".some(o => o.value === 'adam by arch')")
    assert httpx.get(f"{server.api}/views/experiments/{experiment_id}/saved-views"
                     ).json()["views"] == []


def test_saved_view_api_errors(ws: Any) -> None:
    server, experiment_id = ws
    url = f"{server.api}/views/experiments/{experiment_id}/saved-views"
    assert httpx.post(url, json={"name": " ", "query": "a=1"}).status_code == 400
    gone = httpx.delete(f"{url}/nope")
    assert gone.status_code == 404 and "no saved view named 'nope'" in gone.text
    form = httpx.post(url, data={"name": "x", "query": "a=1"})
    assert form.status_code in (403, 415)  # CSRF: a form post is refused
    assert httpx.post(f"{server.api}/views/experiments/nope/saved-views",
                      json={"name": "x", "query": ""}).status_code == 404


def test_run_actions_tag_rename_cancel_delete(page: Any, ws: Any) -> None:
    server, experiment_id = ws
    page.set_default_timeout(LOADED)
    page.goto(f"{server.url}/experiments/{experiment_id}")
    assert not page.locator("#run-actions").is_visible()
    _tick(page, "run-4", "run-5")
    page.locator("#run-actions").wait_for()
    page.fill("#action-tag", "keep=yes")
    page.click("#run-actions button[data-action=tag]")
    page.wait_for_selector("#runs-table tr[data-run=w4] .tag:has-text('keep')")
    for run_id in ("w4", "w5"):
        assert httpx.get(f"{server.api}/runs/{run_id}").json()["tags"]["keep"] == "yes"
    page.click("#run-actions button[data-action=untag]")
    page.wait_for_function(
        "() => !document.querySelector('#runs-table tr[data-run=w4] .tags').textContent"
        ".includes('keep')")
    assert "keep" not in httpx.get(f"{server.api}/runs/w5").json()["tags"]
    # rename takes one run
    page.fill("#action-name", "renamed")
    page.click("#run-actions button[data-action=rename]")
    assert "one run" in page.locator("#action-note").inner_text()
    page.locator("#runs-table tr[data-run=w5] .pick-run").uncheck()
    page.click("#run-actions button[data-action=rename]")
    page.wait_for_selector("#runs-table tr[data-run=w4] td.name:has-text('renamed')")
    # cancel a running run
    page.locator("#runs-table tr[data-run=w4] .pick-run").uncheck()
    page.locator("#runs-table tr[data-run=live] .pick-run").check()
    page.click("#run-actions button[data-action=cancel]")
    page.wait_for_selector("#runs-table tr[data-run=live] .chip[data-status=Canceled]")
    # delete asks first; dismissing keeps the run
    page.once("dialog", lambda d: d.dismiss())
    page.click("#run-actions button[data-action=delete]")
    assert httpx.get(f"{server.api}/runs/live").status_code == 200
    page.once("dialog", lambda d: d.accept())
    page.click("#run-actions button[data-action=delete]")
    page.wait_for_selector("#runs-table tr[data-run=live]", state="detached")
    assert httpx.get(f"{server.api}/runs/live").status_code == 404


def test_run_actions_api_checks_everything_first(ws: Any) -> None:
    server, _ = ws
    url = f"{server.api}/views/runs/actions"
    missing = httpx.post(url, json={"action": "tag", "runs": ["w0", "nope"], "tags": {"k": "v"}})
    assert missing.status_code == 404
    assert "k" not in httpx.get(f"{server.api}/runs/w0").json()["tags"]  # nothing changed
    assert httpx.post(url, json={"action": "tag", "runs": ["w0"]}).status_code == 400
    two = httpx.post(url, json={"action": "rename", "runs": ["w0", "w1"], "display_name": "x"})
    assert two.status_code == 400 and "one run" in two.text
    assert httpx.post(url, json={"action": "explode", "runs": ["w0"]}).status_code in (400, 422)
    cross = httpx.post(url, json={"action": "cancel", "runs": ["w0"]},
                       headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    plain = httpx.post(url, content=b'{"action": "cancel", "runs": ["w0"]}',
                       headers={"Content-Type": "text/plain"})
    assert plain.status_code in (403, 415)


def test_read_only_token_gets_no_run_actions(
    tmp_path_factory: pytest.TempPathFactory, browser: Any
) -> None:
    from runtrack.cli import main

    tmp = tmp_path_factory.mktemp("ro")
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
            page.goto(f"{server.url}/experiments/{experiment_id}")
            page.wait_for_function(f"() => fetch('/api/v1/views/access').then(r => r.json())"
                                   f".then(a => a.write === {str(visible).lower()})")
            _tick(page, "run-0")
            page.wait_for_timeout(300)
            assert page.locator("#run-actions").is_visible() is visible
            context.close()
        refused = httpx.post(f"{server.api}/views/runs/actions",
                             json={"action": "cancel", "runs": ["live"]},
                             headers={"Authorization": f"Bearer {tokens['ro']}"})
        assert refused.status_code == 403
    finally:
        server.stop()


def test_columns_hide_reorder_and_persist(page: Any, ws: Any) -> None:
    server, experiment_id = ws
    page.set_default_timeout(LOADED)
    base = f"{server.url}/experiments/{experiment_id}"
    page.goto(f"{base}?col=metric:loss:min&col=prop:lr")

    def extras() -> list[str]:
        return [k for k in page.locator("#runs-table th.extra").evaluate_all(
            "ths => ths.map(t => t.dataset.key)")]

    assert extras() == ["metric:loss:min", "prop:lr"]
    page.click("#columns-menu summary")
    page.locator(".column-item[data-key='prop:lr'] button[data-move='-1']").click()
    page.wait_for_url("**col=prop*")
    assert extras() == ["prop:lr", "metric:loss:min"]
    # hide a built-in column and an added one: header and cells go
    page.click("#columns-menu summary")
    page.locator(".column-item[data-key=start_time] input").uncheck()
    page.locator(".column-item[data-key='prop:lr'] input").uncheck()
    assert not page.locator("th[data-key=start_time]").is_visible()
    assert not page.locator("td[data-key='prop:lr']").first.is_visible()
    assert page.locator("th[data-key=duration]").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#columns-list").is_visible()
    # a bare visit gets the same columns back, still hidden where hidden
    page.goto(base)
    page.wait_for_url("**col=*")
    assert extras() == ["prop:lr", "metric:loss:min"]
    assert not page.locator("th[data-key=start_time]").is_visible()
    assert not page.locator("th[data-key='prop:lr']").is_visible()


def test_parcoords_macro_renders_the_card_hparams_js_fills() -> None:
    from runtrack.server.pages._templates import make_templates

    env = make_templates().env
    html = env.from_string(
        '{% from "_hparams.html" import parcoords_panel %}{{ parcoords_panel("sweep-pc") }}'
    ).render()
    for part in ('id="sweep-pc"', 'class="panel card panel-parcoords"', 'class="panel-color"',
                 'class="panel-chart chart-md"', 'class="panel-note muted small"'):
        assert part in html
    assert "panel-remove" not in html
