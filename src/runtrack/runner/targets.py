"""Named compute targets: a workspace maps the names scripts use to runtrack targets.

Azure ML code names its compute (``ScriptRunConfig(compute_target="cpu-cluster")``).
A workspace knows ``local`` always, the targets stored in it (``runtrack compute add
NAME --ray ADDRESS``, :meth:`TrackingStore.add_compute_target`), and names mapped to
``local`` by its config file (``"compute_targets"`` in ``runtrack.json`` /
``config.json``) or ``ws.map_compute_target(name)``. A kind is a key of :data:`KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from runtrack.catalog import LOCAL_COMPUTE, ComputeTargetInfo
from runtrack.errors import InvalidValueError
from runtrack.model import RunInfo
from runtrack.runner.target import ComputeTarget, LocalTarget


def _ray(info: ComputeTargetInfo) -> ComputeTarget:
    from runtrack.runner.ray_target import RayTarget

    return RayTarget(str(info.address))


#: kind -> factory of the ComputeTarget that runs a target of that kind
KINDS: dict[str, Callable[[ComputeTargetInfo], ComputeTarget]] = {
    "local": lambda info: LocalTarget(),
    "ray": _ray,
}
DEFAULT = LOCAL_COMPUTE


def check_kind(name: str, kind: object) -> str:
    """``kind`` if a name can be mapped to it without an address (only ``local``)."""
    if kind == "ray":
        raise InvalidValueError(
            f"compute target {name!r}: a Ray target needs its address; add it with "
            f"runtrack compute add {name} --ray http://HEAD:8265"
        )
    if kind != "local":
        raise InvalidValueError(
            f"compute target {name!r} maps to {kind!r}, which is not a runtrack target kind "
            "a name can be mapped to; use 'local' (Ray clusters: runtrack compute add)"
        )
    return kind


def target_for(name: str | None, known: Mapping[str, ComputeTargetInfo]) -> ComputeTarget:
    """The target that runs compute ``name`` (None or '' means ``local``); ``known``:
    the workspace's targets by name."""
    if not name or name == DEFAULT:
        return LocalTarget()
    info = known.get(name)
    if info is None:
        names = sorted({DEFAULT, *known})
        raise InvalidValueError(
            f"compute target {name!r} is not known to this workspace (known: "
            f"{', '.join(names)}). Add it: runtrack compute add {name} --ray ADDRESS, or "
            f'map it to this machine: ws.map_compute_target({name!r}, "local") or '
            f'"compute_targets": {{"{name}": "local"}} in the workspace config file '
            "(runtrack.json or config.json)"
        )
    return KINDS[info.kind](info)


def target_of_run(info: RunInfo) -> ComputeTarget:
    """The target a submitted run was started on (from what it recorded at submit)."""
    from runtrack.runner.ray_target import RAY_PROPERTY, RayTarget

    if info.properties.get(RAY_PROPERTY):
        return RayTarget("")  # the address travels in the property
    return LocalTarget()
