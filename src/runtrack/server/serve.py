"""Run the app under uvicorn, with one or several worker processes.

Several workers need uvicorn's process supervisor, which normally re-imports the
app from an import string in each worker — and so would need the configuration
from the environment. Instead :class:`_RuntrackConfig` carries the
:class:`ServerSettings` value itself: the supervisor pickles the config into each
spawned worker, whose ``load()`` calls :func:`create_app` with it. Before starting
several workers, the database is opened (and migrated) once in the supervisor.
"""

from __future__ import annotations

import logging
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from runtrack.server.settings import ServerSettings

log = logging.getLogger("runtrack.server")


class _RuntrackConfig(uvicorn.Config):
    """A uvicorn config whose app is built from ``runtrack_settings`` at load time."""

    def __init__(self, settings: ServerSettings, **kwargs: Any) -> None:
        super().__init__(app="runtrack.server.app:create_app", **kwargs)
        self.runtrack_settings = settings

    def load(self) -> None:
        from runtrack.server.app import create_app

        self.app = create_app(self.runtrack_settings)
        super().load()


def serve(settings: ServerSettings) -> None:
    """Serve until interrupted (blocks)."""
    config = _RuntrackConfig(
        settings,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        access_log=settings.log_level in ("info", "debug", "trace"),
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    if settings.workers > 1:
        _prepare_database(settings)
        sock = config.bind_socket()
        Multiprocess(config, sockets=[sock]).run()
    else:
        server.run()


def _prepare_database(settings: ServerSettings) -> None:
    """Open the store once before the workers start, so the schema is created or
    upgraded by this one process (under the migration lock) and each worker finds it
    current; a database error is reported here, once, instead of by every worker."""
    from runtrack.store import open_store

    open_store(settings.backend_store_uri).close()
