"""The static HTML of RunDetails in real headless Chromium: no console errors, no network,
charts and tables laid out. ``python tests/test_widget_browser.py`` rewrites the docs'
screenshot (docs/img/widget.png)."""

from __future__ import annotations

import io
import math
import os
import shutil
import sys
from pathlib import Path

import pytest

from runtrack import Experiment, Run, Workspace
from runtrack.widgets import RunDetails

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[1]

MSE = [3424.26, 3408.87, 3372.61, 3345.12, 3325.26, 3311.53, 3302.64, 3297.63, 3295.71]
LOG = (
    "\x1b[1mLoading the diabetes data set\x1b[0m (442 rows, 10 features)\n"
    "train 353 rows, test 89 rows\n"
    + "".join(f"\rfitting: {p:3d}%|{'█' * (p // 10):<10}| {p // 5}/20" for p in range(0, 101, 5))
    + "\n"
    + "".join(
        f"alpha is {a / 20:.2f}, and mse is \x1b[{'32' if a == 8 else '36'}m{m:.2f}\x1b[0m\n"
        for a, m in enumerate(MSE)
    )
    + "\x1b[33mwarning:\x1b[0m outputs/ holds 9 models (2.3 MB)\n"
)


def demo_run(ws: Workspace) -> Run:
    """A parent run with four children (one still running), metrics and a coloured log."""
    exp = Experiment(ws, "train-on-local")
    parent = exp.start_logging(display_name="alpha-sweep")
    for i in range(40):
        parent.log("best_mse", 3300 + 120 * math.exp(-i / 8), step=i)
        parent.log("learning_rate", 0.05 * 0.93**i, step=i)
    parent.log("alphas", 4)
    parent.upload_file("user_logs/std_log.txt", io.BytesIO(LOG.encode()))
    for c, alpha in enumerate((0.1, 0.4, 0.7, 1.0)):
        child = parent.child_run(name=f"alpha={alpha}")
        for step in range(40 if c < 3 else 25):
            noise = 6 * math.sin(step * (c + 1.3))
            child.log("mse", 3290 + 40 * abs(alpha - 0.4) + 400 * math.exp(-step / 6) + noise)
        child.log("alpha", alpha)
        child.log("r2", 0.45 - 0.05 * abs(alpha - 0.4))
        if c < 3:
            child.complete()
        else:
            child.flush()
    parent.flush()
    return parent


def render_in_chromium(html: str, screenshot: Path) -> dict[str, object]:
    """Open ``html`` in headless Chromium (network blocked); screenshot the widget."""
    from playwright.sync_api import sync_playwright

    found: dict[str, object] = {"console": [], "requests": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1040, "height": 800})
            page.on(
                "console",
                lambda m: (
                    found["console"].append(m.text)  # type: ignore[union-attr]
                    if m.type in ("error", "warning")
                    else None
                ),
            )
            page.on("pageerror", lambda e: found["console"].append(str(e)))  # type: ignore[union-attr]
            page.route(
                "**/*",
                lambda route: (
                    found["requests"].append(route.request.url),  # type: ignore[union-attr]
                    route.abort(),
                ),
            )
            page.set_content(
                "<!doctype html><html><head><meta charset='utf-8'></head>"
                f"<body style='margin:16px;background:#fff'>{html}</body></html>",
                wait_until="load",
            )
            widget = page.locator(".runtrack-details")
            found["svgs"] = page.locator(".runtrack-details svg").count()
            found["polylines"] = page.locator(".runtrack-details polyline").count()
            found["rows"] = page.locator(".runtrack-details tbody tr").count()
            found["box"] = widget.bounding_box()
            found["log_text"] = page.locator(".runtrack-details pre").inner_text()
            widget.screenshot(path=str(screenshot))
        finally:
            browser.close()
    return found


def _need_chromium() -> None:
    from tests.components import hidden  # here: the file also runs as a script

    missing = bool(hidden("chromium")) or not Path(CHROMIUM).exists()
    missing = missing or shutil.which(CHROMIUM) is None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = True
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium ({CHROMIUM}) and playwright are required in CI")
        pytest.skip(f"needs Chromium at {CHROMIUM} and the playwright package")


def test_static_html_renders_in_chromium_without_errors(tmp_path: Path) -> None:
    _need_chromium()
    ws = Workspace(str(tmp_path / "ws"))
    try:
        html = RunDetails(demo_run(ws)).html
    finally:
        ws.close()
    shot = tmp_path / "widget.png"
    found = render_in_chromium(html, shot)

    assert found["console"] == []
    assert found["requests"] == []  # renders offline: nothing fetched
    assert found["svgs"] == 3  # best_mse and learning_rate of the parent, mse of the children
    assert found["rows"] == 4  # the child runs table
    log_text = str(found["log_text"])
    assert "fitting: 100%|██████████| 20/20" in log_text
    assert "\x1b" not in log_text and "[0m" not in log_text
    box = found["box"]
    assert isinstance(box, dict) and 600 < box["width"] <= 1010 and box["height"] > 300

    from PIL import Image

    with Image.open(shot) as img:
        assert img.size[0] > 600
        colors = img.convert("RGB").getcolors(maxcolors=1 << 20) or []
        assert len(colors) > 50  # text, charts and badges, not a blank box


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        workspace = Workspace(str(Path(tmp) / "ws"))
        out = ROOT / "docs" / "img" / "widget.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        from runtrack.widgets._render import render

        run = demo_run(workspace)
        data = RunDetails(run).get_widget_data()
        # as shown while live (the test renders the plain .html)
        result = render_in_chromium(render(data, refresh={"active": True, "interval": 2}), out)
        for child in run.get_children():
            if child.get_status() == "Running":
                child.complete()
        run.complete()
        workspace.close()
    print(out, {k: v for k, v in result.items() if k != "log_text"}, file=sys.stderr)
