"""Resolve where a workspace lives; the only module that reads ``os.environ``.

Order: an explicit URI argument > ``RUNTRACK_TRACKING_URI`` > a config file found from
the start folder upward > the local default (``./.runtrack`` in the current folder).

Config files looked for at each level, first match wins: ``.runtrack/config.json``,
``runtrack.json``, then Azure ML's ``.azureml/config.json``, ``aml_config/config.json``
and ``config.json`` so ported notebooks keep working. Keys read: ``tracking_uri``,
``artifact_root``, ``name`` (or Azure's ``workspace_name``). A config without a
``tracking_uri`` means "the local folder ``.runtrack`` next to this config".
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from runtrack.errors import ConfigError

CONFIG_CANDIDATES = (
    ".runtrack/config.json",
    "runtrack.json",
    ".azureml/config.json",
    "aml_config/config.json",
    "config.json",
)
DEFAULT_FOLDER = ".runtrack"
DB_FILE = "runtrack.db"

ENV_TRACKING_URI = "RUNTRACK_TRACKING_URI"
ENV_ARTIFACT_ROOT = "RUNTRACK_ARTIFACT_ROOT"
ENV_RUN_ID = "RUNTRACK_RUN_ID"
ENV_EXPERIMENT = "RUNTRACK_EXPERIMENT_NAME"
ENV_TOKEN = "RUNTRACK_TOKEN"
ENV_SPOOL_DIR = "RUNTRACK_SPOOL_DIR"
ENV_STREAM = "RUNTRACK_STREAM"
ENV_RANK = "RUNTRACK_RANK"
#: Azure ML names accepted as aliases inside submitted runs.
AZURE_ALIASES = {ENV_RUN_ID: "AZUREML_RUN_ID", ENV_EXPERIMENT: "AZUREML_ARM_PROJECT_NAME"}


@dataclass(frozen=True)
class Settings:
    """A resolved workspace location.

    ``tracking_uri`` is ``sqlite:///…``, ``postgresql://…``, ``http(s)://…`` or
    ``memory://name``;
    ``artifact_root`` a folder or fsspec URL (None for a server, which owns its files);
    ``spool_dir`` where this machine keeps unshipped metric spools.
    """

    tracking_uri: str
    artifact_root: str | None
    spool_dir: Path
    name: str
    source: str
    config_path: Path | None = None
    token: str | None = field(default=None, repr=False)

    @property
    def is_remote(self) -> bool:
        return self.tracking_uri.startswith(("http://", "https://"))


@dataclass(frozen=True)
class SubmittedContext:
    """What a supervisor tells the processes of a submitted run (see runner)."""

    run_id: str
    experiment_name: str | None
    stream: str | None
    #: global rank of this process in a multi-process run (None: not distributed)
    rank: int | None = None


# -- the one tracking-URI parser --------------------------------------------------------

_POSTGRES_PREFIXES = ("postgresql://", "postgresql+", "postgres://")
MEMORY_PREFIX = "memory://"


@dataclass(frozen=True)
class TrackingUri:
    """A tracking URI, parsed by :func:`parse_uri` (the workspace, the store registry
    and the server all read URIs through it)."""

    kind: str  #: "sqlite", "postgresql", "http" or "memory"
    uri: str  #: what the store opens: a folder becomes sqlite:///<folder>/runtrack.db
    #: the SQLite database file and its folder (the workspace folder); None otherwise
    #: and for an in-memory database
    database: Path | None = None
    folder: Path | None = None


def parse_uri(uri: str) -> TrackingUri:
    """Parse a folder path, ``file://folder``, ``sqlite:///file.db``, ``postgresql://…``
    (or ``postgres://``, ``postgresql+driver://``), ``http(s)://host:port`` or
    ``memory://[name]`` (a store in this process's memory); ConfigError for anything else."""
    if uri.startswith(("http://", "https://")):
        return TrackingUri("http", uri)
    if uri.startswith(MEMORY_PREFIX):
        return TrackingUri("memory", uri)
    if uri.startswith(_POSTGRES_PREFIXES):
        return TrackingUri("postgresql", uri)
    if uri.startswith("sqlite://"):
        path = uri[len("sqlite:///") :] if uri.startswith("sqlite:///") else ""
        if path in ("", ":memory:"):
            return TrackingUri("sqlite", uri)
        database = Path(path).expanduser().resolve()
        return TrackingUri("sqlite", uri, database, database.parent)
    if uri.startswith("file://"):
        folder = Path(uri[len("file://") :])
    elif "://" in uri:
        raise ConfigError(
            f"unsupported tracking URI {uri!r}: use a folder path, sqlite:///file.db, "
            "postgresql://…, http(s)://host:port or memory://"
        )
    else:
        folder = Path(uri)
    folder = folder.expanduser().resolve()
    database = folder / DB_FILE
    return TrackingUri("sqlite", f"sqlite:///{database}", database, folder)


def _env(name: str) -> str | None:
    value = os.environ.get(name) or os.environ.get(AZURE_ALIASES.get(name, ""), "")
    return value or None


def find_config(start: Path | None = None) -> Path | None:
    """The nearest config file from ``start`` (default: cwd) upward, or None."""
    folder = (start or Path.cwd()).resolve()
    if folder.is_file():
        return folder
    for level in (folder, *folder.parents):
        for candidate in CONFIG_CANDIDATES:
            path = level / candidate
            if path.is_file():
                return path
    return None


def _project_root(config_path: Path) -> Path:
    parent = config_path.parent
    return parent.parent if parent.name in (".runtrack", ".azureml", "aml_config") else parent


def read_config(path: Path) -> dict[str, object]:
    """The JSON object in workspace config file ``path`` (ConfigError if unreadable)."""
    return _read_config(path)


def _read_config(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read workspace config {path}: {exc}; fix or remove it") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"workspace config {path} must hold a JSON object")
    return data


def resolve(
    uri: str | None = None,
    *,
    config_path: Path | None = None,
    search_from: Path | None = None,
    artifact_root: str | None = None,
) -> Settings:
    """Turn what the user gave (or nothing) into :class:`Settings`.

    A ``config_path`` given with ``RUNTRACK_TRACKING_URI`` set (``Workspace.from_config()``
    inside a submitted run whose snapshot holds a ``config.json``): the variable names the
    location, the file still names the workspace.
    """
    source = "argument"
    name: str | None = None
    if uri is None:
        uri = _env(ENV_TRACKING_URI)
        if uri is not None:
            source = ENV_TRACKING_URI
    if uri is None or config_path is not None:
        found = config_path or find_config(search_from)
        if found is not None:
            data = _read_config(found)
            config_path = found
            raw_name = data.get("name") or data.get("workspace_name")
            name = str(raw_name) if raw_name else None
        if found is not None and uri is None:
            source = str(found)
            raw_uri = data.get("tracking_uri")
            raw_root = data.get("artifact_root")
            root = _project_root(found)
            if isinstance(raw_uri, str) and raw_uri:
                uri = raw_uri if "://" in raw_uri else str((root / raw_uri).resolve())
            else:
                uri = str(root / DEFAULT_FOLDER)
            if artifact_root is None and isinstance(raw_root, str):
                artifact_root = raw_root
        elif uri is None:
            uri = str(Path.cwd() / DEFAULT_FOLDER)
            source = "default"
    return _settings_for(uri, artifact_root, name, source, config_path)


def _settings_for(
    uri: str, artifact_root: str | None, name: str | None, source: str, config_path: Path | None
) -> Settings:
    artifact_root = artifact_root or _env(ENV_ARTIFACT_ROOT)
    token = _env(ENV_TOKEN)
    parsed = parse_uri(uri)
    if parsed.kind == "http":
        host = uri.split("://", 1)[1].rstrip("/").replace(":", "_").replace("/", "_")
        spool = _spool_override() or Path.home() / ".cache" / "runtrack" / "spool" / host
        return Settings(uri.rstrip("/"), None, spool, name or host, source, config_path, token)
    if parsed.kind == "memory":
        return _memory_settings(uri, artifact_root, source, config_path, token)
    if parsed.kind == "postgresql":
        if artifact_root is None:
            raise ConfigError(
                "a PostgreSQL workspace needs an artifact root: pass artifact_root= or set "
                f"{ENV_ARTIFACT_ROOT} (a folder or an fsspec URL such as s3://bucket/prefix)"
            )
        spool = _spool_override() or Path.home() / ".cache" / "runtrack" / "spool" / "postgres"
        return Settings(uri, artifact_root, spool, name or "postgres", source, config_path, token)
    if parsed.database is None or parsed.folder is None:
        raise ConfigError(
            f"a workspace needs a database file, not {uri!r}: use a folder path or "
            "sqlite:///file.db"
        )
    db, folder = parsed.database, parsed.folder
    return Settings(
        tracking_uri=f"sqlite:///{db}",
        artifact_root=artifact_root or str(folder / "artifacts"),
        spool_dir=_spool_override() or folder / "spool",
        name=name or folder.parent.name or "runtrack",
        source=source,
        config_path=config_path,
        token=token,
    )


def _memory_settings(
    uri: str, artifact_root: str | None, source: str, config_path: Path | None,
    token: str | None,
) -> Settings:
    """A workspace in this process's memory: ``memory://`` gets a store of its own (a
    fresh name), ``memory://NAME`` shares the store of that name; files go to fsspec's
    in-memory filesystem and spools to a folder of this process under the temp folder."""
    import re
    import tempfile
    import uuid

    name = uri[len(MEMORY_PREFIX) :] or uuid.uuid4().hex
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    spool = _spool_override() or (
        Path(tempfile.gettempdir()) / "runtrack-memory" / str(os.getpid()) / safe
    )
    return Settings(
        tracking_uri=MEMORY_PREFIX + name,
        artifact_root=artifact_root or f"memory://runtrack-{safe}/artifacts",
        spool_dir=spool,
        name=name if uri != MEMORY_PREFIX else "memory",
        source=source,
        config_path=config_path,
        token=token,
    )


def _spool_override() -> Path | None:
    value = _env(ENV_SPOOL_DIR)
    return Path(value) if value else None


def submitted_context() -> SubmittedContext | None:
    """The submitted run this process belongs to, from the supervisor's variables."""
    run_id = _env(ENV_RUN_ID)
    if not run_id:
        return None
    rank = _env(ENV_RANK)
    return SubmittedContext(
        run_id, _env(ENV_EXPERIMENT), _env(ENV_STREAM), int(rank) if rank else None
    )


ENV_SYSTEM_METRICS = "RUNTRACK_SYSTEM_METRICS_INTERVAL"
DEFAULT_SYSTEM_METRICS_INTERVAL = 10.0


def system_metrics_interval() -> float | None:
    """Seconds between system-metrics samples (``RUNTRACK_SYSTEM_METRICS_INTERVAL``,
    default 10); None when switched off (``0`` or ``off``). ConfigError for other text."""
    raw = (os.environ.get(ENV_SYSTEM_METRICS) or "").strip().lower()
    if not raw:
        return DEFAULT_SYSTEM_METRICS_INTERVAL
    if raw in ("0", "off", "false", "no"):
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.1 <= value <= 86_400:
        raise ConfigError(
            f"{ENV_SYSTEM_METRICS}={raw!r} is not a number of seconds between 0.1 and 86400; "
            "set it to e.g. 10, or to 0 (or off) to switch system metrics off"
        )
    return value


# -- the UI serving a local workspace ---------------------------------------------------

UI_MARKER = "ui.json"


def workspace_folder(settings: Settings) -> Path | None:
    """The folder of a SQLite workspace (where its database file is), else None."""
    return parse_uri(settings.tracking_uri).folder


def write_ui_marker(settings: Settings, url: str) -> Path | None:
    """Note that ``url`` serves this workspace (``runtrack ui`` calls it while serving)."""
    folder = workspace_folder(settings)
    if folder is None:
        return None
    path = folder / UI_MARKER
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
    return path


def ui_url(settings: Settings) -> str | None:
    """Where the web UI of this workspace is: a server workspace's own URL, or the URL a
    live ``runtrack ui`` over this folder noted; None when none is known."""
    if settings.is_remote:
        return settings.tracking_uri
    folder = workspace_folder(settings)
    if folder is None:
        return None
    try:
        data = json.loads((folder / UI_MARKER).read_text(encoding="utf-8"))
        os.kill(int(data["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(data["url"])
