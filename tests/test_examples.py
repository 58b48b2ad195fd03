"""The logging walkthrough logs the seed's examples and reads back the reference's shapes."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_logging_api_example_shapes(capsys: pytest.CaptureFixture[str]) -> None:
    metrics = _load("logging_api").main()
    assert metrics["Category"] == "Red"
    assert metrics["scale factor"] == 2
    assert metrics["Magic Number"] == 84
    assert metrics["Fibonacci"] == [0, 2, 2, 4, 6, 10, 16, 26, 42, 68, 110, 178]
    sigmoid = metrics["Sigmoid"]
    assert len(sigmoid) == 20 and all(type(v) is float for v in sigmoid)
    assert sigmoid[0] == pytest.approx(4.5397868702434395e-05)
    assert sigmoid[-1] == pytest.approx(0.9998766054240137)
    cosine = metrics["Cosine Wave"]
    assert list(cosine) == ["angle", "cos"]
    assert cosine["angle"] == [i / 2.0 * 2 for i in range(-10, 10)]
    assert cosine["cos"] == [math.cos(a) for a in cosine["angle"]]
    sine = metrics["Sine Wave"]
    assert sine["sine"] == [math.sin(a) for a in sine["angle"]] and len(sine["angle"]) == 20
    tanh = metrics["Hyperbolic Tangent"]
    assert tanh.startswith("runtrack://runs/") and "/artifacts/Hyperbolic Tangent_" in tanh
    assert tanh.endswith(".png")
    assert metrics["tanh file"].endswith("/artifacts/tanh.png")
    assert metrics["confusion"].endswith("/artifacts/confusion")
    out = capsys.readouterr().out
    assert "is Completed" in out and "logging-api/myfile.txt" in out
    assert "'My Favorite Run': None" in out and "'Competition Rank': '1'" in out
