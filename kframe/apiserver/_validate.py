"""Per-kind validation: upstream's ``Validate<Kind>`` / ``Validate<Kind>Update`` rules.

:func:`validate` checks a decoded and defaulted object of one resource (by plural) on create
(``old`` is ``None``) or update, and returns the problems as :class:`Cause` values worded as
kube-apiserver words them (``spec.containers[0].image: Required value``). Metadata rules common to
every kind (name format, labels, annotations) are the strategy's and are not repeated here, except
where a kind names its objects differently from the default (RBAC, StatefulSets).

The rules come from ``k8s.io/kubernetes/pkg/apis/<group>/validation`` and, for selector
immutability on apps/v1 updates, the kinds' registry strategies; the modules they live in are
``_validate_pods`` (and the container, volume, probe and scheduling modules it uses),
``_validate_workloads``, ``_validate_batch``, ``_validate_services``, ``_validate_core``,
``_validate_groups`` and ``_validate_rbac``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kframe.apiserver._errors import Cause
from kframe.apiserver._validate_batch import validate_cronjob, validate_job
from kframe.apiserver._validate_core import (
    validate_configmap,
    validate_namespace,
    validate_node,
    validate_pv,
    validate_pvc,
    validate_secret,
)
from kframe.apiserver._validate_groups import (
    validate_endpointslice,
    validate_lease,
    validate_pdb,
    validate_priorityclass,
    validate_runtimeclass,
)
from kframe.apiserver._validate_pods import validate_pod
from kframe.apiserver._validate_rbac import (
    validate_binding,
    validate_clusterrole,
    validate_clusterrolebinding,
    validate_hpa,
    validate_role,
)
from kframe.apiserver._validate_services import validate_endpoints, validate_service
from kframe.apiserver._validate_workloads import (
    validate_controllerrevision,
    validate_daemonset,
    validate_deployment,
    validate_replicaset,
    validate_statefulset,
)

__all__ = ["VALIDATORS", "validate"]

Validator = Callable[[dict[str, Any], dict[str, Any] | None], list[Cause]]

#: plural -> the kind's rules.
VALIDATORS: dict[str, Validator] = {
    "pods": validate_pod,
    "services": validate_service,
    "endpoints": validate_endpoints,
    "configmaps": validate_configmap,
    "secrets": validate_secret,
    "namespaces": validate_namespace,
    "nodes": validate_node,
    "persistentvolumes": validate_pv,
    "persistentvolumeclaims": validate_pvc,
    "deployments": validate_deployment,
    "replicasets": validate_replicaset,
    "statefulsets": validate_statefulset,
    "daemonsets": validate_daemonset,
    "controllerrevisions": validate_controllerrevision,
    "jobs": validate_job,
    "cronjobs": validate_cronjob,
    "priorityclasses": validate_priorityclass,
    "leases": validate_lease,
    "poddisruptionbudgets": validate_pdb,
    "horizontalpodautoscalers": validate_hpa,
    "roles": validate_role,
    "clusterroles": validate_clusterrole,
    "rolebindings": validate_binding,
    "clusterrolebindings": validate_clusterrolebinding,
    "endpointslices": validate_endpointslice,
    "runtimeclasses": validate_runtimeclass,
}


def validate(plural: str, obj: dict[str, Any], old: dict[str, Any] | None) -> list[Cause]:
    """The kind's validation errors for ``obj`` (an update of ``old`` when given), in order."""
    validator = VALIDATORS.get(plural)
    return validator(obj, old) if validator is not None else []
