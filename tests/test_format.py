"""One rendering of a duration: runtrack._format (notebook HTML, widgets, pages, CLI) and the
pages' JavaScript ``formatDuration`` give the same text."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from runtrack import _format
from runtrack.model import RunInfo, RunStatus
from runtrack.server.pages import _templates

COMMON_JS = (
    Path(__file__).resolve().parents[1]
    / "src" / "runtrack" / "server" / "pages" / "static" / "js" / "common.js"
)
# no exact ties at the rounding digit: Python rounds them to even, JavaScript up
CASES = {
    0.0: "0 ms", 0.2504: "250 ms", 0.9994: "999 ms", 1.0: "1 s", 4.26: "4.3 s", 9.96: "10 s",
    10.4: "10 s", 42.0: "42 s", 59.4: "59 s", 60.0: "1m 00s", 187.9: "3m 07s",
    3599.0: "59m 59s", 3600.0: "1h 00m", 7500.0: "2h 05m", 86399.0: "23h 59m",
    86400.0: "1d 0h", 3 * 86400 + 4 * 3600 + 59.0: "3d 4h",
}


def test_duration_text() -> None:
    for seconds, text in CASES.items():
        assert _format.duration_text(seconds) == text, seconds
    assert _format.duration_text(None) == "—"
    assert _format.duration_text(None, empty="") == ""


def test_the_pages_use_it() -> None:
    for seconds, text in CASES.items():
        assert _templates.duration(seconds) == text
    assert _templates.duration(None) == ""


def test_the_pages_javascript_renders_the_same() -> None:
    node = shutil.which("node")
    if node is None:
        reason = "node is not installed (apt-get install nodejs)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; .ci/run installs it")
        pytest.skip(reason)
    script = (
        f"import {{ formatDuration }} from {json.dumps(COMMON_JS.as_uri())};\n"
        f"const cases = {json.dumps(list(CASES))};\n"
        "console.log(JSON.stringify(cases.map(formatDuration)));\n"
    )
    out = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == list(CASES.values())


def _run(status: RunStatus, start: float | None, end: float | None) -> RunInfo:
    return RunInfo(
        id="r", experiment_id="e", experiment_name="x", number=1, display_name="r",
        status=status, start_time=start, end_time=end, run_type="interactive",
        created_time=90.0,
    )


def test_run_seconds_counts_to_the_end_or_to_now() -> None:
    assert _format.run_seconds(_run(RunStatus.COMPLETED, 100.0, 142.0)) == 42.0
    assert _format.run_seconds(_run(RunStatus.RUNNING, 100.0, None), now=160.0) == 60.0
    assert _format.run_seconds(_run(RunStatus.NOT_STARTED, None, None)) is None


def test_time_text() -> None:
    assert _format.time_text(None) == "—" and _format.time_text(None, empty="") == ""
    assert len(_format.time_text(1_700_000_000.0)) == len("2023-11-14 22:13:20")
