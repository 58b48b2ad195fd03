"""The runs page's search box, CSV export and keyboard behaviour (real Chromium)."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from tests.ui.conftest import Seeded


def _names(page: Any) -> list[str]:
    return sorted(t.strip() for t in page.locator("#runs-table td.name a").all_inner_texts())


def test_search_box_finds_runs_by_name_id_and_tag(page: Any, seeded: Seeded) -> None:
    base = f"{seeded.server.url}/experiments/{seeded.experiment_id}"
    page.goto(base)
    page.fill("input[type=search]#run-search", "run-b")
    page.press("#run-search", "Enter")
    page.wait_for_url("**q=run-b*")
    assert _names(page) == ["run-b"]
    page.fill("#run-search", "letter=c")  # a tag, as key=value
    page.press("#run-search", "Enter")
    page.wait_for_url("**q=letter*")
    assert _names(page) == ["run-c"]
    page.fill("#run-search", seeded.runs["run-a"][-8:].upper())  # part of an id, any case
    page.press("#run-search", "Enter")
    page.wait_for_url("**q=*")
    assert _names(page) == ["run-a"]
    # combined with the other filters, and sorted by the server over the matches
    page.goto(f"{base}?q=letter&filter=loss:max>6&col=metric:loss:max&sort=metric:loss:max")
    assert [t.strip() for t in page.locator("#runs-table td.name a").all_inner_texts()] == [
        "run-c", "run-b"]
    page.click(".active-filters a.pill:has-text('search')")
    page.wait_for_url(lambda url: "q=" not in url)
    assert page.locator("#run-search").input_value() == ""


def test_search_reaches_the_json_twin_and_is_bounded(seeded: Seeded) -> None:
    api = seeded.server.api
    found = httpx.get(f"{api}/views/runs", params={"q": "fails"}).json()
    assert [r["display_name"] for r in found["runs"]] == ["run-fails"] and found["total"] == 1
    too_long = httpx.get(f"{api}/views/runs", params={"q": "x" * 501})
    assert too_long.status_code in (400, 422)


def test_csv_export_has_every_matching_run_and_the_columns(page: Any, seeded: Seeded) -> None:
    page.goto(f"{seeded.server.url}/experiments/{seeded.experiment_id}"
              "?col=metric:loss:max&col=tag:letter&sort=-metric:loss:max&per_page=2")
    with page.expect_download() as info:
        page.click("#export-csv")
    rows = list(csv.reader(io.StringIO(info.value.path().read_text())))
    assert rows[0][:2] == ["number", "name"] and "loss (max)" in rows[0] and "letter" in rows[0]
    names = [r[1] for r in rows[1:]]
    assert names == ["run-b", "run-c", "run-a", "run-fails"]  # both pages, server order
    loss = rows[0].index("loss (max)")
    assert [r[loss] for r in rows[1:]] == ["9.0", "7.0", "5.0", ""]


def test_arrow_keys_in_selects_never_submit(page: Any, seeded: Seeded) -> None:
    url = f"{seeded.server.url}/experiments/{seeded.experiment_id}"
    page.goto(url)
    page.focus("#add-column")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(500)
    assert page.url == url
    chosen = page.locator("#add-column").input_value()
    assert chosen
    page.keyboard.press("Enter")
    page.wait_for_url("**col=*")
    assert page.locator(f"th[data-key='{chosen}']").count() == 1


def test_escape_closes_the_compare_panel(page: Any, seeded: Seeded) -> None:
    page.goto(f"{seeded.server.url}/experiments/{seeded.experiment_id}")
    page.locator("tr", has_text="run-a").locator(".pick-run").check()
    page.click("#compare-btn")
    page.wait_for_selector("#compare-chart[data-drawn=uplot] canvas")
    assert page.locator("#compare").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#compare").is_visible()


def test_diff_page_puts_runs_side_by_side(page: Any, seeded: Seeded) -> None:
    page.goto(f"{seeded.server.url}/experiments/{seeded.experiment_id}")
    assert page.locator("#diff-btn").is_disabled()
    page.locator("tr", has_text="run-a").locator(".pick-run").check()
    page.locator("tr", has_text="run-b").locator(".pick-run").check()
    page.click("#diff-btn")
    page.wait_for_url("**/diff?run=*")
    letter = page.locator("#diff-table tr[data-key='tags:letter']")
    assert letter.get_attribute("class") == "differs"
    cells = [c.strip() for c in letter.locator("td").all_inner_texts()]
    assert cells[0] == "letter" and sorted(cells[1:]) == ["a", "b"]
    loss_max = page.locator("#diff-table tr[data-key='metrics:loss (max)'] td").all_inner_texts()
    assert sorted(c.strip() for c in loss_max[1:]) == ["5", "9"]
    same = page.locator("#diff-table tr[data-key='run:status']")
    assert same.get_attribute("class") == "same" and same.is_visible()
    page.check("#only-differences")
    assert not same.is_visible() and letter.is_visible()


def test_diff_needs_two_to_ten_runs(seeded: Seeded) -> None:
    one = httpx.get(f"{seeded.server.api}/views/diff", params={"run": seeded.runs["run-a"]})
    assert one.status_code in (400, 422)
    same = httpx.get(f"{seeded.server.api}/views/diff",
                     params=[("run", seeded.runs["run-a"])] * 2)
    assert same.status_code == 400 and "2 to 10 different runs" in same.text
