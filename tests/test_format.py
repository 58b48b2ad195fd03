"""One rendering of a duration and of a number: runtrack._format (notebook HTML, widgets,
pages, CLI) and the pages' JavaScript ``formatDuration`` / ``formatNumber`` give the same
text."""

from __future__ import annotations

import json
import math
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


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        reason = "node is not installed (apt-get install nodejs)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; .ci/run installs it")
        pytest.skip(reason)
    return node


def test_the_pages_javascript_renders_the_same() -> None:
    node = _node()
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


# value -> text; JSON carries each to the JavaScript twin (nan/inf/-0.0 by name, see _js_value)
NUMBERS: list[tuple[object, str]] = [
    (None, "—"), (True, "True"), (False, "False"), ("text", "text"),
    (0, "0"), (0.0, "0"), (-0.0, "0"), (7, "7"), (-7, "-7"), (3.0, "3"), (1234, "1,234"),
    (-1234567, "-1,234,567"), (999_999_999_999_999, "999,999,999,999,999"),
    (10**15, "1e15"), (2**63 - 1, "9.223e18"), (-(2**63), "-9.223e18"), (1e300, "1e300"),
    (0.5, "0.5"), (0.1234567, "0.1235"), (3.14159, "3.142"), (-2.71828, "-2.718"),
    (0.15000000000000002, "0.15"), (512.34, "512.3"), (999.96, "1,000"), (1234.5678, "1,235"),
    (-98765.4321, "-98,765"), (123456789.123, "123,456,789"), (0.001, "0.001"),
    (0.0012345, "0.001234"), (0.000999, "9.99e-4"), (1e-5, "1e-5"), (1.5e-5, "1.5e-5"),
    (-2.5e-7, "-2.5e-7"), (1.23456e-300, "1.235e-300"), (5e-324, "4.941e-324"),
    (float("nan"), "nan"), (float("inf"), "inf"), (float("-inf"), "-inf"),
]


def test_format_number() -> None:
    for value, text in NUMBERS:
        assert _format.format_number(value) == text, value
    assert _format.format_number(None, empty="") == ""


def _js_value(value: object) -> str:
    """A JavaScript expression for ``value`` (JSON has no NaN, infinities or -0)."""
    if isinstance(value, float) and (value != value or value in (math.inf, -math.inf)):
        return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[str(value)]
    if isinstance(value, float) and value == 0 and math.copysign(1, value) < 0:
        return "-0"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return repr(float(value))  # what a JSON number this big becomes in JavaScript
    return json.dumps(value)


def test_the_pages_javascript_formats_numbers_the_same() -> None:
    node = _node()
    values = ", ".join(_js_value(v) for v, _ in NUMBERS)
    script = (
        f"import {{ formatNumber }} from {json.dumps(COMMON_JS.as_uri())};\n"
        f"console.log(JSON.stringify([{values}].map((v) => formatNumber(v))));\n"
    )
    out = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == [text for _, text in NUMBERS]


def test_run_seconds_counts_to_the_end_or_to_now() -> None:
    assert _format.run_seconds(_run(RunStatus.COMPLETED, 100.0, 142.0)) == 42.0
    assert _format.run_seconds(_run(RunStatus.RUNNING, 100.0, None), now=160.0) == 60.0
    assert _format.run_seconds(_run(RunStatus.NOT_STARTED, None, None)) is None


def test_time_text() -> None:
    assert _format.time_text(None) == "—" and _format.time_text(None, empty="") == ""
    assert len(_format.time_text(1_700_000_000.0)) == len("2023-11-14 22:13:20")
