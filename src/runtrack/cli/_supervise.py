"""Entry point of a run's supervisor process: ``python -m runtrack.cli._supervise SPEC``
(``--ray SPEC``: the driver of a Ray job, see ``runtrack.runner.ray_target``).

This is a wiring point (like the other cli modules): it opens the workspace's stores
from the spec and hands them to :func:`runtrack.runner.supervisor.supervise`.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from runtrack.runner.spec import RunSpec
    from runtrack.runner.supervisor import supervise
    from runtrack.sdk.workspace import Workspace

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    kind = None
    if argv[:1] == ["--ray"]:
        from runtrack.runner.ray_target import RaySupervisor

        kind, argv = RaySupervisor, argv[1:]
    spec = RunSpec.from_json(Path(argv[0]).read_text(encoding="utf-8"))
    ws = Workspace(spec.tracking_uri, artifact_root=spec.artifact_root)
    try:
        if kind is None:
            status = supervise(spec, ws.store, ws.artifacts)
        else:
            status = supervise(spec, ws.store, ws.artifacts, kind)
    finally:
        ws.close()
    logging.getLogger("runtrack.runner").info("run %s ended: %s", spec.run_id, status.value)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
