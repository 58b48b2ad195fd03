"""``ServerSettings``: everything ``runtrack server`` is configured with, as one value.

The CLI builds it from its options and hands it to :func:`runtrack.server.app.create_app`
(or, for several workers, to :func:`runtrack.server.serve`, which passes it to each
worker process by pickling the uvicorn config: no environment variables, no files).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class ServerSettings:
    """How one server runs.

    ``backend_store_uri``: ``sqlite:///…``, ``postgresql://…`` or a folder (SQLite file
    ``runtrack.db`` inside it). ``artifact_root``: a folder or an fsspec URL; default
    ``artifacts/`` beside the SQLite file (required for PostgreSQL).
    ``auth``: require bearer tokens on every route; tokens live hashed in
    ``token_file`` (default ``tokens.json`` beside the SQLite file).
    ``max_request_bytes``: largest accepted JSON body (uploads are streamed and not
    bounded by it).
    """

    backend_store_uri: str
    artifact_root: str
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1
    auth: bool = False
    token_file: Path | None = None
    max_request_bytes: int = 64 * 1024 * 1024
    log_level: str = "warning"

    @property
    def is_loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS or self.host.startswith("127.")

    @classmethod
    def for_uri(
        cls,
        backend_store_uri: str,
        artifact_root: str | None = None,
        token_file: Path | None = None,
        **options: object,
    ) -> ServerSettings:
        """Fill the defaults that depend on the backend (artifact root, token file)."""
        from runtrack.config import parse_uri
        from runtrack.errors import ConfigError

        parsed = parse_uri(backend_store_uri)
        uri, folder = parsed.uri, parsed.folder
        if artifact_root is None:
            if folder is None:
                raise ConfigError(
                    f"{uri.split('://')[0]} backends need --artifact-root (a folder or an "
                    "fsspec URL such as s3://bucket/prefix)"
                )
            artifact_root = str(folder / "artifacts")
        if token_file is None and folder is not None:
            token_file = folder / "tokens.json"
        return cls(uri, artifact_root, token_file=token_file, **options)  # type: ignore[arg-type]
