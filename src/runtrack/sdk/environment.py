"""``Environment``: which Python a submitted run uses (Azure ML's names, pip only).

* ``Environment("name")`` with ``python.user_managed_dependencies = True`` (the
  default here): the run uses ``python.interpreter_path`` or, when unset, the
  interpreter that submits.
* ``user_managed_dependencies = False`` with requirements — given by
  ``Environment.from_pip_requirements(name, file)``, ``env.python.requirements = [...]``
  or ``CondaDependencies.create(pip_packages=[...], conda_packages=[...])`` — builds a
  virtual environment (cached by content hash) with those packages installed by pip.
  Conda package names are installed with pip (``python`` itself is skipped): runtrack
  has no conda solver.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from runtrack.errors import InvalidValueError


@dataclass
class CondaDependencies:
    """The pip-installable part of an Azure ``CondaDependencies`` object."""

    conda_packages: list[str] = field(default_factory=list)
    pip_packages: list[str] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        pip_packages: Iterable[str] | None = None,
        conda_packages: Iterable[str] | None = None,
        python_version: str | None = None,
        **_ignored: object,
    ) -> CondaDependencies:
        return cls(list(conda_packages or []), list(pip_packages or []))

    def add_pip_package(self, name: str) -> None:
        self.pip_packages.append(name)

    def add_conda_package(self, name: str) -> None:
        self.conda_packages.append(name)

    def requirements(self) -> list[str]:
        conda = [p for p in self.conda_packages if p.split("=")[0].strip() != "python"]
        return [*self.pip_packages, *conda]


@dataclass
class PythonSection:
    """``environment.python``: interpreter choice and dependencies."""

    user_managed_dependencies: bool = True
    interpreter_path: str | None = None
    requirements: list[str] = field(default_factory=list)
    conda_dependencies: CondaDependencies | None = None

    def resolved_requirements(self) -> list[str] | None:
        """None for a user-managed interpreter, else the pip requirement lines."""
        if self.user_managed_dependencies:
            return None
        lines = list(self.requirements)
        if self.conda_dependencies is not None:
            lines += self.conda_dependencies.requirements()
        return lines


class Environment:
    """A named Python environment for submitted runs."""

    def __init__(self, name: str = "user-managed-env") -> None:
        self.name = name
        self.python = PythonSection()
        self.environment_variables: dict[str, str] = {}

    @classmethod
    def from_pip_requirements(cls, name: str, file_path: str) -> Environment:
        """An environment built from a requirements file (read now)."""
        path = Path(file_path)
        if not path.is_file():
            raise InvalidValueError(f"no requirements file at {file_path!r}")
        env = cls(name)
        env.python.user_managed_dependencies = False
        env.python.requirements = [
            line.strip()
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        return env

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "python": {
                "userManagedDependencies": self.python.user_managed_dependencies,
                "interpreterPath": self.python.interpreter_path,
                "requirements": self.python.resolved_requirements(),
            },
            "environmentVariables": dict(self.environment_variables),
        }

    def __repr__(self) -> str:
        return f"Environment(name={self.name!r})"
