"""The errors a CRI runtime raises, named after the gRPC status codes CRI runtimes return.

Runtimes raise them from :class:`~kframe.runtime.RuntimeService` and
:class:`~kframe.runtime.ImageService` methods; the kubelet catches them to decide what to report
(``ErrImagePull``, ``RunContainerError``, a missing container) and what to retry. Every message is
one line naming the object (``container "c-3" not found``).
"""

from __future__ import annotations

__all__ = [
    "AlreadyExistsError",
    "CRIError",
    "ContainerStartError",
    "FailedPreconditionError",
    "ImagePullError",
    "InvalidArgumentError",
    "NotFoundError",
    "UnimplementedError",
]


class CRIError(Exception):
    """Base class of runtime errors; ``code`` is the gRPC status code a CRI runtime would use."""

    code = "Unknown"


class NotFoundError(CRIError, LookupError):
    """No sandbox, container or image has the id (status, start, exec, stats).

    Stop and remove never raise it: they are idempotent, as CRI requires.
    """

    code = "NotFound"

    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"{what} {ident!r} not found")
        self.what = what
        self.ident = ident


class AlreadyExistsError(CRIError):
    """A sandbox or container with the same metadata (name, namespace, uid, attempt) exists."""

    code = "AlreadyExists"

    def __init__(self, what: str, name: str, ident: str) -> None:
        super().__init__(f"{what} {name!r} already exists as {ident!r}")
        self.what = what
        self.name = name
        self.ident = ident


class InvalidArgumentError(CRIError, ValueError):
    """A request is malformed: a missing metadata name, an empty image, a negative timeout."""

    code = "InvalidArgument"


class FailedPreconditionError(CRIError):
    """The object is in the wrong state: starting a running container, exec in an exited one."""

    code = "FailedPrecondition"


class UnimplementedError(CRIError, NotImplementedError):
    """The runtime does not implement the call; it declares so in its capabilities."""

    code = "Unimplemented"

    def __init__(self, runtime: str, call: str) -> None:
        super().__init__(f"runtime {runtime!r} does not implement {call}")
        self.runtime = runtime
        self.call = call


class ImagePullError(CRIError):
    """PullImage failed; the kubelet reports ``ErrImagePull`` and then ``ImagePullBackOff``."""

    code = "Unknown"

    def __init__(self, image: str, message: str) -> None:
        super().__init__(f"failed to pull image {image!r}: {message}")
        self.image = image
        self.message = message


class ContainerStartError(CRIError):
    """StartContainer failed; the container is left EXITED with ``reason`` in its status.

    The kubelet reports ``RunContainerError`` and restarts by the pod's restart policy.
    """

    code = "Unknown"

    def __init__(self, container_id: str, reason: str, message: str) -> None:
        super().__init__(f"failed to start container {container_id!r}: {reason}: {message}")
        self.container_id = container_id
        self.reason = reason
        self.message = message
