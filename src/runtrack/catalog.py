"""Plain values of the catalog: registered models and their versions, registered datasets
and the inputs runs read (the /api/v1 wire format, as in :mod:`runtrack.model`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from runtrack.errors import InvalidValueError
from runtrack.types import JSONDict

#: The artifact-store key (in place of a run id) under which registered model files live.
MODEL_FILES_KEY = ".models"


MAX_MODEL_NAME_LENGTH = 255


_MODEL_NAME_FORBIDDEN = set("/\\\x00")


def check_model_name(name: object) -> str:
    """``name`` if it can name a registered model, else InvalidValueError saying why."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidValueError(f"model name {name!r} is empty; give the model a name")
    if len(name) > MAX_MODEL_NAME_LENGTH:
        raise InvalidValueError(
            f"model name {name[:40]!r}… has {len(name)} characters, more than "
            f"{MAX_MODEL_NAME_LENGTH}; use a shorter name"
        )
    if _MODEL_NAME_FORBIDDEN & set(name) or name in (".", "..") or name != name.strip():
        raise InvalidValueError(
            f"model name {name!r} may not contain '/', '\\' or NUL, be '.' or '..', or "
            "start or end with spaces; use letters, digits, '-', '_' and '.'"
        )
    return name


@dataclass(frozen=True)
class RegisteredModelInfo:
    """A registered model: a name whose versions count up from 1.

    ``aliases`` maps alias -> version; ``latest_version`` is None while no version exists.
    """

    name: str
    created_time: float
    updated_time: float
    description: str | None = None
    tags: dict[str, str | None] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_version: int | None = None

    def to_json(self) -> JSONDict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RegisteredModelInfo:
        values = dict(data)
        values["aliases"] = {k: int(v) for k, v in (values.get("aliases") or {}).items()}
        return cls(**values)


@dataclass(frozen=True)
class ModelVersionInfo:
    """One version of a registered model.

    ``files`` is the folder under :data:`MODEL_FILES_KEY` in the artifact store holding
    the version's (immutable) files, or None when the version only points at ``source``.
    ``run_id`` is the run that produced it, if any.
    """

    name: str
    version: int
    created_time: float
    updated_time: float
    source: str
    files: str | None = None
    run_id: str | None = None
    description: str | None = None
    stage: str = "None"
    tags: dict[str, str | None] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)

    def to_json(self) -> JSONDict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelVersionInfo:
        return cls(**data)


@dataclass(frozen=True)
class DatasetInfo:
    """One version of a registered dataset: a definition (where the data is and how to
    read it), not a copy of the data. ``kind`` is ``tabular`` or ``file``; ``digest``
    fingerprints the definition and the files it named when registered."""

    name: str
    version: int
    created_time: float
    kind: str
    definition: dict[str, Any] = field(default_factory=dict)
    digest: str = ""
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> JSONDict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DatasetInfo:
        return cls(**data)


@dataclass(frozen=True)
class RunInputInfo:
    """A dataset a run read. ``name`` is the input's name (``as_named_input("train")``
    or an MLflow dataset's name); ``dataset_name``/``dataset_version`` point at a
    registered dataset when there is one. ``source_type``/``source``/``schema``/
    ``profile`` are MLflow's dataset fields; ``context`` is MLflow's
    ``mlflow.data.context`` tag (``training``, ``eval`` …). Inputs of a run are unique by
    (name, digest, context)."""

    name: str
    digest: str = ""
    dataset_name: str | None = None
    dataset_version: int | None = None
    source_type: str = ""
    source: str = ""
    schema: str = ""
    profile: str = ""
    context: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> JSONDict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunInputInfo:
        return cls(**data)


# -- named compute targets ---------------------------------------------------------------

#: The compute target every workspace has: runs start on this machine.
LOCAL_COMPUTE = "local"
#: Target kinds a workspace can name, with what their ``address`` is.
COMPUTE_KINDS = {"local": "no address", "ray": "a Ray job-submission address (http://host:8265)"}
MAX_COMPUTE_NAME_LENGTH = 255


def check_compute_target(name: object, kind: object, address: object) -> None:
    """Raise InvalidValueError saying what is wrong with a compute target to add."""
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise InvalidValueError(
            f"compute target name {name!r} is empty or starts/ends with spaces; give it a name"
        )
    if len(name) > MAX_COMPUTE_NAME_LENGTH or set(name) & set("/\\\x00"):
        raise InvalidValueError(
            f"compute target name {name[:40]!r} is longer than {MAX_COMPUTE_NAME_LENGTH} "
            "characters or contains '/', '\\' or NUL; use letters, digits, '-', '_' and '.'"
        )
    if name == LOCAL_COMPUTE:
        raise InvalidValueError(
            f"compute target {LOCAL_COMPUTE!r} always exists (this machine); use another name"
        )
    if kind not in COMPUTE_KINDS:
        raise InvalidValueError(
            f"compute target kind {kind!r} is unknown; use one of {', '.join(COMPUTE_KINDS)}"
        )
    if kind == "ray" and (
        not isinstance(address, str) or not address.startswith(("http://", "https://"))
    ):
        raise InvalidValueError(
            f"a Ray compute target needs {COMPUTE_KINDS['ray']}, got {address!r} (the "
            "address `ray job submit --address` takes; the head's dashboard port)"
        )
    if kind == "local" and address:
        raise InvalidValueError("a 'local' compute target takes no address")


@dataclass(frozen=True)
class ComputeTargetInfo:
    """A compute target a workspace names: ``kind`` (``local`` | ``ray``) and, for Ray,
    the job-submission ``address``."""

    name: str
    kind: str
    address: str | None = None
    created_time: float = 0.0

    def to_json(self) -> JSONDict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ComputeTargetInfo:
        return cls(
            name=str(data["name"]),
            kind=str(data["kind"]),
            address=data.get("address"),
            created_time=float(data.get("created_time") or 0.0),
        )
