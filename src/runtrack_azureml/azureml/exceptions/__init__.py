"""``azureml.exceptions``: Azure's exception names for runtrack's error tree."""

from runtrack.errors import ConfigError as RunEnvironmentException
from runtrack.errors import RunFailedError as ActivityFailedException
from runtrack.errors import RuntrackError as AzureMLException
from runtrack.errors import RuntrackError as UserErrorException
from runtrack.sdk.compute import ComputeTargetException

ExperimentExecutionException = AzureMLException

__all__ = [
    "ActivityFailedException",
    "AzureMLException",
    "ComputeTargetException",
    "ExperimentExecutionException",
    "RunEnvironmentException",
    "UserErrorException",
]
