"""The logging-api walkthrough: every kind of metric, logged and read back.

Run it from anywhere; it writes into the default local workspace (./.runtrack) unless
RUNTRACK_TRACKING_URI or a runtrack.json says otherwise:

    python examples/logging_api.py
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from runtrack import Experiment, Run, Workspace

try:
    from tqdm import tqdm
except ImportError:  # tqdm is optional: iterate plainly without it

    def tqdm(iterable):  # type: ignore[no-redef]
        return iterable


def main() -> dict:
    ws = Workspace.from_config()
    experiment = Experiment(workspace=ws, name="logging-api-test")
    run = experiment.start_logging(outputs=False)
    run_id = run.id
    scale_factor = 2
    category = "Red"

    run.log(name="Category", value=category)
    run.log(name="scale factor", value=scale_factor)
    run.log(name="Magic Number", value=42 * scale_factor)

    fibonacci_values = [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89]
    scaled_values = (i * scale_factor for i in fibonacci_values)
    run.log_list(name="Fibonacci", value=scaled_values)

    for i in tqdm(range(-10, 10)):
        run.log(name="Sigmoid", value=1 / (1 + np.exp(-i)))

    sines: dict[str, list[float]] = {"angle": [], "sine": []}
    for i in range(-10, 10):
        angle = i / 2.0 * scale_factor
        run.log_row(name="Cosine Wave", angle=angle, cos=np.cos(angle))
        sines["angle"].append(angle)
        sines["sine"].append(np.sin(angle))
    run.log_table(name="Sine Wave", value=sines)

    with tempfile.TemporaryDirectory() as tmp:
        image = os.path.join(tmp, "tanh.png")
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            angles = np.linspace(-3, 3, 50) * scale_factor
            plt.plot(angles, np.tanh(angles), label="tanh")
            plt.legend(fontsize=12)
            plt.title("Hyperbolic Tangent", fontsize=16)
            run.log_image(name="Hyperbolic Tangent", plot=plt)
            plt.savefig(image)
            plt.close()
        except ImportError:  # matplotlib is optional: write a tiny PNG by hand instead
            import base64

            png = base64.b64decode(
                "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAcCBlCwAAAABJRU5ErkJggg=="
            )
            with open(image, "wb") as fh:
                fh.write(png)
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            run.log_image(name="tanh file", path="tanh.png")
        finally:
            os.chdir(cwd)

    run.log_confusion_matrix(
        name="confusion",
        value={
            "schema_type": "confusion_matrix",
            "schema_version": "1.0.0",
            "data": {"class_labels": ["cat", "dog"], "matrix": [[41, 3], [5, 51]]},
        },
    )

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "myfile.txt")
        with open(path, "w") as fh:
            fh.write("This is an output file that will be uploaded.\n")
        run.upload_file(name="logging-api/myfile.txt", path_or_stream=path)

    run.complete()

    fetched_run = Run(experiment, run_id)
    metrics = fetched_run.get_metrics()
    fetched_run.tag("My Favorite Run")
    fetched_run.tag("Competition Rank", 1)
    print(f"run {run_id} is {fetched_run.get_status()}")
    for name, value in metrics.items():
        text = json.dumps(value, default=str)
        print(f"  {name}: {text[:100]}{'…' if len(text) > 100 else ''}")
    print("files:", fetched_run.get_file_names())
    print("tags:", fetched_run.get_tags())
    return metrics


if __name__ == "__main__":
    main()
