"""Files whose names no path can address (put into a run's folder by hand or another tool):
listing, the /archive zip and ``runtrack download`` leave them out and never crash."""

from __future__ import annotations

import asyncio
import io
import os
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from runtrack.cli import main
from runtrack.model import NewRun, RunStatus
from runtrack.server.app import create_app
from runtrack.server.settings import ServerSettings
from runtrack.store.base import is_safe_path

RUN = "names-run"
UNSAFE = ["..\\..\\evil.txt", "a\\b.txt", "..\\evil-dir\\x.txt"]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    app = create_app(ServerSettings.for_uri(str(ws)))
    store = app.state.store
    exp = store.get_or_create_experiment("names")
    store.create_run(NewRun(exp.id, RUN, display_name="n", run_type="script",
                     status=RunStatus.COMPLETED))
    app.state.artifacts.put(RUN, "outputs/good.txt", b"good")
    store.close()
    folder = ws / "artifacts" / RUN
    for name in UNSAFE:
        (folder / name).write_text("evil")
    os.close(os.open(os.fsencode(folder) + b"/img_\xff.png", os.O_CREAT | os.O_WRONLY, 0o644))
    return ws


def test_listing_leaves_out_unaddressable_names(workspace: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(ServerSettings.for_uri(str(workspace)))
    try:
        listed = [a.path for a in app.state.artifacts.list(RUN)]
    finally:
        app.state.store.close()
    assert listed == ["outputs/good.txt"]
    assert "evil.txt" in caplog.text


def test_archive_holds_only_safe_members(workspace: Path) -> None:
    app = create_app(ServerSettings.for_uri(str(workspace)))

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.get(f"/api/v1/runs/{RUN}/archive")

    try:
        answer = asyncio.run(go())
    finally:
        app.state.store.close()
    assert answer.status_code == 200
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        assert archive.namelist() == ["outputs/good.txt"]
        assert archive.read("outputs/good.txt") == b"good"


@pytest.mark.parametrize("as_zip", [False, True])
def test_download_skips_unsafe_names(workspace: Path, tmp_path: Path, as_zip: bool) -> None:
    out = tmp_path / "deep" / "down"
    target = ["--zip", str(tmp_path / "run.zip")] if as_zip else ["-o", str(out)]
    result = CliRunner().invoke(main, ["download", RUN, "--uri", str(workspace), *target])
    assert result.exit_code == 0, result.output
    if as_zip:
        with zipfile.ZipFile(tmp_path / "run.zip") as archive:
            assert all(is_safe_path(name) for name in archive.namelist())
            assert archive.namelist() == ["outputs/good.txt"]
    else:
        written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
                         if p.is_file() and "ws" not in p.parts)
        assert written == ["deep/down/outputs/good.txt"]


@pytest.mark.parametrize("path, safe", [
    ("a/b.txt", True), ("outputs/ü.png", True), ("..\\..\\evil.txt", False), ("a\\b", False),
    ("../x", False), ("/etc/passwd", False), ("a//b", False), ("./a", False), ("C:x", False),
    ("x/..", False), ("a\x00", False), ("img_\udcff.png", False), ("", False),
])
def test_is_safe_path(path: str, safe: bool) -> None:
    assert is_safe_path(path) is safe


def test_zip_of_safe_members_is_read_back_by_python(workspace: Path, tmp_path: Path) -> None:
    """The archive the CLI writes extracts inside the target folder."""
    CliRunner().invoke(main, ["download", RUN, "--uri", str(workspace), "--zip",
                              str(tmp_path / "r.zip")])
    into = tmp_path / "extract"
    with zipfile.ZipFile(tmp_path / "r.zip") as archive:
        archive.extractall(into)
    files: list[Any] = [p.relative_to(into).as_posix() for p in into.rglob("*") if p.is_file()]
    assert files == ["outputs/good.txt"]
