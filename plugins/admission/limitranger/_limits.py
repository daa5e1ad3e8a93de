"""What LimitRanger computes, on plain JSON-shaped objects (upstream limitranger/admission.go).

Defaulting (``apply_defaults``) copies a LimitRange's ``Container`` defaults into the containers
that lack them; validation (``pod_violations``, ``claim_violations``) returns upstream's messages
for every ``min``, ``max`` and ``maxLimitRequestRatio`` a pod or claim breaks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from kframe.api import (
    Quantity,
    ResourceList,
    pod_limits,
    pod_requests,
    resource_list,
)

__all__ = [
    "ANNOTATION",
    "ResourceList",
    "aggregate",
    "apply_defaults",
    "claim_violations",
    "pod_violations",
]

#: Upstream's ``limitRangerAnnotation``: what defaulting filled in, on the pod.
ANNOTATION = "kubernetes.io/limit-ranger"
CONTAINER = "Container"
POD = "Pod"
CLAIM = "PersistentVolumeClaim"
#: ``resource.MaxMilliValue``: past it upstream compares whole units instead of milli-units.
MAX_MILLI_VALUE = (2**63 - 1) // 1000


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def _items(limit_range: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from _dicts(_mapping(limit_range.get("spec")).get("limits"))


# -- defaulting ---------------------------------------------------------------------------------


def _default_requirements(limit_range: Mapping[str, Any]) -> tuple[ResourceList, ResourceList]:
    """``defaultContainerResourceRequirements``: (requests, limits); later items win."""
    requests: ResourceList = {}
    limits: ResourceList = {}
    for item in _items(limit_range):
        if item.get("type") == CONTAINER:
            requests.update(resource_list(item.get("defaultRequest")))
            limits.update(resource_list(item.get("default")))
    return requests, limits


def _merge_container(
    container: dict[str, Any], requests: ResourceList, limits: ResourceList, prefix: str
) -> list[str]:
    """``mergeContainerResources``: fill what is missing; say what was filled."""
    resources = container.get("resources")
    if resources is None:
        resources = {}
    if not isinstance(resources, dict):
        return []  # not a ResourceRequirements: validation refuses the pod
    notes: list[str] = []
    for field, defaults, word in (("requests", requests, "request"), ("limits", limits, "limit")):
        current = resources.get(field)
        if current is None:
            current = {}
        if not isinstance(current, dict):
            return notes
        missing = sorted(name for name in defaults if name not in current)
        if not missing:
            continue
        for name in missing:
            current[name] = str(defaults[name])
        resources[field] = current
        container["resources"] = resources
        notes.append(f"{', '.join(missing)} {word} for {prefix} {container.get('name', '')}")
    return notes


def apply_defaults(limit_range: Mapping[str, Any], pod: dict[str, Any]) -> None:
    """``PodMutateLimitFunc``: default the pod's (init) containers from one LimitRange."""
    requests, limits = _default_requirements(limit_range)
    if not requests and not limits:
        return
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return
    notes: list[str] = []
    for field, prefix in (("containers", "container"), ("initContainers", "init container")):
        for container in _dicts(spec.get(field)):
            notes += _merge_container(container, requests, limits, prefix)
    if notes:
        meta = pod.setdefault("metadata", {})
        annotations = meta.get("annotations")
        if not isinstance(annotations, dict):
            annotations = meta["annotations"] = {}
        annotations[ANNOTATION] = "LimitRanger plugin set: " + "; ".join(notes)


# -- constraints --------------------------------------------------------------------------------


def _values(request: Quantity, limit: Quantity, enforced: Quantity) -> tuple[int, int, int]:
    """``requestLimitEnforcedValues``: milli-units when none would overflow, else units."""
    values = (request.value(), limit.value(), enforced.value())
    if all(v <= MAX_MILLI_VALUE for v in values):
        return request.milli_value(), limit.milli_value(), enforced.milli_value()
    return values


def _min(
    kind: str, name: str, enforced: Quantity, requests: ResourceList, limits: ResourceList
) -> str | None:
    req, lim = requests.get(name), limits.get(name)
    observed_req, observed_lim, value = _values(req or Quantity(), lim or Quantity(), enforced)
    if req is None:
        return f"minimum {name} usage per {kind} is {enforced}.  No request is specified"
    if observed_req < value:
        return f"minimum {name} usage per {kind} is {enforced}, but request is {req}"
    if lim is not None and observed_lim < value:
        return f"minimum {name} usage per {kind} is {enforced}, but limit is {lim}"
    return None


