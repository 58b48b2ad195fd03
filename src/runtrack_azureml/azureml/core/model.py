"""``azureml.core.model``: runtrack's model registry (``runtrack.sdk.models``)."""

from runtrack.sdk.models import Model

__all__ = ["Model"]
