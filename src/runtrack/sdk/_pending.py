"""Azure ML names whose runtrack feature is still being built (datasets, the model
registry, HyperDrive sweeps).

The ``azureml`` import shim takes these names from here, and only here, so code that
imports them keeps importing; using one raises :class:`NotImplementedError` naming the
feature. When a feature lands, point its names at the real classes in this one module
(``runtrack.sdk.datasets``, ``runtrack.sdk.models``, ``runtrack.sweep``).
"""

from __future__ import annotations

from typing import Any, NoReturn

DATASETS = "datasets (Dataset, Datastore, TabularDataset, FileDataset)"
MODELS = "the model registry (Model, run.register_model)"
SWEEPS = "HyperDrive sweeps (HyperDriveConfig, parameter sampling, early termination)"
_UNTIL = {
    DATASETS: "pass local file paths as script arguments",
    MODELS: "keep model files in the run's outputs/ folder and download them from the run",
    SWEEPS: "submit one ScriptRunConfig per parameter set as child runs (run.submit_child)",
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
Dataset = _pending_class("Dataset", DATASETS)
Datastore = _pending_class("Datastore", DATASETS)
TabularDataset = _pending_class("TabularDataset", DATASETS)
FileDataset = _pending_class("FileDataset", DATASETS)
OutputFileDatasetConfig = _pending_class("OutputFileDatasetConfig", DATASETS)
DataPath = _pending_class("DataPath", DATASETS)
DatasetConsumptionConfig = _pending_class("DatasetConsumptionConfig", DATASETS)

# model registry
Model = _pending_class("Model", MODELS)

# HyperDrive
HyperDriveConfig = _pending_class("HyperDriveConfig", SWEEPS)
HyperDriveRun = _pending_class("HyperDriveRun", SWEEPS)
RandomParameterSampling = _pending_class("RandomParameterSampling", SWEEPS)
GridParameterSampling = _pending_class("GridParameterSampling", SWEEPS)
BayesianParameterSampling = _pending_class("BayesianParameterSampling", SWEEPS)
BanditPolicy = _pending_class("BanditPolicy", SWEEPS)
MedianStoppingPolicy = _pending_class("MedianStoppingPolicy", SWEEPS)
TruncationSelectionPolicy = _pending_class("TruncationSelectionPolicy", SWEEPS)
NoTerminationPolicy = _pending_class("NoTerminationPolicy", SWEEPS)
PrimaryMetricGoal = _pending_class("PrimaryMetricGoal", SWEEPS)
choice = _pending_function("choice", SWEEPS)
randint = _pending_function("randint", SWEEPS)
uniform = _pending_function("uniform", SWEEPS)
quniform = _pending_function("quniform", SWEEPS)
loguniform = _pending_function("loguniform", SWEEPS)
qloguniform = _pending_function("qloguniform", SWEEPS)
normal = _pending_function("normal", SWEEPS)
qnormal = _pending_function("qnormal", SWEEPS)
lognormal = _pending_function("lognormal", SWEEPS)
qlognormal = _pending_function("qlognormal", SWEEPS)
