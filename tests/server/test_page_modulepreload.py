"""The runs page names every module script it runs in ``<link rel=modulepreload>``, so
the browser fetches them at once instead of one import level after another; and it
preloads uPlot's script, which the compare chart runs when it first draws."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx

from runtrack import Experiment, Workspace
from runtrack.server.app import create_app
from runtrack.server.pages._assets import STATIC, asset
from runtrack.server.settings import ServerSettings

IMPORT = re.compile(r'^import [^;]*? from "\./([\w.]+)";', re.MULTILINE)


def _imported(module: str, seen: set[str] | None = None) -> set[str]:
    """``module`` and every module it imports, transitively (static/js file names)."""
    seen = set() if seen is None else seen
    seen.add(module)
    for name in IMPORT.findall((STATIC / "js" / module).read_text()):
        if name not in seen:
            _imported(name, seen)
    return seen


def test_the_runs_page_preloads_its_whole_module_graph(tmp_path: Path) -> None:
    ws = Workspace(str(tmp_path / "ws"))
    exp = Experiment(ws, "pre")
    ws.close()
    app = create_app(ServerSettings.for_uri(str(tmp_path / "ws")))
    wanted = {asset(f"js/{m}") for m in _imported("runs_page.js")}

    async def check() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            for path in ("/runs", f"/experiments/{exp.id}"):
                html = (await c.get(path)).text
                preloaded = set(re.findall(r'<link rel="modulepreload" href="([^"]+)">', html))
                assert preloaded == wanted
                assert f'<script type="module" src="{asset("js/runs_page.js")}">' in html
                # uPlot is fetched with the page (run only when a chart first draws)
                uplot = asset("vendor/uplot/uPlot.iife.min.js")
                assert f'<link rel="preload" as="script" href="{uplot}">' in html
            for url in wanted:
                assert (await c.get(url)).status_code == 200

    try:
        asyncio.run(check())
    finally:
        app.state.store.close()
