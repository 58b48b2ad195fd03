"""The public surface is curated: this test pins ``runtrack.__all__``."""

from __future__ import annotations

import runtrack

EXPECTED = [
    "Artifact",
    "ArtifactExistsError",
    "CondaDependencies",
    "ConfigError",
    "ConflictError",
    "Environment",
    "Experiment",
    "ImageArtifact",
    "InvalidTypeError",
    "InvalidValueError",
    "JsonArtifact",
    "LimitExceededError",
    "MetricKind",
    "MpiConfiguration",
    "NotFoundError",
    "OfflineRun",
    "PropertyConflictError",
    "PyTorchConfiguration",
    "Run",
    "RunConfiguration",
    "RunFailedError",
    "RunStateError",
    "RunStatus",
    "RuntrackError",
    "ScriptRunConfig",
    "StoreUnavailableError",
    "VERSION",
    "Workspace",
    "__version__",
]


def test_all_is_pinned() -> None:
    assert sorted(runtrack.__all__) == sorted(EXPECTED)


def test_every_name_in_all_exists() -> None:
    for name in runtrack.__all__:
        assert getattr(runtrack, name) is not None, name


def test_errors_subclass_matching_builtins() -> None:
    assert issubclass(runtrack.InvalidValueError, ValueError)
    assert issubclass(runtrack.InvalidTypeError, TypeError)
    assert issubclass(runtrack.NotFoundError, LookupError)
    assert issubclass(runtrack.LimitExceededError, runtrack.InvalidValueError)
