"""``azureml.core.datastore``: datastores are pending (NotImplementedError on use)."""

from runtrack.sdk._pending import Datastore

__all__ = ["Datastore"]
