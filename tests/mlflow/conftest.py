"""Fixtures for the MLflow-compatibility tests: the real ``mlflow`` client pointed at a
real ``runtrack server`` process.

The tests skip when ``mlflow`` is not installed (``pip install runtrack[mlflow]``),
except under CI=true, where a missing client is a failure. Retries are turned off so a
server bug fails fast instead of being replayed for minutes.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.components import hidden
from tests.live_server import LiveServer


def require(module: str, hint: str) -> None:
    """Skip (or, under CI=true, fail) when ``module`` is not importable."""
    reason = hidden("lightning") if module in ("torch", "lightning") else None
    if reason or importlib.util.find_spec(module) is None:
        message = reason or f"{module} is not installed ({hint})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI must install it (see .ci/run)")
        pytest.skip(message)


@pytest.fixture
def mlflow(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The ``mlflow`` module, tracking into ``live_server``, with no active run."""
    require("mlflow", "pip install 'runtrack[mlflow]'")
    import mlflow as client

    monkeypatch.setenv("MLFLOW_TRACKING_URI", live_server.url)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    monkeypatch.setenv("GIT_PYTHON_REFRESH", "quiet")
    client.set_tracking_uri(live_server.url)
    # the fluent API remembers the last set_experiment() in a module global
    client.tracking.fluent._active_experiment_id = None
    yield client
    while client.active_run() is not None:
        client.end_run()
    client.set_tracking_uri(None)  # type: ignore[arg-type]
