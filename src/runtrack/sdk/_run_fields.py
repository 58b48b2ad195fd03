"""Checks and conversions of what callers hand a run: ids, names, descriptions, tags and
properties, Azure-style filters, error details, the outputs folder. Used by ``Run`` and
``Experiment``; beside :mod:`runtrack.sdk._values`, which checks metric values."""

from __future__ import annotations

import os
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runtrack import limits
from runtrack.errors import InvalidTypeError, InvalidValueError, LimitExceededError
from runtrack.model import ErrorInfo
from runtrack.sdk import _values


def check_run_id(run_id: str) -> None:
    if not isinstance(run_id, str) or not run_id:
        raise InvalidValueError(
            f"run_id must be a non-empty str of at most {limits.MAX_RUN_ID_LENGTH} characters"
        )
    if len(run_id) > limits.MAX_RUN_ID_LENGTH:
        raise LimitExceededError(
            f"run_id of {len(run_id)} characters is over the limit of "
            f"{limits.MAX_RUN_ID_LENGTH} (runtrack.limits.MAX_RUN_ID_LENGTH)"
        )
    if any(c in run_id for c in "/\\") or any(ord(c) < 32 for c in run_id):
        raise InvalidValueError(f"run_id {run_id!r} must not contain slashes or control characters")


def check_display_name(name: str | None) -> str | None:
    if name is not None and len(name) > limits.MAX_DISPLAY_NAME_LENGTH:
        raise LimitExceededError(
            f"display name is {len(name)} characters; the limit is {limits.MAX_DISPLAY_NAME_LENGTH}"
        )
    return name


def check_description(text: str) -> str:
    if len(text) > limits.MAX_DESCRIPTION_LENGTH:
        raise LimitExceededError(
            f"description is {len(text)} characters; the limit is "
            f"{limits.MAX_DESCRIPTION_LENGTH}"
        )
    return text


def tag_strings(tags: Mapping[str, Any]) -> dict[str, str | None]:
    if not isinstance(tags, Mapping):
        raise InvalidTypeError(f"tags must be a dict, got {type(tags).__name__}")
    out: dict[str, str | None] = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not key:
            raise InvalidTypeError(f"tag/property keys must be non-empty str, got {key!r}")
        if len(key) > limits.MAX_TAG_KEY_LENGTH:
            raise LimitExceededError(
                f"key {key[:40]!r}… is {len(key)} characters; "
                f"the limit is {limits.MAX_TAG_KEY_LENGTH}"
            )
        text = _values.tag_value(value)
        if text is not None and len(text) > limits.MAX_TAG_VALUE_LENGTH:
            raise LimitExceededError(
                f"value of {key!r} is {len(text)} characters; the limit is "
                f"{limits.MAX_TAG_VALUE_LENGTH}"
            )
        out[key] = text
    return out


def tag_filter(value: Any) -> dict[str, str | None]:
    """Azure-style tag/property filter: a key, a list of keys, or a {key: value} dict."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {value: None}
    if isinstance(value, Mapping):
        return {str(k): _values.tag_value(v) for k, v in value.items()}
    return {str(k): None for k in value}


def error_info(details: Any, code: str | None) -> ErrorInfo:
    if isinstance(details, BaseException):
        text = "".join(traceback.format_exception(type(details), details, details.__traceback__))
        return ErrorInfo(
            code=code or "UserError",
            message=f"User program failed with {type(details).__name__}: {details}"[
                : limits.MAX_ERROR_MESSAGE_LENGTH
            ],
            type=type(details).__name__,
            traceback=text[-limits.MAX_ERROR_MESSAGE_LENGTH :],
        )
    message = "" if details is None else str(details)
    return ErrorInfo(code=code or "UserError", message=message[: limits.MAX_ERROR_MESSAGE_LENGTH])


def outputs_dir(outputs: Any) -> Path | None:
    """``start_logging(outputs=…)``: None/''/True → ./outputs, False → none, str → that."""
    if outputs is False:
        return None
    folder = Path("outputs" if outputs in (None, "", True) else str(outputs))
    if not os.path.isdir(folder):
        folder.mkdir(parents=True, exist_ok=True)
    if folder.parts == (folder.name,) and folder.name != ".." and not os.path.islink(folder):
        # one plain name under the working folder, whose path the kernel gives resolved:
        # what resolve() finds, without its lstat of every folder up to the root
        return Path(os.getcwd(), folder.name)
    return folder.resolve()


def artifact_prefix(folder: Path) -> str:
    """``folder``'s path under the working folder (its name when it is not under it).
    On POSIX the kernel gives the working folder resolved (no ``resolve()``, whose
    ``lstat`` of every folder up to the root each run's end paid)."""
    cwd = Path(os.getcwd()) if os.name == "posix" else Path.cwd().resolve()
    try:
        return folder.relative_to(cwd).as_posix()
    except ValueError:
        return folder.name
