"""Screenshots of every page for docs/ui.md: ``python -m tests.ui.screenshots URL OUTDIR``.

URL is a server over a demo workspace (``runtrack demo``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from tests.ui.browser import launch


def main(url: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    runs = httpx.get(f"{url}/api/v1/views/runs", params={"per_page": 200}).json()["runs"]
    interactive = next(r for r in runs if r["run_type"] == "interactive")
    failed = next((r for r in runs if r["status"] == "Failed"), None)
    sweep = next(r for r in runs if r["experiment_name"] == "alpha-sweep")
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 860}, device_scale_factor=1)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{url}/experiments")
        page.screenshot(path=str(out / "experiments.png"))
        page.goto(f"{url}/runs?col=metric:mse:last&col=metric:mse:max&col=tag:alpha"
                  "&sort=-metric:mse:max")
        page.screenshot(path=str(out / "runs.png"))
        page.goto(f"{url}/experiments/{sweep['experiment_id']}?col=metric:val_mse:min"
                  "&col=tag:alpha&sort=metric:val_mse:min")
        for box in page.locator(".pick-run").all()[:4]:
            box.check()
        page.click("#compare-btn")
        page.locator("#metric-picks input[value='val_mse']").check()
        page.locator("#log-y").check()
        page.wait_for_selector("#compare-chart[data-drawn=uplot] canvas", timeout=60000)
        page.wait_for_timeout(800)
        page.screenshot(path=str(out / "compare.png"), full_page=True)
        page.goto(f"{url}/runs/{interactive['id']}#overview")
        page.screenshot(path=str(out / "run-overview.png"))
        page.goto(f"{url}/runs/{interactive['id']}#metrics")
        page.wait_for_timeout(2500)
        page.screenshot(path=str(out / "run-metrics.png"), full_page=True)
        page.goto(f"{url}/runs/{interactive['id']}#images")
        page.wait_for_timeout(800)
        page.screenshot(path=str(out / "run-images.png"))
        if failed:
            page.goto(f"{url}/runs/{failed['id']}#overview")
            page.screenshot(path=str(out / "run-failed.png"))
            page.goto(f"{url}/runs/{failed['id']}#outputs")
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "run-logs.png"))
        page.goto(f"{url}/experiments/{sweep['experiment_id']}?q=alpha&col=metric:val_mse:min"
                  "&col=tag:alpha&sort=metric:val_mse:min")
        page.screenshot(path=str(out / "runs-search.png"))
        page.goto(f"{url}/runs?per_page=4&col=metric:val_mse:min")
        page.check("#select-all")
        page.click("#select-matching button")
        page.wait_for_selector("#select-matching:has-text('matching the filter are selected')")
        page.wait_for_timeout(300)
        page.screenshot(path=str(out / "runs-select-all.png"))
        dark = browser.new_page(viewport={"width": 1400, "height": 860}, color_scheme="dark")
        dark.goto(f"{url}/runs/{interactive['id']}#metrics")
        dark.wait_for_timeout(2500)
        dark.screenshot(path=str(out / "run-metrics-dark.png"))
        narrow = browser.new_page(viewport={"width": 420, "height": 860})
        narrow.goto(f"{url}/experiments/{sweep['experiment_id']}?col=metric:val_mse:min")
        narrow.screenshot(path=str(out / "runs-narrow.png"))
        browser.close()
    if errors:
        print("console errors:", *errors, sep="\n  ")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), Path(sys.argv[2]))
