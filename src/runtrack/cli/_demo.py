"""``runtrack demo``'s content: fill a workspace with the seed's two examples.

* experiment ``logging-api``: one interactive run logging every metric kind — scalars
  (single values and a long stepped series), a list, rows and a table, images (a
  matplotlib figure when matplotlib is installed, else a generated PNG), a confusion
  matrix, an accuracy table, residuals and predictions — plus a console log with a
  progress bar, colours and a warning, and an output file;
* experiment ``alpha-sweep``: one submitted script run per alpha
  (:mod:`runtrack.cli._demo_train`); the largest alpha diverges and fails on purpose.

:func:`fill` returns once the interactive run is complete and the sweep is submitted;
the sweep keeps running in its own processes (``wait=True`` waits for it).
"""

from __future__ import annotations

import json
import math
import random
import struct
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

ALPHAS = (0.001, 0.01, 0.1, 0.5, 1.0)
SWEEP_WAIT_S = 180.0


def _png(width: int, height: int, pixel: Callable[[int, int], tuple[int, int, int]]) -> bytes:
    """A small RGB PNG, without Pillow."""
    raw = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def _sample_pixel(epoch: int) -> Callable[[int, int], tuple[int, int, int]]:
    def pixel(x: int, y: int) -> tuple[int, int, int]:
        red = int(127 + 127 * math.sin(x / (6 * epoch)))
        return red, int(127 + 127 * math.cos(y / 5)), 40 * epoch

    return pixel


def _log_images(run: Any, folder: Path) -> None:
    plt: Any
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    for epoch in (1, 2, 3):
        path = folder / f"samples_epoch{epoch}.png"
        path.write_bytes(_png(96, 64, _sample_pixel(epoch)))
        run.log_image(name="samples", path=str(path), description=f"epoch {epoch} samples")
    if plt is not None:
        angles = [i / 10 for i in range(-60, 61)]
        plt.figure(figsize=(5, 3.2))
        plt.plot(angles, [math.tanh(a) for a in angles], label="tanh")
        plt.legend(fontsize=10)
        plt.title("Hyperbolic Tangent", fontsize=13)
        run.log_image(name="Hyperbolic Tangent", plot=plt)
        plt.close()


