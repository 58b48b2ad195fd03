"""``azureml.core.authentication``: accepted and ignored (runtrack uses its own token)."""

from typing import Any


class _Authentication:
    """Any Azure credential object: kept, never used."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs


class InteractiveLoginAuthentication(_Authentication):
    pass


class ServicePrincipalAuthentication(_Authentication):
    pass


class AzureCliAuthentication(_Authentication):
    pass


class MsiAuthentication(_Authentication):
    pass


__all__ = [
    "AzureCliAuthentication",
    "InteractiveLoginAuthentication",
    "MsiAuthentication",
    "ServicePrincipalAuthentication",
]
