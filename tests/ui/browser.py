"""Headless Chromium for the UI tests, the screenshots and the benchmark.

Debian's ``chromium`` package driven by Playwright for Python (never a downloaded
browser). :func:`launch_or_skip` skips a test with a clear reason when Chromium or
Playwright is missing, except under ``CI=true``, where it fails instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.components import hidden

CHROMIUM = os.environ.get("RUNTRACK_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    reason = hidden("chromium")
    if reason:
        return reason
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright (python) is not installed: pip install -e '.[dev]'"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium is not installed at {CHROMIUM}: apt-get install -y chromium"
    return None


def require_browser() -> None:
    reason = missing_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but the browser tests cannot run: {reason}")
    pytest.skip(reason)


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
