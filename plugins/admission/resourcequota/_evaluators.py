"""How much quota one object uses, per resource kind (upstream pkg/quota/v1/evaluator/core and
apiserver/pkg/quota/v1/generic).

Pods, services and persistent volume claims have their own evaluators; every other namespaced
resource is counted as ``count/<resource>[.<group>]`` on create, with upstream's legacy aliases
(``configmaps``, ``secrets``, ``resourcequotas``, ``replicationcontrollers``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_CEILING
from typing import Any, Protocol

from kframe.api import Quantity, is_qualified_name, parse_time, pod_limits, pod_requests
from kframe.apiserver import AdmissionRequest

from ._resources import ResourceList, add, resource_list

__all__ = ["Evaluator", "evaluator_for", "object_count_name", "scope_selectors"]

Object = Mapping[str, Any]
Selector = Mapping[str, Any]
ScopeFunc = Callable[[Selector, Object], bool]

#: Resources quota never charges for (``install.ignoredResources``): virtual or never quota-ed.
IGNORED = frozenset(
    {
        ("", "bindings"),
        ("", "componentstatuses"),
        ("", "events"),
        ("events.k8s.io", "events"),
        ("authentication.k8s.io", "tokenreviews"),
        ("authentication.k8s.io", "selfsubjectreviews"),
        ("authorization.k8s.io", "subjectaccessreviews"),
        ("authorization.k8s.io", "selfsubjectaccessreviews"),
        ("authorization.k8s.io", "localsubjectaccessreviews"),
        ("authorization.k8s.io", "selfsubjectrulesreviews"),
    }
)
#: ``legacyObjectCountAliases``: the names these counts had before ``count/``.
ALIASES = {
    "configmaps": "configmaps",
    "resourcequotas": "resourcequotas",
    "replicationcontrollers": "replicationcontrollers",
    "secrets": "secrets",
}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def object_count_name(group: str, resource: str) -> str:
    """``ObjectCountQuotaResourceNameFor``: ``count/pods``, ``count/deployments.apps``."""
    return f"count/{resource}.{group}" if group else f"count/{resource}"


def scope_selectors(quota: Object) -> list[Selector]:
    """``getScopeSelectorsFromQuota``: each of ``spec.scopes`` as Exists, then the selector."""
    spec = _mapping(quota.get("spec"))
    selectors: list[Selector] = [
        {"scopeName": scope, "operator": "Exists"} for scope in spec.get("scopes") or []
    ]
    selectors += _dicts(_mapping(spec.get("scopeSelector")).get("matchExpressions"))
    return selectors


def _matches_no_scope(selector: Selector, obj: Object) -> bool:
    return False


def _matches(
    quota: Object,
    obj: Object,
    matching: Callable[[Iterable[str]], list[str]],
    scope: ScopeFunc,
) -> bool:
    """``generic.Matches``: the quota's ``status.hard`` names a resource this kind uses, and the
    object is in every one of the quota's scopes."""
    hard = _mapping(_mapping(quota.get("status")).get("hard"))
    if not matching(hard):
        return False
    return all(scope(selector, obj) for selector in scope_selectors(quota))


def _intersection(names: Iterable[str], known: Sequence[str]) -> list[str]:
    return sorted(set(names) & set(known))


class Evaluator(Protocol):
    def handles(self, request: AdmissionRequest) -> bool: ...

    def matches(self, quota: Object, obj: Object) -> bool: ...

    def matching_resources(self, names: Iterable[str]) -> list[str]: ...

    def constraints(self, required: Sequence[str], obj: Object) -> str | None: ...

    def usage(self, obj: Object) -> ResourceList: ...


