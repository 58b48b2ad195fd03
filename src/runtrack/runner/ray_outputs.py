"""Bring every node's ``./outputs`` of a Ray run to the driver, which uploads them.

Each rank runs in its node's copy of the job's ``working_dir``; the supervisor (the
job's driver) uploads ``./outputs`` of its own copy only. When the ranks have ended,
:func:`collect` places one :class:`NodeOutputs` actor in each bundle of the run's
placement group (so on each node of the run) and copies the files of that node's
``./outputs`` into the driver's, chunk by chunk (memory stays bounded by
:data:`CHUNK`, whatever the file sizes). A node that shares the driver's folder (the
driver's own node, or nodes of one machine sharing a folder) is recognised by the
token the driver wrote into its folder (:data:`MARK`) and skipped. Files of the same
name from several nodes: the higher node's copy wins (the driver's node counts as
the lowest), and the post log says so.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: File in the driver's working folder holding a token only that folder has.
MARK = ".runtrack-driver-folder"
#: Bytes per transfer from a node.
CHUNK = 4 << 20
#: Seconds one step (a listing, a chunk) of a node's transfer may take.
STEP_TIMEOUT = 120.0


def mark_folder(folder: Path) -> str:
    """Write a fresh token into ``folder``'s :data:`MARK`; return it."""
    token = os.urandom(12).hex()
    (folder / MARK).write_text(token, encoding="utf-8")
    return token


class NodeOutputs:
    """A Ray actor reading ``./outputs`` of its node's copy of the working_dir."""

    def __init__(self) -> None:
        self.root = Path.cwd()
        self.outputs = self.root / "outputs"

    def listing(self, token: str) -> list[tuple[str, int]] | None:
        """(relative path, size) of each file, or None where this folder is the
        driver's own (its mark holds ``token``)."""
        try:
            if (self.root / MARK).read_text(encoding="utf-8") == token:
                return None
        except OSError:
            pass
        if not self.outputs.is_dir():
            return []
        return sorted(
            (p.relative_to(self.outputs).as_posix(), p.stat().st_size)
            for p in self.outputs.rglob("*")
            if p.is_file()
        )

    def read(self, rel: str, offset: int, size: int) -> bytes:
        with open(self.outputs / rel, "rb") as fh:
            fh.seek(offset)
            return fh.read(size)


def _copy(actor: Any, rel: str, size: int, dest: Path) -> None:
    import ray

    dest.parent.mkdir(parents=True, exist_ok=True)
    offset = 0
    with open(dest, "wb") as fh:
        while offset < size:
            data = ray.get(actor.read.remote(rel, offset, CHUNK), timeout=STEP_TIMEOUT)
            if not data:  # the file shrank since the listing
                break
            fh.write(data)
            offset += len(data)


def collect(group: Any, node_count: int, workdir: Path, token: str,
            note: Callable[[str], None]) -> int:
    """Copy ``./outputs`` of every node of placement group ``group`` that does not
    share ``workdir`` into ``workdir/outputs``; return the number of files copied.
    ``note`` receives one line per node (and per problem); nothing here raises."""
    import ray
    from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    remote: Any = ray.remote(NodeOutputs)
    outputs = workdir / "outputs"
    seen = {  # the driver's own files count as earlier copies
        p.relative_to(outputs).as_posix() for p in outputs.rglob("*") if p.is_file()
    }
    total = 0
    for node in range(node_count):
        actor: Any = None
        try:
            actor = remote.options(
                num_cpus=0,
                scheduling_strategy=PlacementGroupSchedulingStrategy(
                    group, placement_group_bundle_index=node
                ),
            ).remote()
            files = ray.get(actor.listing.remote(token), timeout=STEP_TIMEOUT)
            if files is None:
                continue
            for rel, size in files:
                if rel in seen:
                    note(f"node {node}: outputs/{rel} replaces the file of that name from "
                         "another node")
                _copy(actor, rel, size, outputs / rel)
                seen.add(rel)
            total += len(files)
            note(f"{len(files)} file(s) from node {node}'s ./outputs")
        except Exception as exc:  # the node or the cluster is gone: the rest still counts
            note(f"node {node}: cannot bring its ./outputs ({type(exc).__name__}: {exc})")
        finally:
            if actor is not None:
                with contextlib.suppress(Exception):
                    ray.kill(actor)
    return total
