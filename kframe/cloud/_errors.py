"""The errors a cloud provider raises to tell the cloud controllers what happened.

As upstream's ``k8s.io/cloud-provider`` (cloud.go's ``InstanceNotFound``, ``NotImplemented``,
``ImplementedElsewhere``; ``api.RetryError``). The controllers match them by class.
"""

from __future__ import annotations

__all__ = [
    "CloudError",
    "ImplementedElsewhere",
    "InstanceNotFound",
    "NotImplementedByProvider",
    "RetryError",
]


class CloudError(Exception):
    """Base class of the errors with a meaning to the cloud controllers."""


class InstanceNotFound(CloudError, LookupError):
    """The node's instance does not exist in the cloud (upstream ``InstanceNotFound``:
    raise it only for an instance that is truly gone, never for a failed call)."""

    def __init__(self, message: str = "instance not found") -> None:
        super().__init__(message)


class NotImplementedByProvider(CloudError):
    """The provider does not implement this call (upstream ``NotImplemented``)."""

    def __init__(self, message: str = "unimplemented") -> None:
        super().__init__(message)


class ImplementedElsewhere(CloudError):
    """Something other than this provider handles the object (upstream
    ``ImplementedElsewhere``): the service controller leaves the Service's status alone
    instead of failing. Raised by ``ensure_load_balancer`` and ``update_load_balancer``;
    never by ``ensure_load_balancer_deleted``."""

    def __init__(self, message: str = "implemented by alternate to cloud provider") -> None:
        super().__init__(message)


class RetryError(CloudError):
    """Reconcile again after ``retry_after`` seconds, a fixed delay instead of the work
    queue's exponential backoff (upstream ``api.RetryError``, for a load balancer that is
    still being provisioned). It is not a failure: no warning Event is recorded."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(0.0, float(retry_after))
