"""``Workspace``: where experiments and runs live (a local folder, a database or a server)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from runtrack import config
from runtrack.config import Settings
from runtrack.store import open_artifacts, open_store
from runtrack.store.base import ArtifactStore, TrackingStore

log = logging.getLogger("runtrack")


class Workspace:
    """A runtrack workspace.

    ``Workspace()`` resolves the location as described in ``runtrack.config``
    (argument > ``RUNTRACK_TRACKING_URI`` > config file > ``./.runtrack``).
    ``Workspace("path/to/folder")``, ``Workspace("sqlite:///x.db")``,
    ``Workspace("postgresql://…", artifact_root=…)`` and ``Workspace("http://host:port")``
    name a location explicitly. The Azure keyword arguments (``subscription_id``,
    ``resource_group``, ``workspace_name``) are accepted and kept as attributes.
    """

    def __init__(
        self,
        uri: str | None = None,
        *,
        artifact_root: str | None = None,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        workspace_name: str | None = None,
        location: str | None = None,
        _settings: Settings | None = None,
        **_ignored: Any,
    ) -> None:
        self._settings = _settings or config.resolve(uri, artifact_root=artifact_root)
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.location = location or "local"
        self._name = workspace_name or self._settings.name
        remote = {"token": self._settings.token} if self._settings.is_remote else {}
        self._store: TrackingStore = open_store(self._settings.tracking_uri, **remote)
        root = self._settings.artifact_root
        # A server owns its files: its RestStore hands out the matching ArtifactStore.
        self._artifacts: ArtifactStore = (
            open_artifacts(root) if root is not None else self._store.artifacts  # type: ignore[attr-defined]
        )
        self._ship_leftovers()

    @classmethod
    def from_config(
        cls, path: str | None = None, auth: Any = None, _file_name: str | None = None
    ) -> Workspace:
        """The workspace named by the nearest config file from ``path`` (default: cwd)
        upward; with none found, the local default."""
        start = Path(path) if path else None
        found = config.find_config(start)
        settings = config.resolve(config_path=found) if found else config.resolve()
        return cls(_settings=settings)

    def _ship_leftovers(self) -> None:
        from runtrack.spool.sync import ship_leftovers

        try:
            for item in ship_leftovers(self._store, self._settings.spool_dir):
                if item.points > 0:
                    log.info("runtrack: recovered %d points of run %s", item.points, item.run_id)
        except Exception as exc:  # recovery must never stop a workspace from opening
            log.warning("runtrack: could not ship leftover spools yet: %s", exc)

    @property
    def name(self) -> str:
        return self._name

    @property
    def tracking_uri(self) -> str:
        return self._settings.tracking_uri

    @property
    def experiments(self) -> dict[str, Any]:
        """Experiment name -> Experiment."""
        from runtrack.sdk.experiment import Experiment

        return {
            info.name: Experiment(self, info.name, _info=info)
            for info in self._store.list_experiments()
        }

    @property
    def models(self) -> dict[str, Any]:
        """Model name -> its latest :class:`runtrack.sdk.models.Model`."""
        from runtrack.sdk.models import Model

        return {m.name: m for m in Model.list(self, latest=True)}

    @property
    def datasets(self) -> dict[str, Any]:
        """Dataset name -> its latest registered version."""
        from runtrack.sdk.datasets import Dataset

        return Dataset.get_all(self)

    def get_default_datastore(self) -> Any:
        """The workspace's default :class:`runtrack.sdk.datasets.Datastore`."""
        from runtrack.sdk.datasets import Datastore

        return Datastore(self)

    @property
    def datastores(self) -> dict[str, Any]:
        """Datastore name -> Datastore (the default one)."""
        store = self.get_default_datastore()
        return {store.name: store}

    def get_mlflow_tracking_uri(self) -> str:
        """The URI MLflow clients log to so their runs land in this workspace.

        For a server workspace (``http(s)://``) it is the server's URL: the server
        answers MLflow's REST API (see docs/mlflow.md). A local folder or database has
        no server, so this raises ConfigError saying how to start one.
        """
        from runtrack.errors import ConfigError

        if self._settings.is_remote:
            return self._settings.tracking_uri.rstrip("/")
        raise ConfigError(
            f"workspace {self.tracking_uri!r} is not served over HTTP, and MLflow clients "
            "log only to a server: run 'runtrack server --backend-store-uri <this workspace>' "
            "and use Workspace('http://127.0.0.1:5000') (or set MLFLOW_TRACKING_URI to that "
            "URL)"
        )

    def get_run(self, run_id: str) -> Any:
        from runtrack.sdk.run import Run

        return Run.get(self, run_id)

    def _ui_base(self) -> str:
        if self._settings.is_remote:
            return self._settings.tracking_uri
        return f"file://{Path(self._settings.spool_dir).parent}"

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace(name={self.name!r}, uri={self.tracking_uri!r})"