def _console(steps: int) -> None:
    """What a training loop prints: progress bars, colours, a warning, logging."""
    import logging
    import warnings

    print("\x1b[1mepoch 1\x1b[0m loading data from \x1b[34m./data\x1b[0m")
    for i in range(0, steps + 1, max(1, steps // 20)):
        done = int(30 * i / steps)
        sys.stderr.write(f"\r{100 * i // steps:3d}%|{'█' * done}{' ' * (30 - done)}| {i}/{steps}")
        sys.stderr.flush()
    sys.stderr.write("\n")
    warnings.warn("learning rate schedule not set: using a constant rate", stacklevel=1)
    logging.getLogger("demo").warning("validation set is small (56 rows)")
    print("\x1b[32m✓\x1b[0m training finished")


def interactive_run(workspace: Any) -> Any:
    """The logging-api example, with every metric kind; returns the completed Run."""
    from runtrack import Experiment

    experiment = Experiment(workspace, "logging-api")
    with tempfile.TemporaryDirectory() as tmp:
        outputs = Path(tmp) / "outputs"
        outputs.mkdir()
        (outputs / "model.json").write_text(json.dumps({"layers": [64, 128, 256]}, indent=1))
        run = experiment.start_logging(outputs=str(outputs), display_name="every metric kind",
                                       tags={"demo": "logging-api"}, snapshot_directory=None)
        with run:
            scale = 2
            run.log("Category", "Red")
            run.log("scale factor", scale)
            run.log("Magic Number", 42 * scale)
            fibonacci = (0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89)
            run.log_list("Fibonacci", [v * scale for v in fibonacci])
            for i in range(-10, 10):
                run.log("Sigmoid", 1 / (1 + math.exp(-i)))
            sines: dict[str, list[float]] = {"angle": [], "sine": []}
            for i in range(-10, 10):
                angle = i / 2.0 * scale
                run.log_row("Cosine Wave", angle=angle, cos=math.cos(angle))
                sines["angle"].append(angle)
                sines["sine"].append(math.sin(angle))
            run.log_table("Sine Wave", sines)
            rng = random.Random(3)
            for step in range(2000):
                noise = rng.gauss(0, 0.02) + (0.4 if step == 1234 else 0.0)  # a spike to find
                run.log("loss", 1.5 * math.exp(-step / 400) + 0.1 + noise, step=step)
                run.log("accuracy", 0.97 - 0.6 * math.exp(-step / 300) + noise / 4, step=step)
            _log_images(run, Path(tmp))
            run.log_confusion_matrix("confusion", {
                "schema_type": "confusion_matrix", "schema_version": "1.0.0",
                "data": {"class_labels": ["cat", "dog", "bird"],
                         "matrix": [[41, 3, 1], [5, 51, 2], [2, 4, 38]]}})
            run.log_accuracy_table("accuracy table", _accuracy_table(rng))
            run.log_residuals("residuals", {
                "schema_type": "residuals", "schema_version": "1.0.0",
                "data": {"bin_edges": [-1.0, -0.5, 0.0, 0.5, 1.0], "bin_counts": [4, 38, 41, 9]}})
            run.log_predictions("predictions", {
                "schema_type": "predictions", "schema_version": "1.0.0",
                "data": {"bin_averages": [0.12, 0.41, 0.63, 0.88],
                         "bin_errors": [0.05, 0.08, 0.06, 0.04],
                         "bin_counts": [20, 31, 28, 21],
                         "bin_edges": [0.0, 0.25, 0.5, 0.75, 1.0]}})
            _console(200)
            run.add_properties({"framework": "none", "dataset": "synthetic"})
    run.tag("My Favorite Run")
    run.tag("Competition Rank", 1)
    return run


def _accuracy_table(rng: random.Random) -> dict[str, Any]:
    thresholds = [i / 10 for i in range(11)]
    tables = []
    for skill in (2.0, 1.2):
        rows = []
        for t in thresholds:
            tpr = 1 - t ** skill
            fpr = (1 - t) ** (1 / skill) * (1 - t)
            rows.append([int(50 * tpr), int(50 * fpr), 50 - int(50 * fpr), 50 - int(50 * tpr)])
        tables.append(rows)
    return {"schema_type": "accuracy_table", "schema_version": "1.0.2",
            "data": {"probability_tables": tables, "class_labels": ["negative", "positive"],
                     "probability_thresholds": thresholds}}


def submit_sweep(workspace: Any, folder: Path, steps: int = 150, delay: float = 0.03) -> list[Any]:
    """Submit one run of the training script per alpha; returns the runs (Queued)."""
    from runtrack import Experiment, ScriptRunConfig
    from runtrack.cli import _demo_train

    source = folder / "sweep-src"
    source.mkdir(parents=True, exist_ok=True)
    (source / "train.py").write_text(Path(_demo_train.__file__).read_text(encoding="utf-8"))
    experiment = Experiment(workspace, "alpha-sweep")
    runs = []
    for alpha in ALPHAS:
        config = ScriptRunConfig(
            source_directory=str(source), script="train.py",
            arguments=["--alpha", alpha, "--steps", steps, "--delay", delay],
        )
        runs.append(experiment.submit(config, tags={"alpha": str(alpha), "demo": "sweep"}))
    return runs


def wait_for(runs: list[Any], timeout: float = SWEEP_WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    for run in runs:
        run.wait_for_completion(raise_on_error=False,
                                timeout_seconds=max(1.0, deadline - time.monotonic()))


def fill(folder: Path, *, wait: bool = False) -> dict[str, Any]:
    """Fill the workspace at ``folder``; returns what was made (ids by experiment)."""
    from runtrack import Workspace

    workspace = Workspace(str(folder))
    try:
        run = interactive_run(workspace)
        sweep = submit_sweep(workspace, folder)
        if wait:
            wait_for(sweep)
        return {"logging-api": [run.id], "alpha-sweep": [r.id for r in sweep]}
    finally:
        workspace.close()
