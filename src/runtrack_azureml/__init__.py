"""The ``azureml`` import shim: unchanged Azure ML SDK v1 imports resolve to runtrack.

``runtrack-azureml.pth`` (installed into site-packages with runtrack) calls
:func:`install` at interpreter start. It appends :class:`AzuremlShimFinder` to the
*end* of ``sys.meta_path``, so it is asked for ``azureml`` only after every regular
finder failed: with the real ``azureml-core`` (or any ``azureml`` package) installed,
that one is imported and the shim never acts. Otherwise ``import azureml`` loads the
tree in this package's ``azureml/`` folder (``azureml.core``, ``azureml.core.run``,
``azureml.widgets`` …), whose modules re-export runtrack's classes; its first import
says so once on stderr.

This module runs at every interpreter start, so it imports only the standard library.
``RUNTRACK_AZUREML_SHIM=0`` turns the shim off (read here, at start-up).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

SHIM_ROOT = Path(__file__).resolve().parent / "azureml"
DISABLE_VARIABLE = "RUNTRACK_AZUREML_SHIM"


class AzuremlShimFinder(importlib.abc.MetaPathFinder):
    """Finds the top-level ``azureml`` package in the shim; submodules then resolve
    through its ``__path__`` like any package's."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "azureml":
            return None
        return importlib.util.spec_from_file_location(
            "azureml", SHIM_ROOT / "__init__.py", submodule_search_locations=[str(SHIM_ROOT)]
        )


def install() -> bool:
    """Register the finder once (last on ``sys.meta_path``); False when turned off."""
    if os.environ.get(DISABLE_VARIABLE, "").strip().lower() in ("0", "false", "off", "no"):
        return False
    if not any(type(f).__name__ == AzuremlShimFinder.__name__ for f in sys.meta_path):
        sys.meta_path.append(AzuremlShimFinder())
    return True