def _max(
    kind: str, name: str, enforced: Quantity, requests: ResourceList, limits: ResourceList
) -> str | None:
    req, lim = requests.get(name), limits.get(name)
    observed_req, observed_lim, value = _values(req or Quantity(), lim or Quantity(), enforced)
    if lim is None:
        return f"maximum {name} usage per {kind} is {enforced}.  No limit is specified"
    if observed_lim > value:
        return f"maximum {name} usage per {kind} is {enforced}, but limit is {lim}"
    if req is not None and observed_req > value:
        return f"maximum {name} usage per {kind} is {enforced}, but request is {req}"
    return None


def _max_request(kind: str, name: str, enforced: Quantity, requests: ResourceList) -> str | None:
    """``maxRequestConstraint``: for claims, whose limits are not user input."""
    req = requests.get(name)
    observed_req, _, value = _values(req or Quantity(), Quantity(), enforced)
    if req is None:
        return f"maximum {name} usage per {kind} is {enforced}.  No request is specified"
    if observed_req > value:
        return f"maximum {name} usage per {kind} is {enforced}, but request is {req}"
    return None


def _ratio(
    kind: str, name: str, enforced: Quantity, requests: ResourceList, limits: ResourceList
) -> str | None:
    req, lim = requests.get(name), limits.get(name)
    observed_req, observed_lim, _ = _values(req or Quantity(), lim or Quantity(), enforced)
    head = f"{name} max limit to request ratio per {kind} is {enforced}"
    if req is None or observed_req == 0:
        return f"{head}, but no request is specified or request is 0"
    if lim is None or observed_lim == 0:
        return f"{head}, but no limit is specified or limit is 0"
    # As upstream, in float64: compare in milli-units unless the maximum would overflow them.
    observed = float(observed_lim) / float(observed_req)
    shown = observed
    maximum = float(enforced.value())
    if enforced.value() <= MAX_MILLI_VALUE:
        observed *= 1000
        maximum = float(enforced.milli_value())
    if observed > maximum:
        return f"{head}, but provided ratio is {shown:f}"
    return None


def _check(
    item: Mapping[str, Any], kind: str, requests: ResourceList, limits: ResourceList
) -> Iterator[str]:
    # Upstream ranges over Go maps (random order); sorted names keep messages stable.
    for check, field in ((_min, "min"), (_max, "max"), (_ratio, "maxLimitRequestRatio")):
        bounds = resource_list(item.get(field))
        for name in sorted(bounds):
            problem = check(kind, name, bounds[name], requests, limits)
            if problem is not None:
                yield problem


def _requirements(container: Mapping[str, Any]) -> tuple[ResourceList, ResourceList]:
    resources = _mapping(container.get("resources"))
    return resource_list(resources.get("requests")), resource_list(resources.get("limits"))


def pod_violations(limit_range: Mapping[str, Any], pod: Mapping[str, Any]) -> list[str]:
    """``PodValidateLimitFunc``: every Container and Pod constraint the pod breaks."""
    spec = _mapping(pod.get("spec"))
    problems: list[str] = []
    for item in _items(limit_range):
        kind = item.get("type")
        if kind == CONTAINER:
            for field in ("containers", "initContainers"):
                for container in _dicts(spec.get(field)):
                    requests, limits = _requirements(container)
                    problems += _check(item, CONTAINER, requests, limits)
        elif kind == POD:
            problems += _check(
                item, POD, pod_requests(spec, overhead=False), pod_limits(spec, overhead=False)
            )
    return problems


def claim_violations(limit_range: Mapping[str, Any], claim: Mapping[str, Any]) -> list[str]:
    """``PersistentVolumeClaimValidateLimitFunc``: storage requests against min and max."""
    requests = resource_list(
        _mapping(_mapping(_mapping(claim.get("spec")).get("resources"))).get("requests")
    )
    problems: list[str] = []
    for item in _items(limit_range):
        if item.get("type") != CLAIM:
            continue
        minimum = resource_list(item.get("min"))
        for name in sorted(minimum):
            problem = _min(CLAIM, name, minimum[name], requests, {})
            if problem is not None:
                problems.append(problem)
        maximum = resource_list(item.get("max"))
        for name in sorted(maximum):
            problem = _max_request(CLAIM, name, maximum[name], requests)
            if problem is not None:
                problems.append(problem)
    return problems


def aggregate(messages: Iterable[str]) -> str:
    """``utilerrors.NewAggregate(...).Error()``: one message, or ``[a, b]`` without repeats."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"
