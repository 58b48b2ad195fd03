"""Build hook: ship ``runtrack-azureml.pth`` at the root of site-packages.

The .pth file registers the ``azureml`` import shim (``src/runtrack_azureml``) at
interpreter start; it acts only when no real ``azureml`` package is installed.
Everything else about the build is in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PTH = "runtrack-azureml.pth"


class BuildPyWithPth(build_py):  # type: ignore[misc]
    """build_py that also places the shim's .pth next to the packages."""

    def run(self) -> None:
        super().run()
        self.copy_file(str(Path("src") / PTH), str(Path(self.build_lib) / PTH), preserve_mode=0)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib) / PTH)]

    def get_output_mapping(self) -> dict[str, str]:
        mapping: dict[str, str] = super().get_output_mapping()
        mapping[str(Path(self.build_lib) / PTH)] = str(Path("src") / PTH)
        return mapping


setup(cmdclass={"build_py": BuildPyWithPth})
