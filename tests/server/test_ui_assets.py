"""The pages' static files and Plotly.js: gzip on the wire, immutable versioned URLs."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.live_server import LiveServer, start_server

GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("assets"))
    try:
        yield live
    finally:
        live.stop()


def _page_urls(server: LiveServer) -> dict[str, str]:
    html = httpx.get(f"{server.url}/runs").text
    css = re.search(r'href="(/assets/[0-9a-f]{12}/css/app\.css)"', html)
    script = re.search(r'src="(/assets/[0-9a-f]{12}/js/runs_page\.js)"', html)
    plotly = re.search(r'name="runtrack-plotly" content="(/vendor/[0-9a-f]{12}/plotly\.min\.js)"',
                       html)
    assert css and script and plotly, html[:2000]
    return {"css": css[1], "script": script[1], "plotly": plotly[1]}


def test_pages_link_versioned_assets_cached_for_good(server: LiveServer) -> None:
    urls = _page_urls(server)
    for url in urls.values():
        answer = httpx.get(server.url + url, headers=GZIP)
        assert answer.status_code == 200, url
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert answer.headers["content-encoding"] == "gzip"
    # the module a page script imports lives under the same version
    version = urls["script"].split("/")[2]
    common = httpx.get(f"{server.url}/assets/{version}/js/common.js", headers=GZIP)
    assert common.status_code == 200 and "export async function getJSON" in common.text


def test_plotly_travels_compressed(server: LiveServer) -> None:
    url = server.url + _page_urls(server)["plotly"]
    packed = httpx.get(url, headers=GZIP)
    raw = httpx.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert packed.content == raw.content  # httpx decoded the gzip body
    on_wire = int(packed.headers["content-length"])
    assert on_wire < len(raw.content) * 0.4, (on_wire, len(raw.content))


def test_etag_revalidation_and_stable_urls(server: LiveServer) -> None:
    first = httpx.get(f"{server.url}/static/js/common.js", headers=GZIP)
    assert first.headers["cache-control"] == "no-cache"
    again = httpx.get(f"{server.url}/static/js/common.js",
                      headers={**GZIP, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    old = httpx.get(f"{server.url}/assets/000000000000/js/common.js")
    assert old.status_code == 200 and old.headers["cache-control"] == "no-cache"
    assert httpx.get(f"{server.url}/vendor/plotly.min.js").status_code == 200


def test_no_file_outside_the_static_folder(server: LiveServer) -> None:
    version = _page_urls(server)["script"].split("/")[2]
    for path in ("js/nope.js", "%2e%2e/_assets.py", "..%2f..%2fpages%2f_assets.py"):
        answer = httpx.get(f"{server.url}/assets/{version}/{path}")
        assert answer.status_code == 404, path
        assert "STATIC" not in answer.text


def test_vendored_uplot_is_linked_compressed_and_immutable(server: LiveServer) -> None:
    html = httpx.get(f"{server.url}/runs").text
    script = re.search(
        r'name="runtrack-uplot" content="(/assets/[0-9a-f]{12}/vendor/uplot/uPlot\.iife\.min\.js)"',
        html)
    css = re.search(r'href="(/assets/[0-9a-f]{12}/vendor/uplot/uPlot\.min\.css)"', html)
    assert script and css, html[:2000]
    for url in (script[1], css[1]):
        answer = httpx.get(server.url + url, headers=GZIP)
        assert answer.status_code == 200, url
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert answer.headers["content-encoding"] == "gzip"
    packed = httpx.get(server.url + script[1], headers=GZIP)
    assert "uPlot" in packed.text and int(packed.headers["content-length"]) < 30_000
    # its licence travels with it
    version = script[1].split("/")[2]
    licence = httpx.get(f"{server.url}/assets/{version}/vendor/uplot/LICENSE")
    assert licence.status_code == 200 and "MIT" in licence.text
