"""Named compute targets: a workspace maps the names scripts use to runtrack targets.

Azure ML code names its compute (``ScriptRunConfig(compute_target="cpu-cluster")``).
A workspace keeps a mapping ``name -> kind``; ``local`` always maps to itself, more
names come from the ``compute_targets`` object of the workspace config file
(``runtrack.json`` / ``config.json``) or ``ws.map_compute_target(name, "local")``.
A kind is a key of :data:`KINDS`; a new target (e.g. Ray) registers its factory there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from runtrack.errors import InvalidValueError
from runtrack.runner.target import ComputeTarget, LocalTarget

#: kind -> factory of the ComputeTarget that runs it
KINDS: dict[str, Callable[[], ComputeTarget]] = {"local": LocalTarget}
DEFAULT = "local"


def check_kind(name: str, kind: object) -> str:
    if not isinstance(kind, str) or kind not in KINDS:
        raise InvalidValueError(
            f"compute target {name!r} maps to {kind!r}, which is not a runtrack target kind; "
            f"use one of {sorted(KINDS)}"
        )
    return kind


def target_for(name: str | None, mapping: Mapping[str, str]) -> ComputeTarget:
    """The target that runs compute ``name`` (None or '' means ``local``)."""
    if not name or name == DEFAULT:
        return KINDS[DEFAULT]()
    kind = mapping.get(name)
    if kind is None:
        known = sorted({DEFAULT, *mapping})
        raise InvalidValueError(
            f"compute target {name!r} is not known to this workspace (known: "
            f"{', '.join(known)}). Map it to a runtrack target: "
            f'ws.map_compute_target({name!r}, "local"), or add '
            f'"compute_targets": {{"{name}": "local"}} to the workspace config file '
            "(runtrack.json or config.json)"
        )
    return KINDS[check_kind(name, kind)]()
