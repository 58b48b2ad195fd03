"""``azureml.data.dataset_consumption_config`` (``runtrack.sdk.datasets``)."""

from runtrack.sdk.datasets import DatasetConsumptionConfig

__all__ = ["DatasetConsumptionConfig"]
