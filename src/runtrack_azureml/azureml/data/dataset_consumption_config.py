"""``azureml.data.dataset_consumption_config`` (pending: NotImplementedError on use)."""

from runtrack.sdk._pending import DatasetConsumptionConfig

__all__ = ["DatasetConsumptionConfig"]
