"""Azure's compute classes over runtrack's named targets (see ``runtrack.runner.targets``).

``ComputeTarget(workspace=ws, name="cpu-cluster")`` finds a name the workspace knows
(``local`` always, the targets ``runtrack compute add`` stored, names mapped to
``local``), else raises :class:`ComputeTargetException`, the error Azure code
catches before creating a cluster. ``ComputeTarget.create(ws, name, config)`` maps the
name to the local target (with a warning: runtrack provisions nothing), so the usual
"get or create a cluster" cell runs unchanged and its runs run on this machine.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from runtrack.errors import NotFoundError

if TYPE_CHECKING:
    from runtrack.catalog import ComputeTargetInfo
    from runtrack.sdk.workspace import Workspace


class ComputeTargetException(NotFoundError):
    """No compute target of that name in the workspace (Azure's exception name)."""

    code = "COMPUTE_TARGET_NOT_FOUND"


class ComputeTarget:
    """A compute name the workspace knows; ``kind`` is the runtrack target it runs on
    (``local`` or ``ray``) and ``address`` the Ray job-submission address."""

    type = "local"

    def __init__(self, workspace: Workspace, name: str = "local") -> None:
        known = workspace.compute_target_infos()
        if name not in known:
            raise ComputeTargetException(
                f"compute target {name!r} is not in this workspace (known: "
                f"{', '.join(sorted(known))}); add it with 'runtrack compute add {name} "
                f"--ray ADDRESS', map it to this machine with ws.map_compute_target({name!r}, "
                '"local") or create it with ComputeTarget.create(ws, name, config)'
            )
        info = known[name]
        self.workspace = workspace
        self.name = name
        self.kind = info.kind
        self.address = info.address
        self.provisioning_state = "Succeeded"

    @classmethod
    def _of(cls, workspace: Workspace, info: ComputeTargetInfo) -> ComputeTarget:
        target = cls.__new__(cls)
        target.workspace, target.name, target.kind = workspace, info.name, info.kind
        target.address, target.provisioning_state = info.address, "Succeeded"
        return target

    @staticmethod
    def create(workspace: Workspace, name: str, provisioning_configuration: Any) -> ComputeTarget:
        """Map ``name`` to the local target (nothing is provisioned) and return it."""
        warnings.warn(
            f"runtrack: compute target {name!r} is mapped to this machine ('local'); "
            "runtrack provisions no cluster",
            UserWarning,
            stacklevel=2,
        )
        workspace.map_compute_target(name, "local")
        return ComputeTarget(workspace, name)

    @staticmethod
    def list(workspace: Workspace) -> list[ComputeTarget]:
        return list(workspace.compute_targets.values())

    def wait_for_completion(
        self, show_output: bool = False, min_node_count: int | None = None, **_: Any
    ) -> None:
        """Nothing to wait for: a mapped target is ready at once."""
        if show_output:
            print(f"Compute target {self.name!r} runs on runtrack target {self.kind!r}")

    def get_status(self) -> str:
        return self.provisioning_state

    def delete(self) -> None:
        """Forget this name: a target stored in the workspace is removed from it, a
        mapped name is unmapped (``local`` stays)."""
        if self.workspace.unmap_compute_target(self.name):
            return
        if self.name != "local":
            self.workspace.store.remove_compute_target(self.name)

    def __repr__(self) -> str:
        return f"ComputeTarget(name={self.name!r}, kind={self.kind!r})"


class AmlCompute(ComputeTarget):
    """Azure's cluster class; ``provisioning_configuration`` just records its settings."""

    @staticmethod
    def provisioning_configuration(**settings: Any) -> dict[str, Any]:
        return dict(settings)

    @staticmethod
    def supported_vmsizes(workspace: Workspace, location: str | None = None) -> list[Any]:
        return []


class ComputeInstance(AmlCompute):
    """Azure's compute-instance class (mapped like any other name)."""
