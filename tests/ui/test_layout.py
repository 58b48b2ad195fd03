"""Dark mode (prefers-color-scheme) and the 420 px layout, in real Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.ui.conftest import Seeded


@pytest.fixture
def narrow(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 420, "height": 860})
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert errors == []


@pytest.fixture
def dark(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1300, "height": 850}, color_scheme="dark")
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def _background(page: Any, selector: str) -> str:
    return str(page.eval_on_selector(selector, "n => getComputedStyle(n).backgroundColor"))


def _sideways(page: Any) -> int:
    return int(page.evaluate("() => document.documentElement.scrollWidth - innerWidth"))


def test_dark_mode_follows_the_system(dark: Any, seeded: Seeded) -> None:
    dark.goto(f"{seeded.server.url}/runs/{seeded.runs['run-a']}#metrics")
    assert _background(dark, "body") == "rgb(15, 20, 26)"
    assert _background(dark, ".card") == "rgb(23, 29, 37)"
    dark.wait_for_selector(".chart-card[data-metric='loss'] .chart[data-drawn=uplot] canvas")
    ink = dark.eval_on_selector(".chart-card[data-metric='loss'] .chart",
                                "n => [n.uplot.axes[0].stroke(n.uplot, 0), "
                                "n.uplot.axes[1].grid.stroke(n.uplot, 1)]")
    assert ink == ["#c9d1da", "#262e38"]  # light text, dark grid


def test_light_mode_stays_light(page: Any, seeded: Seeded) -> None:
    page.goto(f"{seeded.server.url}/experiments")
    assert _background(page, "body") == "rgb(246, 247, 249)"


def test_pages_fit_420_px_without_sideways_scrolling(narrow: Any, seeded: Seeded) -> None:
    url = seeded.server.url
    narrow.goto(f"{url}/experiments/{seeded.experiment_id}?col=metric:loss:max")
    assert _sideways(narrow) <= 0
    narrow.goto(f"{url}/runs/{seeded.failed_id}")
    assert _sideways(narrow) <= 0
    cards = narrow.locator(".overview > .card")
    first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
    assert first and second and second["y"] > first["y"] + first["height"] - 1  # stacked
    narrow.goto(f"{url}/runs/{seeded.runs['run-a']}#outputs")
    narrow.wait_for_selector("#viewer .ln")
    assert _sideways(narrow) <= 0
    tree = narrow.locator(".file-tree").bounding_box()
    viewer = narrow.locator(".viewer").bounding_box()
    assert tree and viewer and viewer["y"] >= tree["y"] + tree["height"] - 1
    assert tree["height"] <= 200
    narrow.goto(f"{url}/runs/{seeded.kinds_id}#metrics")
    narrow.wait_for_selector(".chart-card[data-metric='curve'] .chart[data-drawn=uplot] canvas")
    assert _sideways(narrow) <= 0
