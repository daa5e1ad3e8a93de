"""Upstream's API defaulting: the fields kube-apiserver fills in when it decodes an object.

:func:`apply_defaults` runs, for one served resource, what ``RegisterDefaults`` of the resource's
API group/version registers for its kind (``SetObjectDefaults_<Kind>``): the hand-written
``SetDefaults_*`` functions of ``pkg/apis/<group>/<version>/defaults.go`` and the nested
defaulters ``zz_generated.defaults.go`` runs on its parts. Kinds with no defaulter upstream
(ConfigMap, ServiceAccount, Event, ResourceQuota, ControllerRevision, Role, ClusterRole, Lease,
RuntimeClass, PodDisruptionBudget, Binding) are left as they are.

Defaulting only fills fields that are unset; it never changes a value the client set, except
where upstream does too (a Service of ``sessionAffinity: None`` loses its
``sessionAffinityConfig``; a Namespace always carries its ``kubernetes.io/metadata.name``
label). Values stay in their JSON form: ``"25%"`` is a string, quantities are strings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kframe.apiserver import _defaults_core as core
from kframe.apiserver import _defaults_workloads as workloads
from kframe.apiserver._defaults_core import JSON, fill, fill_zero, items, struct

__all__ = ["DEFAULTERS", "apply_defaults"]

_RBAC_GROUP = "rbac.authorization.k8s.io"


# -- core/v1 (the pod, service and storage defaulters are in _defaults_core) --------------------


def _endpoints(eps: JSON) -> None:
    for subset in items(eps, "subsets"):
        for port in items(subset, "ports"):
            fill_zero(port, "protocol", "TCP")


def _endpoint_slice(slice_: JSON) -> None:
    """discovery/v1 SetDefaults_EndpointPort."""
    for port in items(slice_, "ports"):
        fill(port, "name", "")
        fill(port, "protocol", "TCP")


def _secret(s: JSON) -> None:
    fill_zero(s, "type", "Opaque")


def _namespace(ns: JSON) -> None:
    meta = struct(ns, "metadata")
    name = meta.get("name") if meta is not None else None
    if meta is not None and isinstance(name, str) and name:
        labels = meta.get("labels")
        if labels is None:
            labels = meta["labels"] = {}
        if isinstance(labels, dict):
            # Upstream sets this label unconditionally: it always names the namespace.
            labels["kubernetes.io/metadata.name"] = name
    status = struct(ns, "status")
    if status is not None:
        fill_zero(status, "phase", "Active")


def _node(n: JSON) -> None:
    status = core.obj(n, "status")
    capacity = core.obj(status, "capacity") if status is not None else None
    if status is not None and capacity and status.get("allocatable") is None:
        status["allocatable"] = dict(capacity)


def _limit_range(lr: JSON) -> None:
    spec = core.obj(lr, "spec")
    for item in items(spec, "limits"):
        if item.get("type") != "Container":
            continue
        default = _resource_list(item, "default")
        request = _resource_list(item, "defaultRequest")
        if default is None or request is None:
            continue
        # A missing default limit is the max; a missing default request the limit, else the min.
        for name, value in (core.obj(item, "max") or {}).items():
            default.setdefault(name, value)
        for name, value in default.items():
            request.setdefault(name, value)
        for name, value in (core.obj(item, "min") or {}).items():
            request.setdefault(name, value)
        for key, values in (("default", default), ("defaultRequest", request)):
            if values:
                item[key] = values


def _resource_list(d: JSON, key: str) -> dict[str, Any] | None:
    """A copy of the resource list at ``d[key]`` (``{}`` if unset); None if malformed."""
    value = d.get(key)
    if value is None:
        return {}
    return dict(value) if isinstance(value, dict) else None


# -- rbac.authorization.k8s.io/v1 and scheduling.k8s.io/v1 --------------------------------------


def _subjects(binding: JSON) -> None:
    """SetDefaults_Subject: Users and Groups are RBAC's; a ServiceAccount's group stays ``""``."""
    for subject in items(binding, "subjects"):
        if subject.get("kind") in ("User", "Group"):
            fill_zero(subject, "apiGroup", _RBAC_GROUP)


def _role_binding(binding: JSON) -> None:
    """SetDefaults_RoleBinding / SetDefaults_ClusterRoleBinding."""
    role_ref = struct(binding, "roleRef")
    if role_ref is not None:
        fill_zero(role_ref, "apiGroup", _RBAC_GROUP)
    _subjects(binding)


def _priority_class(pc: JSON) -> None:
    fill(pc, "preemptionPolicy", "PreemptLowerPriority")


#: plural -> the defaulter of its kind (only kinds upstream defaults).
DEFAULTERS: dict[str, Callable[[JSON], None]] = {
    # core/v1
    "pods": core.pod,
    "services": core.service,
    "endpoints": _endpoints,
    "secrets": _secret,
    "namespaces": _namespace,
    "nodes": _node,
    "persistentvolumes": core.persistent_volume,
    "persistentvolumeclaims": core.persistent_volume_claim,
    "limitranges": _limit_range,
    # apps/v1
    "deployments": workloads.deployment,
    "replicasets": workloads.replica_set,
    "daemonsets": workloads.daemon_set,
    "statefulsets": workloads.stateful_set,
    # batch/v1
    "jobs": workloads.job,
    "cronjobs": workloads.cron_job,
    # autoscaling/v2
    "horizontalpodautoscalers": workloads.horizontal_pod_autoscaler,
    # discovery.k8s.io/v1
    "endpointslices": _endpoint_slice,
    # rbac.authorization.k8s.io/v1
    "rolebindings": _role_binding,
    "clusterrolebindings": _role_binding,
    # scheduling.k8s.io/v1
    "priorityclasses": _priority_class,
}


def apply_defaults(plural: str, obj: dict[str, Any]) -> None:
    """Fill in, in place, the defaults kube-apiserver gives an object of resource ``plural``.

    Idempotent; a resource without defaults (or one kframe does not serve) is left unchanged.
    Malformed parts of ``obj`` are skipped, not repaired: decoding reports them afterwards.
    """
    defaulter = DEFAULTERS.get(plural)
    if defaulter is not None and isinstance(obj, dict):
        defaulter(obj)
