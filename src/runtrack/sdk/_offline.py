"""The run ``Run.get_context()`` returns outside a submitted run.

It stores nothing and prints what it would have logged, in Azure ML's words, so a
training script runs unchanged on a laptop. Logging calls never raise.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any


class OfflineRun:
    """A stand-in run: every logging call prints and returns."""

    def __init__(self) -> None:
        import uuid  # (platform) not at import time

        self.id = f"OfflineRun_{uuid.uuid4()}"
        self._run_id = self.id
        self.number = 0
        self.tags: dict[str, str | None] = {}
        self.properties: dict[str, str] = {}

    def _say(self, kind: str, name: str, value: Any) -> None:
        print(f"Attempted to log {kind} metric {name}:\n{value}")

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        self._say("scalar", name, value)

    def log_list(self, name: str, value: Any, description: str = "") -> None:
        self._say("list", name, value)

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        self._say("row", name, kwargs)

    def log_table(self, name: str, value: Any, description: str = "") -> None:
        self._say("table", name, value)

    def log_image(
        self, name: str, path: Any = None, plot: Any = None, description: str = ""
    ) -> None:
        self._say("image", name, plot if plot is not None else path)

    def log_residuals(self, name: str, value: Any, description: str = "") -> None:
        self._say("residual", name, value)

    def log_predictions(self, name: str, value: Any, description: str = "") -> None:
        self._say("predictions", name, value)

    def log_accuracy_table(self, name: str, value: Any, description: str = "") -> None:
        self._say("accuracy_table", name, value)

    def log_confusion_matrix(self, name: str, value: Any, description: str = "") -> None:
        self._say("confusion_matrix", name, value)

    def tag(self, key: str, value: Any = None) -> None:
        print(f"Attempted to add tag {key} with value {value}")

    def set_tags(self, tags: Any) -> None:
        print(f"Attempted to set tags {tags}")

    def add_properties(self, properties: Any) -> None:
        print(f"Attempted to add properties {properties}")

    def upload_file(self, name: str, path_or_stream: Any, datastore_name: Any = None) -> None:
        print(f"Attempted to track file {name} at {path_or_stream}")

    def upload_files(
        self,
        names: Any,
        paths: Any,
        return_artifacts: bool = False,
        timeout_seconds: Any = None,
        datastore_name: Any = None,
    ) -> None:
        print(f"Attempted to track files {names} at {paths} with timeout {timeout_seconds}s")

    def upload_folder(self, name: str, path: Any, datastore_name: Any = None) -> None:
        print(f"Attempted to track folder {name} at {path}")

    def child_run(
        self, name: str | None = None, run_id: str | None = None, outputs: Any = None
    ) -> OfflineRun:
        import uuid

        child = OfflineRun()
        child.id = child._run_id = f"{self.id}.{name or uuid.uuid4()}"
        return child

    def complete(self, _set_status: bool = True) -> None:
        return None

    def cancel(self) -> None:
        return None

    def fail(self, error_details: Any = None, error_code: str | None = None) -> None:
        print(f"Run failed with error code {error_code}:\n{error_details}")

    def flush(self, timeout_seconds: float = 300) -> None:
        print(f"Attempted to flush run with id {self.id}")

    def __enter__(self) -> OfflineRun:
        print(f"[START] Run {self.id} context")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        print(f"[STOP] Run {self.id} context")

    def __repr__(self) -> str:
        return f"OfflineRun(Id: {self.id})"
