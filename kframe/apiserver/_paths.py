"""Kubernetes REST paths: which resource, namespace, name and subresource a URL addresses."""

from __future__ import annotations

import attrs

from kframe.apiserver import _errors as errors
from kframe.apiserver._resources import Resource

__all__ = ["Target", "parse_resource_path"]


@attrs.frozen
class Target:
    """What a request addresses: a collection (``name`` None) or an object (or its subresource)."""

    resource: Resource
    namespace: str | None
    name: str | None
    subresource: str


def _not_found() -> errors.APIError:
    # Upstream's message for a path that names no resource.
    return errors.APIError(404, "NotFound", "the server could not find the requested resource")


def parse_resource_path(resources: dict[str, Resource], rest: list[str]) -> Target:
    """``rest`` is the path after ``/api/v1`` or ``/apis/<group>/<version>``; ``resources`` maps
    the plurals of that group/version to their resources."""
    if not rest:
        raise _not_found()
    if (
        rest[0] == "namespaces"
        and len(rest) >= 3
        and rest[2] in resources
        and (resources[rest[2]].namespaced)
    ):
        namespace, plural, tail = rest[1], rest[2], rest[3:]
    else:
        namespace, plural, tail = None, rest[0], rest[1:]
    resource = resources.get(plural)
    if resource is None or len(tail) > 2:
        raise _not_found()
    name = tail[0] if tail else None
    subresource = tail[1] if len(tail) == 2 else ""
    if subresource and subresource not in resource.subresources:
        raise _not_found()
    if name == "":
        raise _not_found()
    if resource.namespaced and name is not None and namespace is None:
        raise _not_found()
    return Target(resource, namespace, name, subresource)
