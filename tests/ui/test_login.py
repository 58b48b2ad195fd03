"""The login page of ``runtrack server --auth`` in Chromium: form, cookie, logout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from runtrack.cli import main
from tests.live_server import LiveServer, start_server
from tests.ui.browser import launch, require_browser


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    tmp = tmp_path_factory.mktemp("login")
    ws = tmp / "ws"
    out = CliRunner().invoke(main, ["token", "create", "--backend-store-uri", str(ws)])
    assert out.exit_code == 0, out.output
    server = start_server(tmp, "--auth", workspace=ws)
    yield server, out.output.strip()
    server.stop()


def test_pages_redirect_to_login_but_the_api_still_answers_401(
    auth_server: tuple[LiveServer, str],
) -> None:
    server, _ = auth_server
    page = httpx.get(f"{server.url}/runs?x=1", headers={"Accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fruns%3Fx%3D1"
    api = httpx.get(f"{server.api}/experiments", headers={"Accept": "text/html"})
    assert api.status_code == 401 and api.json()["error"]["code"] == "UNAUTHORIZED"
    assert httpx.get(f"{server.url}/runs").status_code == 401  # a script, not a browser


def test_login_never_redirects_off_site(auth_server: tuple[LiveServer, str]) -> None:
    server, token = auth_server
    for bad in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        done = httpx.post(f"{server.url}/login", data={"token": token, "next": bad})
        assert done.status_code == 303 and done.headers["location"] == "/"
    wrong = httpx.post(f"{server.url}/login", data={"token": "rt_wrong", "next": "/"})
    assert wrong.status_code == 401 and "not valid" in wrong.text
    assert "set-cookie" not in wrong.headers


def test_login_logout_in_chromium(auth_server: tuple[LiveServer, str]) -> None:
    require_browser()
    from playwright.sync_api import sync_playwright

    server, token = auth_server
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{server.url}/runs")
            assert page.url.startswith(f"{server.url}/login?next=")
            page.fill("#token", "rt_not-a-token")
            page.click("button[type=submit]")
            assert "not valid" in page.inner_text("[role=alert]")
            page.fill("#token", token)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server.url}/runs")
            assert "sign in" not in page.title()
            (cookie,) = [c for c in context.cookies() if c["name"] == "runtrack_token"]
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
            assert cookie["value"] == token
            assert "runtrack_token" not in page.evaluate("document.cookie")
            page.goto(f"{server.url}/logout")
            assert "signed out" in page.inner_text("[role=alert]")
            assert not [c for c in context.cookies() if c["name"] == "runtrack_token"]
            page.goto(f"{server.url}/experiments")
            assert page.url.startswith(f"{server.url}/login")
        finally:
            browser.close()


def test_login_page_needs_no_other_route(tmp_path: Path) -> None:
    """The form is self-contained: it loads with auth on and no token at all."""
    server = start_server(tmp_path, "--auth")
    try:
        form = httpx.get(f"{server.url}/login")
        assert form.status_code == 200 and 'name="token"' in form.text
        assert "<link" not in form.text and "<script" not in form.text
    finally:
        server.stop()
