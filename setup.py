"""Build hook: ship ``runtrack-azureml.pth`` at the root of site-packages.

The .pth file registers the ``azureml`` import shim (``src/runtrack_azureml``) at
interpreter start; it acts only when no real ``azureml`` package is installed.
A regular wheel gets it through ``build_py``; an editable install (``pip install -e``)
through ``editable_wheel``, whose strategy object is wrapped to add the file.
It also builds the C scalar logger and spool scan (``src/runtrack/spool/_scalar.c``,
the hot path of ``run.log()`` and of reading it back) and the C split of a columnar
batch (``src/runtrack/store/sql/_columnar.c``) where a compiler is there; without one
the build goes on and runtrack uses their Python twins.
Everything else about the build is in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

PTH = "runtrack-azureml.pth"
PTH_SOURCE = Path(__file__).resolve().parent / "src" / PTH


class BuildPyWithPth(build_py):  # type: ignore[misc]
    """build_py that also places the shim's .pth next to the packages."""

    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            self.copy_file(str(PTH_SOURCE), str(Path(self.build_lib) / PTH), preserve_mode=0)


class _WithPth:
    """Wraps an editable strategy: after it writes its files, add the .pth."""

    def __init__(self, strategy: Any) -> None:
        self.strategy = strategy

    def __call__(self, wheel: Any, files: list[str], mapping: dict[str, str]) -> None:
        self.strategy(wheel, files, mapping)
        wheel.writestr(PTH, PTH_SOURCE.read_bytes())

    def __enter__(self) -> _WithPth:
        self.strategy.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.strategy.__exit__(*exc)


class EditableWheelWithPth(editable_wheel):  # type: ignore[misc]
    def _select_strategy(self, name: str, tag: str, build_lib: Any) -> _WithPth:
        return _WithPth(super()._select_strategy(name, tag, build_lib))


setup(
    cmdclass={"build_py": BuildPyWithPth, "editable_wheel": EditableWheelWithPth},
    ext_modules=[
        Extension("runtrack.spool._scalar", ["src/runtrack/spool/_scalar.c"], optional=True),
        Extension(
            "runtrack.store.sql._columnar", ["src/runtrack/store/sql/_columnar.c"], optional=True
        ),
    ],
)
