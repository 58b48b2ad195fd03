"""``azureml.train.hyperdrive.parameter_expressions`` (runtrack.sdk.hyperdrive)."""

from runtrack.sdk._pending import lognormal, qlognormal, qnormal
from runtrack.sdk.hyperdrive import (
    choice,
    loguniform,
    normal,
    qloguniform,
    quniform,
    randint,
    uniform,
)

__all__ = [
    "choice",
    "lognormal",
    "loguniform",
    "normal",
    "qlognormal",
    "qloguniform",
    "qnormal",
    "quniform",
    "randint",
    "uniform",
]
