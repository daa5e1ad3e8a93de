"""A pod's effective resource requests and limits, as upstream's component-helpers compute them.

Containers add up; an init container needs its own amount plus the restartable (sidecar) init
containers started before it; the pod needs the larger of the two; pod overhead is added
(k8s.io/component-helpers/resource: PodRequests, PodLimits). Works on JSON-shaped pod specs,
as admission plugins see them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

from kframe.api._quantity import Quantity, QuantityError

__all__ = ["ResourceList", "pod_limits", "pod_requests", "resource_list"]

ResourceList = dict[str, Quantity]


def resource_list(value: Any) -> ResourceList:
    """A JSON ``ResourceList`` as quantities; entries that do not parse are left out."""
    result: ResourceList = {}
    if isinstance(value, Mapping):
        for name, raw in value.items():
            try:
                result[name] = Quantity.parse(raw)
            except (QuantityError, TypeError):
                continue
    return result


def _dicts(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, Mapping))


def _own(
    container: Mapping[str, Any],
    which: Literal["requests", "limits"],
    non_missing: Mapping[str, Quantity] | None = None,
) -> ResourceList:
    resources = container.get("resources")
    own = resource_list(resources.get(which) if isinstance(resources, Mapping) else None)
    if non_missing:
        for name, quantity in non_missing.items():
            own.setdefault(name, quantity)
    return own


def _add_into(total: ResourceList, more: Mapping[str, Quantity]) -> None:
    for name, quantity in more.items():
        total[name] = total[name] + quantity if name in total else quantity


def _max_into(total: ResourceList, more: Mapping[str, Quantity]) -> None:
    for name, quantity in more.items():
        if name not in total or quantity > total[name]:
            total[name] = quantity


def _aggregate(
    spec: Mapping[str, Any],
    which: Literal["requests", "limits"],
    non_missing: Mapping[str, Quantity] | None = None,
) -> ResourceList:
    total: ResourceList = {}
    for container in _dicts(spec.get("containers")):
        _add_into(total, _own(container, which, non_missing))
    sidecars: ResourceList = {}
    init: ResourceList = {}
    for container in _dicts(spec.get("initContainers")):
        own = _own(container, which, non_missing)
        if container.get("restartPolicy") == "Always":
            _add_into(total, own)
            _add_into(sidecars, own)
            needed = dict(sidecars)
        else:
            needed = dict(own)
            _add_into(needed, sidecars)
        _max_into(init, needed)
    _max_into(total, init)
    return total


def pod_requests(
    spec: Mapping[str, Any],
    *,
    overhead: bool = True,
    non_missing: Mapping[str, Quantity] | None = None,
) -> ResourceList:
    """``PodRequests``: what the pod needs, with its overhead unless ``overhead=False``.

    ``non_missing`` is upstream's ``NonMissingContainerRequests``: a container (or init
    container) that requests none of a resource named there counts as requesting that amount;
    the scheduler's 100m CPU / 200Mi memory defaults for spreading work this way.
    """
    requests = _aggregate(spec, "requests", non_missing)
    if overhead:
        _add_into(requests, resource_list(spec.get("overhead")))
    return requests


def pod_limits(spec: Mapping[str, Any], *, overhead: bool = True) -> ResourceList:
    """``PodLimits``: overhead is added only to the limits that are set and nonzero."""
    limits = _aggregate(spec, "limits")
    if overhead:
        for name, quantity in resource_list(spec.get("overhead")).items():
            if name in limits and not limits[name].is_zero():
                limits[name] = limits[name] + quantity
    return limits
