"""Fixtures of the UI tests: one server per module with known runs, a Chromium page that
records console errors (each test ends by asserting there were none)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import LiveServer, start_server
from tests.ui.browser import launch, missing_reason, require_browser

LOG_TEXT = (
    "starting\n"
    "\x1b[31mred words\x1b[0m and plain\n"
    " 10%|#         | 1/10\r 50%|#####     | 5/10\r100%|##########| 10/10\n"
    "UserWarning: something looks odd\n"
    "Traceback (most recent call last):\n"
    '  File "train.py", line 3, in <module>\n'
    "    boom()\n"
    "ValueError: bad value 42\n"
    "after the traceback\n"
)


@dataclass
class Seeded:
    """What :func:`seed` put into the server's workspace."""

    server: LiveServer
    experiment_id: str = ""
    runs: dict[str, str] = field(default_factory=dict)  # display name -> run id
    failed_id: str = ""
    kinds_id: str = ""


def seed(server: LiveServer, tmp: Path) -> Seeded:
    """Runs with known metrics, files, logs, a failed run and every metric kind."""
    from runtrack import Experiment, Workspace

    out = Seeded(server)
    ws = Workspace(str(server.workspace))
    try:
        exp = Experiment(ws, "ui-sweep")
        out.experiment_id = exp.id
        # loss maxima: a=5, b=9, c=7; last values order them differently (a < c < b reversed)
        shapes = {"a": [5, 1, 0.9], "b": [9, 3, 0.1], "c": [7, 2, 0.5]}
        for name, values in shapes.items():
            run = exp.start_logging(outputs=False, snapshot_directory=None,
                                    display_name=f"run-{name}", tags={"letter": name})
            for step, value in enumerate(values):
                run.log("loss", value, step=step)
                run.log("acc", 1 - value / 10, step=step)
            run.upload_file("outputs/model.txt", _text(tmp / f"{name}.txt", f"model {name}\n"))
            run.upload_file("logs/train.log", _text(tmp / f"{name}.log", LOG_TEXT))
            run.complete()
            out.runs[f"run-{name}"] = run.id
        failing = exp.start_logging(outputs=False, snapshot_directory=None,
                                    display_name="run-fails")
        try:
            with failing:
                raise RuntimeError("the data loader broke")
        except RuntimeError:
            pass
        out.failed_id = failing.id
        kinds = Experiment(ws, "ui-kinds").start_logging(outputs=False, snapshot_directory=None,
                                                         display_name="kinds")
        kinds.log("single", 3)
        for i in range(50):
            kinds.log("curve", i * i, step=i)
        kinds.log_list("fib", [0, 1, 1, 2, 3, 5])
        for i in range(5):
            kinds.log_row("wave", x=i, y=i * 2, z=i * 3)
        kinds.log_confusion_matrix("cm", {"schema_type": "confusion_matrix", "data": {
            "class_labels": ["a", "b"], "matrix": [[3, 1], [0, 4]]}})
        kinds.log_residuals("res", {"data": {"bin_edges": [0, 1, 2], "bin_counts": [3, 4]}})
        png = bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082"
        )
        kinds.log_image("pic", path=str(_bytes(tmp / "pic.png", png)))
        kinds.complete()
        out.kinds_id = kinds.id
    finally:
        ws.close()
    return out


def _text(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    if missing_reason() is not None:
        require_browser()
    tmp = tmp_path_factory.mktemp("ui")
    server = start_server(tmp)
    try:
        yield seed(server, tmp)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page; the test fails if the page logged a console error or threw."""
    context = browser.new_context(viewport={"width": 1300, "height": 850}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    yield page
    context.close()
    assert errors == [], f"the page logged errors: {errors}"