class ObjectCountEvaluator:
    """``generic.NewObjectCountEvaluator``: one of the kind per object, charged on create."""

    def __init__(self, group: str, resource: str, alias: str = "") -> None:
        self.names = [object_count_name(group, resource)] + ([alias] if alias else [])

    def handles(self, request: AdmissionRequest) -> bool:
        return request.operation == "CREATE"

    def matches(self, quota: Object, obj: Object) -> bool:
        return _matches(quota, obj, self.matching_resources, _matches_no_scope)

    def matching_resources(self, names: Iterable[str]) -> list[str]:
        return _intersection(names, self.names)

    def constraints(self, required: Sequence[str], obj: Object) -> str | None:
        return None

    def usage(self, obj: Object) -> ResourceList:
        return {name: Quantity(1) for name in self.names}


class ServiceEvaluator:
    """Services, their load balancers and their node ports (evaluator/core/services.go)."""

    names = ("count/services", "services", "services.loadbalancers", "services.nodeports")

    def handles(self, request: AdmissionRequest) -> bool:
        return request.operation in ("CREATE", "UPDATE")  # the type can change

    def matches(self, quota: Object, obj: Object) -> bool:
        return _matches(quota, obj, self.matching_resources, _matches_no_scope)

    def matching_resources(self, names: Iterable[str]) -> list[str]:
        return _intersection(names, self.names)

    def constraints(self, required: Sequence[str], obj: Object) -> str | None:
        return None

    def usage(self, obj: Object) -> ResourceList:
        spec = _mapping(obj.get("spec"))
        ports = _dicts(spec.get("ports"))
        usage: ResourceList = {
            "count/services": Quantity(1),
            "services": Quantity(1),
            "services.loadbalancers": Quantity(0),
            "services.nodeports": Quantity(0),
        }
        kind = spec.get("type")
        if kind == "NodePort":
            usage["services.nodeports"] = Quantity(len(ports))
        elif kind == "LoadBalancer":
            if spec.get("allocateLoadBalancerNodePorts") is False:
                # Node ports are not allocated: only those asked for explicitly count.
                usage["services.nodeports"] = Quantity(sum(1 for p in ports if p.get("nodePort")))
            else:
                usage["services.nodeports"] = Quantity(len(ports))
            usage["services.loadbalancers"] = Quantity(1)
        return usage


STORAGE_CLASS_SUFFIX = ".storageclass.storage.k8s.io/"
BETA_STORAGE_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


def _round_up(quantity: Quantity) -> Quantity:
    """``Quantity.RoundUp(0)``: whole bytes, so storage usage is always an integer."""
    value = quantity.as_decimal()
    if value == value.to_integral_value():
        return quantity
    return Quantity.from_int(int(value.to_integral_value(ROUND_CEILING)), quantity.format)


class ClaimEvaluator:
    """Persistent volume claims and their storage, also per storage class
    (evaluator/core/persistent_volume_claims.go; VolumeAttributesClass scopes are off)."""

    names = ("count/persistentvolumeclaims", "persistentvolumeclaims", "requests.storage")

    def handles(self, request: AdmissionRequest) -> bool:
        return request.operation in ("CREATE", "UPDATE")

    def matches(self, quota: Object, obj: Object) -> bool:
        return _matches(quota, obj, self.matching_resources, _matches_no_scope)

    def matching_resources(self, names: Iterable[str]) -> list[str]:
        result = []
        for name in names:
            if name in self.names or any(
                name.endswith(STORAGE_CLASS_SUFFIX + r)
                for r in ("persistentvolumeclaims", "requests.storage")
            ):
                result.append(name)
        return result

    def constraints(self, required: Sequence[str], obj: Object) -> str | None:
        return None

    def usage(self, obj: Object) -> ResourceList:
        meta = _mapping(obj.get("metadata"))
        spec = _mapping(obj.get("spec"))
        annotations = _mapping(meta.get("annotations"))
        if BETA_STORAGE_CLASS_ANNOTATION in annotations:
            storage_class = str(annotations[BETA_STORAGE_CLASS_ANNOTATION])
        else:
            storage_class = str(spec.get("storageClassName") or "")
        usage: ResourceList = {
            "persistentvolumeclaims": Quantity(1),
            "count/persistentvolumeclaims": Quantity(1),
        }
        if storage_class:
            usage[storage_class + STORAGE_CLASS_SUFFIX + "persistentvolumeclaims"] = Quantity(1)
        requested = resource_list(_mapping(spec.get("resources")).get("requests")).get("storage")
        if requested is None:
            return usage
        storage = _round_up(requested)
        allocated = resource_list(_mapping(obj.get("status")).get("allocatedResources")).get(
            "storage"
        )
        if allocated is not None and allocated > storage:
            storage = _round_up(allocated)
        usage["requests.storage"] = storage
        if storage_class:
            usage[storage_class + STORAGE_CLASS_SUFFIX + "requests.storage"] = storage
        return usage


