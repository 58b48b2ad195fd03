"""``azureml.core.datastore``: runtrack's datastores (``runtrack.sdk.datasets``)."""

from runtrack.sdk.datasets import Datastore

__all__ = ["Datastore"]
