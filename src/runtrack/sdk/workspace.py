"""``Workspace``: where experiments and runs live (a local folder, a database or a server)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from runtrack import config
from runtrack.config import Settings
from runtrack.errors import ConfigError
from runtrack.store import open_artifacts, open_store
from runtrack.store.base import ArtifactStore, ServesArtifacts, TrackingStore

if TYPE_CHECKING:
    from runtrack.catalog import ComputeTargetInfo

log = logging.getLogger("runtrack")
#: MLflow's own SQLite store next to a local workspace (get_mlflow_tracking_uri)
MLFLOW_DB = "mlflow.db"


class Workspace:
    """A runtrack workspace.

    ``Workspace()`` resolves the location as described in ``runtrack.config``
    (argument > ``RUNTRACK_TRACKING_URI`` > config file > ``./.runtrack``).
    ``Workspace("path/to/folder")``, ``Workspace("sqlite:///x.db")``,
    ``Workspace("postgresql://…", artifact_root=…)`` and ``Workspace("http://host:port")``
    name a location explicitly. The Azure arguments (``subscription_id``,
    ``resource_group``, ``workspace_name``, ``location``) are kept as attributes; Azure's
    positional form ``Workspace(subscription_id, resource_group, workspace_name)`` (a
    resource group given, no ``subscription_id=``) resolves the location as
    ``Workspace()`` does.

    Below the Azure face, ``store`` (a :class:`~runtrack.store.base.TrackingStore`),
    ``artifacts`` (an :class:`~runtrack.store.base.ArtifactStore`) and ``settings`` (the
    resolved :class:`~runtrack.config.Settings`) are public: the CLI, the widgets and
    tools built on runtrack read and write through them.
    """

    def __init__(
        self,
        uri: str | os.PathLike[str] | None = None,
        resource_group: str | None = None,
        workspace_name: str | None = None,
        auth: Any = None,
        _location: str | None = None,
        *,
        artifact_root: str | None = None,
        subscription_id: str | None = None,
        location: str | None = None,
        _settings: Settings | None = None,
        _lazy_store: bool = False,
        **_ignored: Any,
    ) -> None:
        where = os.fspath(uri) if isinstance(uri, os.PathLike) else uri  # a Path: a folder
        if resource_group is not None and subscription_id is None:
            # Azure's positional form Workspace(subscription_id, resource_group, name):
            # the location then resolves as for Workspace() (variable > config > default).
            subscription_id, where = where, None
        self.settings = _settings or config.resolve(where, artifact_root=artifact_root)
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.location = location or _location or "local"
        self._name = workspace_name or self.settings.name
        remote = {"token": self.settings.token} if self.settings.is_remote else {}
        uri = self.settings.tracking_uri
        root = self.settings.artifact_root
        if _lazy_store:  # a submitted script's: opened when first used (sdk._lazy_store)
            from runtrack.sdk._lazy_store import LazyStore

            lazy = LazyStore(lambda: open_store(uri, **remote))
            self.store: TrackingStore = cast(TrackingStore, lazy)
            self.artifacts: ArtifactStore = (
                open_artifacts(root) if root is not None
                else cast(ArtifactStore, LazyStore(lambda: lazy.artifacts))
            )
        else:
            self.store = open_store(uri, **remote)
            # A server owns its files: its RestStore hands out the matching ArtifactStore.
            if root is not None:
                self.artifacts = open_artifacts(root)
            elif isinstance(self.store, ServesArtifacts):
                self.artifacts = self.store.artifacts
            else:
                raise ConfigError(
                    f"{uri} keeps no files: give an artifact_root "
                    "(a folder or an object store URI) beside a database URI"
                )
        file = config.read_config(self.settings.config_path) if self.settings.config_path else {}
        self._target_kinds: dict[str, str] = {}
        for target, kind in dict(file.get("compute_targets") or {}).items():  # type: ignore[call-overload]
            self.map_compute_target(str(target), kind)
        ui = file.get("ui_url")
        self._ui_url = str(ui).rstrip("/") if ui else None
        if not _lazy_store:  # a submitted script's own spool is shipped by its supervisor
            self._ship_leftovers()

    @classmethod
    def from_config(
        cls, path: str | None = None, auth: Any = None, _file_name: str | None = None
    ) -> Workspace:
        """The workspace named by the nearest config file from ``path`` (default: cwd)
        upward; with none found, the local default.

        ``RUNTRACK_TRACKING_URI``, when set, names the location even if a file is found
        (a submitted run whose snapshot holds ``config.json`` logs where it was sent);
        the file still supplies the name and the Azure fields (``subscription_id``,
        ``resource_group``, ``location``).
        """
        start = Path(path) if path else None
        found = config.find_config(start)
        if found is None:
            return cls(_settings=config.resolve())
        data = config.read_config(found)

        def field(key: str) -> str | None:
            value = data.get(key)
            return str(value) if value is not None else None

        return cls(
            _settings=config.resolve(config_path=found),
            subscription_id=field("subscription_id"),
            resource_group=field("resource_group"),
            location=field("location"),
        )

    @classmethod
    def get(
        cls,
        name: str,
        auth: Any = None,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        location: str | None = None,
        **_ignored: Any,
    ) -> Workspace:
        """Azure's ``Workspace.get(name, ...)``: the workspace at the resolved location
        (``RUNTRACK_TRACKING_URI`` > config file > ``./.runtrack``), named ``name``."""
        return cls(
            subscription_id=subscription_id,
            resource_group=resource_group,
            workspace_name=name,
            location=location,
        )

    def _ship_leftovers(self) -> None:
        from runtrack.spool.sync import ship_leftovers

        try:
            spool = self.settings.spool_dir
            for item in ship_leftovers(self.store, spool, artifacts=self.artifacts):
                if item.points > 0:
                    log.info("runtrack: recovered %d points of run %s", item.points, item.run_id)
        except Exception as exc:  # recovery must never stop a workspace from opening
            log.warning("runtrack: could not ship leftover spools yet: %s", exc)

    @property
    def name(self) -> str:
        return self._name

    @property
    def tracking_uri(self) -> str:
        return self.settings.tracking_uri

    @property
    def experiments(self) -> dict[str, Any]:
        """Experiment name -> Experiment."""
        from runtrack.sdk.experiment import Experiment

        return {
            info.name: Experiment(self, info.name, _info=info)
            for info in self.store.list_experiments()
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

        A server workspace (``http(s)://``): the server's URL (it answers MLflow's REST
        API, see docs/mlflow.md), so MLflow runs land in this workspace. A local
        workspace: ``sqlite:///<workspace folder>/mlflow.db``, an MLflow store of its own
        next to the workspace (MLflow must not migrate runtrack's database), so ported
        ``mlflow.set_tracking_uri(ws.get_mlflow_tracking_uri())`` calls work; for MLflow
        runs that show up in runtrack, serve the workspace (``runtrack server
        --backend-store-uri <this workspace>``) and open it by its URL.
        """
        uri = self.settings.tracking_uri
        if self.settings.is_remote:
            return uri.rstrip("/")
        if uri.startswith("sqlite:///"):
            return f"sqlite:///{Path(uri[len('sqlite:///') :]).parent / MLFLOW_DB}"
        raise ConfigError(
            f"workspace {uri!r} is a database without a local folder for MLflow: run "
            "'runtrack server --backend-store-uri <this workspace>' and use its URL"
        )

    # -- compute targets -----------------------------------------------------------------

    @property
    def compute_targets(self) -> dict[str, Any]:
        """Compute name -> ComputeTarget, as Azure's ``ws.compute_targets``: ``local``,
        the targets stored in the workspace (``runtrack compute add``) and the names
        mapped with :meth:`map_compute_target`."""
        from runtrack.sdk.compute import ComputeTarget

        known = self.compute_target_infos()
        return {name: ComputeTarget._of(self, info) for name, info in known.items()}

    def map_compute_target(self, name: str, kind: str = "local") -> None:
        """Let scripts name compute ``name`` and run on this machine (``kind`` 'local');
        a Ray cluster is added with its address: ``runtrack compute add NAME --ray URL``."""
        from runtrack.runner.targets import check_kind

        self._target_kinds[name] = check_kind(name, kind)

    def unmap_compute_target(self, name: str) -> bool:
        """Forget a name :meth:`map_compute_target` mapped; False if it was not mapped."""
        return self._target_kinds.pop(name, None) is not None

    def compute_target_infos(self) -> dict[str, ComputeTargetInfo]:
        """Every compute target this workspace knows, by name (``local`` first)."""
        from runtrack.catalog import LOCAL_COMPUTE, ComputeTargetInfo

        known = {LOCAL_COMPUTE: ComputeTargetInfo(LOCAL_COMPUTE, "local")}
        known.update({n: ComputeTargetInfo(n, k) for n, k in self._target_kinds.items()})
        known.update({t.name: t for t in self.store.list_compute_targets()})
        return known

    # -- links -----------------------------------------------------------------------------

    def portal_url(self, kind: str, ident: str) -> str:
        """The web-UI page of an experiment or run (``kind``: experiments|runs): the
        configured ``ui_url`` or the server; for a local workspace without a UI, the
        local folder that holds its files."""
        base = self.ui_base_url()
        if base is not None:
            return f"{base.rstrip('/')}/{kind}/{ident}"
        root = self.settings.artifact_root
        if kind == "runs" and root is not None and "://" not in root:
            return Path(root, ident).resolve().as_uri()
        db = self.settings.tracking_uri
        if db.startswith("sqlite:///"):
            return Path(db[len("sqlite:///") :]).parent.as_uri()
        return db

    def get_run(self, run_id: str) -> Any:
        from runtrack.sdk.run import Run

        return Run.get(self, run_id)

    def ui_base_url(self) -> str | None:
        """The web UI's base URL: the configured ``ui_url``, the server's, or a running
        ``runtrack ui``'s; else None."""
        return self._ui_url or config.ui_url(self.settings)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace(name={self.name!r}, uri={self.tracking_uri!r})"