# -- pods ---------------------------------------------------------------------------------------

POD_RESOURCES = (
    "count/pods",
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
)
POD_RESOURCE_PREFIXES = ("hugepages-", "requests.hugepages-")
#: Upstream calls requiring these on every container "a mistake" kept for compatibility.
VALIDATION_SET = frozenset(
    {"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}
)
QOS_RESOURCES = ("cpu", "memory")


def _is_native(name: str) -> bool:
    """``helper.IsNativeResource``: unprefixed, or in the kubernetes.io namespace."""
    return "/" not in name or "kubernetes.io/" in name


def _is_extended(name: str) -> bool:
    """``helper.IsExtendedResourceName``: e.g. ``example.com/dongle``."""
    if _is_native(name) or name.startswith("requests."):
        return False
    return not is_qualified_name("requests." + name)


def _is_extended_for_quota(name: str) -> bool:
    """``isExtendedResourceNameForQuota``: ``requests.example.com/dongle``."""
    return not _is_native(name) and name.startswith("requests.")


def _requirements(container: Mapping[str, Any]) -> tuple[ResourceList, ResourceList]:
    resources = _mapping(container.get("resources"))
    return resource_list(resources.get("requests")), resource_list(resources.get("limits"))


def _compute_usage(requests: ResourceList, limits: ResourceList) -> ResourceList:
    """``podComputeUsageHelper``."""
    usage: ResourceList = {"pods": Quantity(1)}
    for name in ("cpu", "memory", "ephemeral-storage"):
        if name in requests:
            usage[name] = requests[name]
            usage["requests." + name] = requests[name]
        if name in limits:
            usage["limits." + name] = limits[name]
    for name, quantity in requests.items():
        if name.startswith("hugepages-"):
            usage[name] = quantity
            usage["requests." + name] = quantity
        if _is_extended(name):
            usage["requests." + name] = quantity
    return usage


def is_terminating(pod: Object) -> bool:
    deadline = _mapping(pod.get("spec")).get("activeDeadlineSeconds")
    return isinstance(deadline, int) and deadline >= 0


def is_best_effort(pod: Object) -> bool:
    """``ComputePodQOS(pod) == BestEffort``: no nonzero cpu or memory request or limit."""
    spec = _mapping(pod.get("spec"))
    for field in ("containers", "initContainers"):
        for container in _dicts(spec.get(field)):
            for resources in _requirements(container):
                if any(resources[name] > 0 for name in QOS_RESOURCES if name in resources):
                    return False
    return True


def _cross_namespace(terms: Any, weighted: bool) -> bool:
    for term in _dicts(terms):
        inner = _mapping(term.get("podAffinityTerm")) if weighted else term
        if inner.get("namespaces") or inner.get("namespaceSelector") is not None:
            return True
    return False


def uses_cross_namespace_affinity(pod: Object) -> bool:
    affinity = _mapping(_mapping(pod.get("spec")).get("affinity"))
    for kind in ("podAffinity", "podAntiAffinity"):
        terms = _mapping(affinity.get(kind))
        if _cross_namespace(terms.get("requiredDuringSchedulingIgnoredDuringExecution"), False):
            return True
        if _cross_namespace(terms.get("preferredDuringSchedulingIgnoredDuringExecution"), True):
            return True
    return False


def _selector_matches(selector: Selector, labels: Mapping[str, str]) -> bool:
    """A scope selector requirement as a label selector requirement on ``labels``."""
    key = str(selector.get("scopeName"))
    values = selector.get("values") or []
    operator = selector.get("operator")
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False


def pod_matches_scope(selector: Selector, pod: Object) -> bool:
    """``podMatchesScopeFunc``."""
    scope = selector.get("scopeName")
    if scope == "Terminating":
        return is_terminating(pod)
    if scope == "NotTerminating":
        return not is_terminating(pod)
    if scope == "BestEffort":
        return is_best_effort(pod)
    if scope == "NotBestEffort":
        return not is_best_effort(pod)
    if scope == "PriorityClass":
        priority_class = _mapping(pod.get("spec")).get("priorityClassName") or ""
        if selector.get("operator") == "Exists":
            return bool(priority_class)
        labels = {"PriorityClass": str(priority_class)} if priority_class else {}
        return _selector_matches(selector, labels)
    if scope == "CrossNamespacePodAffinity":
        return uses_cross_namespace_affinity(pod)
    return False


def _charged(pod: Object, now: dt.datetime) -> bool:
    """``QuotaV1Pod``: not terminal, and not past the grace period of its deletion."""
    if _mapping(pod.get("status")).get("phase") in ("Failed", "Succeeded"):
        return False
    meta = _mapping(pod.get("metadata"))
    deleted, grace = meta.get("deletionTimestamp"), meta.get("deletionGracePeriodSeconds")
    if isinstance(deleted, str) and isinstance(grace, int):
        try:
            if now > parse_time(deleted) + dt.timedelta(seconds=grace):
                return False
        except ValueError:
            pass
    return True


class PodEvaluator:
    """Pods: compute resources of pods that can still run, and the pod count."""

    def handles(self, request: AdmissionRequest) -> bool:
        if request.operation == "UPDATE":
            # Charged again only when a pod moves between Terminating and NotTerminating.
            old, new = request.old_object or {}, request.object or {}
            return is_terminating(old) != is_terminating(new)
        return request.operation == "CREATE"

    def matches(self, quota: Object, obj: Object) -> bool:
        return _matches(quota, obj, self.matching_resources, pod_matches_scope)

    def matching_resources(self, names: Iterable[str]) -> list[str]:
        names = list(names)
        result = _intersection(names, POD_RESOURCES)
        for name in names:
            if name.startswith(POD_RESOURCE_PREFIXES):
                result.append(name)
            if _is_extended_for_quota(name):
                result.append(name)
        return result

    def constraints(self, required: Sequence[str], obj: Object) -> str | None:
        """Every container must set each cpu/memory request or limit a quota constrains."""
        needed = set(required) & VALIDATION_SET
        missing: dict[str, set[str]] = {}
        spec = _mapping(obj.get("spec"))
        for field in ("containers", "initContainers"):
            for container in _dicts(spec.get(field)):
                has = set(_compute_usage(*_requirements(container)))
                for name in needed - has:
                    missing.setdefault(name, set()).add(str(container.get("name", "")))
        if not missing:
            return None
        return "must specify " + "; ".join(
            f"{name} for: {','.join(sorted(missing[name]))}" for name in sorted(missing)
        )

    def usage(self, obj: Object) -> ResourceList:
        """``PodUsageFunc``: ``count/pods`` always; the rest while the pod is charged."""
        usage: ResourceList = {"count/pods": Quantity(1)}
        if not _charged(obj, dt.datetime.now(dt.UTC)):
            return usage
        spec = _mapping(obj.get("spec"))
        return add(usage, _compute_usage(pod_requests(spec), pod_limits(spec)))


def evaluator_for(group: str, resource: str) -> Evaluator | None:
    """The evaluator of a resource, or None for those quota ignores."""
    if (group, resource) in IGNORED:
        return None
    if not group:
        if resource == "pods":
            return PodEvaluator()
        if resource == "services":
            return ServiceEvaluator()
        if resource == "persistentvolumeclaims":
            return ClaimEvaluator()
    return ObjectCountEvaluator(group, resource, ALIASES.get(resource, "") if not group else "")
