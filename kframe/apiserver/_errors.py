"""API errors as Kubernetes reports them: an HTTP code and a ``Status`` object.

Every failure the API server returns goes through :class:`APIError`, so clients (kubectl, the
Python client) see upstream's codes, reasons and messages (k8s.io/apimachinery/pkg/api/errors).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

__all__ = [
    "APIError",
    "Cause",
    "already_exists",
    "bad_request",
    "conflict",
    "expired",
    "forbidden",
    "gone",
    "internal_error",
    "invalid",
    "method_not_allowed",
    "not_acceptable",
    "not_found",
    "unsupported_media_type",
]


@attrs.frozen
class Cause:
    """One field-level problem (``metav1.StatusCause``)."""

    field: str
    message: str
    reason: str = "FieldValueInvalid"

    @property
    def text(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class APIError(Exception):
    """An error response: ``code``, ``reason`` and ``message`` as in a Kubernetes Status."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        name: str | None = None,
        group: str | None = None,
        kind: str | None = None,
        causes: Sequence[Cause] = (),
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.name = name
        self.group = group
        self.kind = kind
        self.causes = tuple(causes)
        self.retry_after = retry_after

    def to_status(self) -> dict[str, Any]:
        """The ``Status`` object, as JSON-shaped data."""
        details: dict[str, Any] = {}
        if self.name is not None:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        if self.kind is not None:
            details["kind"] = self.kind
        if self.causes:
            # metav1.StatusCause's fields are all omitempty: a cause without a field has none.
            details["causes"] = [
                {
                    k: v
                    for k, v in (("reason", c.reason), ("message", c.message), ("field", c.field))
                    if v
                }
                for c in self.causes
            ]
        if self.retry_after is not None:
            details["retryAfterSeconds"] = self.retry_after
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if not self.reason:  # StatusReasonUnknown is the empty reason, omitted as upstream
            del status["reason"]
        if details:
            status["details"] = details
        return status


def _qualified(resource: str, group: str) -> str:
    # Upstream names a resource with its group: `deployments.apps "web" not found`.
    return f"{resource}.{group}" if group else resource


def not_found(resource: str, group: str, name: str) -> APIError:
    return APIError(
        404,
        "NotFound",
        f'{_qualified(resource, group)} "{name}" not found',
        name=name,
        group=group,
        kind=resource,
    )


def already_exists(resource: str, group: str, name: str) -> APIError:
    return APIError(
        409,
        "AlreadyExists",
        f'{_qualified(resource, group)} "{name}" already exists',
        name=name,
        group=group,
        kind=resource,
    )


def conflict(resource: str, group: str, name: str, why: str) -> APIError:
    return APIError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": {why}',
        name=name,
        group=group,
        kind=resource,
    )


#: The reason upstream gives when a write carried a stale resourceVersion.
OPTIMISTIC_LOCK_MESSAGE = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def invalid(kind: str, group: str, name: str, causes: Sequence[Cause]) -> APIError:
    # Upstream: `Pod "web" is invalid: spec.containers[0].image: Required value`, with several
    # causes in brackets.
    texts = list(dict.fromkeys(c.text for c in causes))  # upstream's aggregate drops repeats
    summary = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    return APIError(
        422,
        "Invalid",
        f'{kind} "{name}" is invalid: {summary}',
        name=name,
        group=group,
        kind=kind,
        causes=causes,
    )


def bad_request(message: str, causes: Sequence[Cause] = ()) -> APIError:
    return APIError(400, "BadRequest", message, causes=causes)


def forbidden(resource: str, group: str, name: str, why: str) -> APIError:
    what = f'{_qualified(resource, group)} "{name}"' if name else _qualified(resource, group)
    return APIError(
        403,
        "Forbidden",
        f"{what} is forbidden: {why}",
        name=name or None,
        group=group,
        kind=resource,
    )


def gone(message: str) -> APIError:
    return APIError(410, "Gone", message)


def expired(message: str) -> APIError:
    """410 for a compacted resourceVersion or an expired continue token (reason Expired)."""
    return APIError(410, "Expired", message)


def method_not_allowed(
    message: str = "the server does not allow this method on the requested resource",
) -> APIError:
    return APIError(405, "MethodNotAllowed", message)


def unsupported_media_type(content_type: str, accepted: Sequence[str]) -> APIError:
    return APIError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: "
        f"{', '.join(accepted)}",
    )


def not_acceptable(accepted: Sequence[str]) -> APIError:
    return APIError(
        406,
        "NotAcceptable",
        f"only the following media types are accepted: {', '.join(accepted)}",
    )


def internal_error(message: str) -> APIError:
    return APIError(500, "InternalError", f"Internal error occurred: {message}")
