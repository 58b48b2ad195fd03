"""Open the stores a workspace URI names: the scheme -> implementation registry.

``import runtrack.store`` stays cheap: SQLAlchemy, fsspec and httpx are imported only
inside :func:`open_store` / :func:`open_artifacts`, by the implementation chosen.

* ``sqlite:///path.db``, ``postgresql://…`` -> :class:`runtrack.store.sql.SqlStore`
* ``http(s)://host:port`` -> ``runtrack.store.rest.RestStore``
* a plain folder path -> SQLite file ``runtrack.db`` inside it
* ``memory://`` (new and empty), ``memory://NAME`` (one per name and process) ->
  :class:`runtrack.store.memory.MemoryStore`
"""

from __future__ import annotations

import importlib
from typing import Any

from runtrack.config import MEMORY_PREFIX, parse_uri
from runtrack.errors import ConfigError
from runtrack.store.base import ArtifactStore, TrackingStore

__all__ = ["ArtifactStore", "TrackingStore", "open_artifacts", "open_store"]


def open_store(uri: str, **options: Any) -> TrackingStore:
    """The :class:`TrackingStore` for ``uri``; ``options`` go to a RestStore (e.g. token).

    ConfigError names what to fix when the URI is not understood or its
    implementation is not available.
    """
    parsed = parse_uri(uri)
    if parsed.kind == "http":
        try:
            rest = importlib.import_module("runtrack.store.rest")
        except ModuleNotFoundError as exc:
            if exc.name not in ("runtrack.store.rest", "httpx"):
                raise
            raise ConfigError(
                f"cannot open {uri}: talking to a runtrack server needs runtrack.store.rest "
                f"and httpx ({exc.name} is missing); install runtrack[server] or use a "
                "local workspace"
            ) from exc
        store: TrackingStore = rest.RestStore(uri, **options)
        return store
    if parsed.kind == "memory":
        from runtrack.store.memory import MemoryStore

        return MemoryStore(uri[len(MEMORY_PREFIX) :] or None)
    from runtrack.store.sql import SqlStore

    return SqlStore(parsed.uri)


def open_artifacts(root: str) -> ArtifactStore:
    """A folder path -> LocalArtifactStore; a URL with a scheme -> FsspecArtifactStore."""
    from runtrack.store.artifacts import FsspecArtifactStore, LocalArtifactStore

    if root.startswith("file://"):
        return LocalArtifactStore(root[len("file://") :])
    if "://" in root:
        try:
            return FsspecArtifactStore(root)
        except ImportError as exc:
            scheme = root.split("://", 1)[0]
            hint = _FSSPEC_PACKAGES.get(scheme, f"the fsspec package for {scheme}://")
            raise ConfigError(
                f"artifact root {root} needs {hint}, which is not installed ({exc}): "
                f"pip install {hint.split()[0] if scheme in _FSSPEC_PACKAGES else 'fsspec'}"
            ) from exc
    return LocalArtifactStore(root)


_FSSPEC_PACKAGES = {"s3": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "abfs": "adlfs", "az": "adlfs"}
