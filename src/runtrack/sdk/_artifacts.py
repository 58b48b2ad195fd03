"""Artifact references returned by ``get_metrics()`` for image and JSON metrics.

A reference names the run and the artifact path: ``runtrack://runs/<run id>/artifacts/<path>``.
``download_file`` accepts it as well as a plain path.
"""

from __future__ import annotations

import json
from typing import Any

from runtrack.store.base import ArtifactStore

PREFIX = "runtrack://runs/"


def artifact_ref(run_id: str, path: str) -> str:
    return f"{PREFIX}{run_id}/artifacts/{path}"


def parse_ref(ref: str) -> tuple[str, str] | None:
    """(run id, path) of a reference, or None if ``ref`` is not one."""
    if not ref.startswith(PREFIX) or "/artifacts/" not in ref:
        return None
    run_id, path = ref[len(PREFIX) :].split("/artifacts/", 1)
    return run_id, path


class Artifact:
    """A logged artifact behind a metric (``get_metrics(populate=True)``)."""

    def __init__(self, artifacts: ArtifactStore, run_id: str, path: str) -> None:
        self._artifacts = artifacts
        self.run_id = run_id
        self.path = path
        self.data_location = artifact_ref(run_id, path)
        self._data: bytes | None = None

    @property
    def data(self) -> bytes:
        if self._data is None:
            with self._artifacts.open(self.run_id, self.path) as fh:
                self._data = fh.read()
        return self._data

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.data_location!r})"


class ImageArtifact(Artifact):
    """An image logged with ``log_image``."""


class JsonArtifact(Artifact):
    """A confusion matrix, accuracy table, residuals or predictions document."""

    def convert_to_object(self) -> Any:
        return json.loads(self.data)
