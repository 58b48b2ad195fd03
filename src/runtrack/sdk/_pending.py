"""Azure ML names runtrack does not implement (yet): output datasets, data paths, and
the rarer HyperDrive distributions.

The ``azureml`` import shim takes these names from here, so code that imports them keeps
importing; using one raises :class:`NotImplementedError` naming the feature. Datasets,
the model registry and HyperDrive themselves live in ``runtrack.sdk.datasets``,
``runtrack.sdk.models`` and ``runtrack.sdk.hyperdrive``.
"""

from __future__ import annotations

from typing import Any, NoReturn

DATASETS = "output datasets and data paths (OutputFileDatasetConfig, DataPath)"
SWEEPS = "the HyperDrive distributions qnormal, lognormal and qlognormal"
_UNTIL = {
    DATASETS: "write outputs to the run's outputs/ folder and register them with "
    "Dataset.File.from_files(...).register(...)",
    SWEEPS: "use normal, loguniform or qloguniform",
}


def _refuse(name: str, feature: str) -> NoReturn:
    raise NotImplementedError(
        f"{name}: runtrack does not implement {feature} yet (planned). Until then, "
        f"{_UNTIL[feature]}; see docs/porting.md"
    )


class _PendingType(type):
    """Metaclass: calling the class or reading any public attribute of it refuses."""

    _feature: str

    def __call__(cls, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(cls.__name__, cls._feature)

    def __getattr__(cls, attr: str) -> NoReturn:
        if attr.startswith("__"):
            raise AttributeError(attr)
        _refuse(f"{cls.__name__}.{attr}", cls._feature)


def _pending_class(name: str, feature: str) -> type:
    return _PendingType(name, (), {"_feature": feature, "__module__": __name__})


def _pending_function(name: str, feature: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        _refuse(name, feature)

    refuse.__name__ = refuse.__qualname__ = name
    return refuse


# datasets
OutputFileDatasetConfig = _pending_class("OutputFileDatasetConfig", DATASETS)
DataPath = _pending_class("DataPath", DATASETS)

# HyperDrive
qnormal = _pending_function("qnormal", SWEEPS)
lognormal = _pending_function("lognormal", SWEEPS)
qlognormal = _pending_function("qlognormal", SWEEPS)
