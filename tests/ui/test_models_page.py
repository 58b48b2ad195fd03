"""The Models pages in a real headless Chromium: the list, a model's versions with
their source run linked and their files downloadable; and a run page's lineage (the
datasets it read, the models registered from it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.live_server import LiveServer


def test_models_list_and_versions(page: Any, live_server: LiveServer, tmp_path: Path) -> None:
    from runtrack import Experiment, Workspace
    from runtrack.catalog import RunInputInfo
    from runtrack.sdk.models import Model

    ws = Workspace(live_server.url)
    try:
        run = Experiment(ws, "ui-models").start_logging(outputs=False)
        ws.store.log_run_inputs(run.id, [RunInputInfo(name="train", digest="abcdef0123456789",
                                                      dataset_name="points", dataset_version=3,
                                                      tags={"mode": "mount"})])
        (tmp_path / "model.pkl").write_bytes(b"weights-v1")
        run.upload_file("outputs/model.pkl", str(tmp_path / "model.pkl"))
        run.register_model("clf", "outputs/model.pkl", tags={"team": "vision"})
        run.complete()
        (tmp_path / "model.pkl").write_bytes(b"weights-v2")
        Model.register(ws, str(tmp_path / "model.pkl"), "clf", description="retrained")
        ws.store.set_model_alias("clf", "champion", 1)
    finally:
        ws.close()

    page.goto(f"{live_server.url}/experiments")
    page.click("nav >> text=Models")
    page.wait_for_url("**/models")
    row = page.locator("table.models tbody tr", has_text="clf")
    assert row.locator("td.num").inner_text() == "2"
    assert "@champion" in row.inner_text()
    row.locator("a").click()
    page.wait_for_url("**/models/clf")
    versions = page.locator("table.model-versions tbody tr")
    assert versions.count() == 2
    first = page.locator("tr[data-version='1']")
    assert first.locator("a.source-run").inner_text() == run.id
    assert "retrained" in page.locator("tr[data-version='2']").inner_text()
    link = first.locator("td.files a")
    assert link.inner_text() == "model.pkl"
    href = link.get_attribute("href")
    assert httpx.get(f"{live_server.url}{href}").content == b"weights-v1"
    twin = httpx.get(f"{live_server.url}/api/v1/registered-models/clf/detail").json()
    assert [v["version"] for v in twin["versions"]] == [2, 1]
    first.locator("a.source-run").click()
    page.wait_for_url(f"**/runs/{run.id}")
    lineage = page.locator(".card.lineage")
    assert "points:3" in lineage.locator("table.run-inputs").inner_text()
    assert "abcdef012345" in lineage.inner_text()
    lineage.locator("table.run-models a").click()
    page.wait_for_url("**/models/clf")


def test_unknown_model_page_says_what_exists(live_server: LiveServer) -> None:
    answer = httpx.get(f"{live_server.url}/models/nope")
    assert answer.status_code == 404
    assert "no registered model called &#39;nope&#39;" in answer.text
