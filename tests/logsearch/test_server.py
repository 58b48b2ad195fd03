"""Log search, failures and system metrics over HTTP against a real ``runtrack server``,
logged through a remote workspace (RestStore feeds the index), and their pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtrack.logsearch import LogQuery
from tests.live_server import LiveServer, start_server

Served = tuple[LiveServer, dict[str, str]]

ODD_QUERIES = [
    '"unbalanced', "NEAR(a b)", "a AND OR NOT b", "col:val", "x*", "-neg", "^start",
    "'; DROP TABLE runs; --", "a <-> b", "a & !b | c", "(((", "\\", "%_", "{}[]",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from runtrack import Experiment, Workspace

    tmp = tmp_path_factory.mktemp("logsearch-server")
    live = start_server(tmp)
    ids: dict[str, str] = {}
    ws = Workspace(live.url)
    try:
        exp = Experiment(ws, "remote")
        with exp.start_logging(outputs=False, display_name="printer") as run:
            print("epoch 1 loss 0.5")
            print("RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB")
            print("epoch 2 loss 0.4")
        ids["printer"] = run.id
        for name in ("bad-1", "bad-2"):
            try:
                with exp.start_logging(outputs=False, display_name=name) as failing:
                    raise ValueError("learning rate must be positive")
            except ValueError:
                ids[name] = failing.id
        ids["experiment"] = exp.id
        ids["remote_hits"] = str(len(ws.store.search_logs(LogQuery("cuda out of memory"))))
    finally:
        ws.close()
    yield live, ids
    live.stop()


def _get(live: LiveServer, path: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{live.url}{path}", params=params, timeout=30)


def test_search_route_finds_lines_fed_through_the_rest_store(server: Served) -> None:
    live, ids = server
    assert ids["remote_hits"] == "1"  # RestStore.search_logs (POST) saw it too
    answer = _get(live, "/api/v1/logs/search", q="cuda out of memory", context=1)
    assert answer.status_code == 200, answer.text
    hits = answer.json()["hits"]
    assert [(h["run_id"], h["path"], h["line_no"]) for h in hits] == [
        (ids["printer"], "logs/user_log.txt", 2)
    ]
    assert hits[0]["before"] == ["epoch 1 loss 0.5"]
    filtered = _get(live, "/api/v1/logs/search", q="cuda", status="Failed").json()
    assert filtered["hits"] == []


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_syntax_characters_never_give_a_500(server: Served, query: str) -> None:
    live, _ = server
    answer = _get(live, "/api/v1/logs/search", q=query)
    assert answer.status_code in (200, 400), answer.text
    if answer.status_code == 400:
        assert answer.json()["error"]["message"]


def test_bad_parameters_are_400_with_the_reason(server: Served) -> None:
    live, _ = server
    for params, words in (({"q": "!!"}, "no word"), ({"q": "x", "since": "soon"}, "7d"),
                          ({"q": "x", "status": "Broken"}, "Failed")):
        answer = _get(live, "/api/v1/logs/search", **params)
        assert answer.status_code == 400, answer.text
        assert words in answer.json()["error"]["message"]


def test_failures_grouped(server: Served) -> None:
    live, ids = server
    groups = _get(live, "/api/v1/failures").json()["groups"]
    assert len(groups) == 1
    group = groups[0]
    assert (group["type"], group["message"], group["count"]) == (
        "ValueError", "learning rate must be positive", 2
    )
    assert {r["id"] for r in group["runs"]} == {ids["bad-1"], ids["bad-2"]}
    page = _get(live, "/failures")
    assert page.status_code == 200 and "learning rate must be positive" in page.text


def test_runs_table_error_column(server: Served) -> None:
    live, ids = server
    rows = _get(live, "/api/v1/views/runs").json()["runs"]
    errors = {r["id"]: r["error"] for r in rows}
    assert errors[ids["bad-1"]] == "ValueError: learning rate must be positive"
    assert errors[ids["printer"]] is None
    assert "learning rate must be positive" in _get(live, "/runs").text


def test_system_metrics_route_and_tab(server: Served) -> None:
    live, ids = server
    data = _get(live, f"/api/v1/runs/{ids['printer']}/system-metrics").json()
    by_name = {s["name"]: s for s in data["series"]}
    cpu = by_name["sys/rank0/cpu_percent"]
    assert (cpu["quantity"], cpu["source"]) == ("cpu_percent", "rank0")
    assert len(cpu["x"]) == len(cpu["y"]) >= 1
    page = _get(live, f"/runs/{ids['printer']}").text
    assert 'data-tab="system"' in page and "js/run_system.js" in page
    metrics = _get(live, f"/api/v1/views/runs/{ids['printer']}").json()
    assert not any(s["name"].startswith("sys/") for s in metrics["series"])


def test_search_page_links_to_the_log_line(server: Served) -> None:
    live, ids = server
    page = _get(live, "/logs/search", q="CUDA out of memory")
    assert page.status_code == 200
    assert f"/runs/{ids['printer']}?log=logs/user_log.txt&amp;line=2#outputs" in page.text
    assert _get(live, "/logs/search").status_code == 200
    bad = _get(live, "/logs/search", q="***")
    assert bad.status_code == 400 and "no word" in bad.text


def test_openapi_lists_the_routes(server: Served, tmp_path: Path) -> None:
    live, _ = server
    paths = _get(live, "/api/v1/openapi.json").json()["paths"]
    for route in ("/api/v1/logs/search", "/api/v1/failures",
                  "/api/v1/runs/{run_id}/system-metrics", "/api/v1/runs/{run_id}/log-index"):
        assert route in paths
