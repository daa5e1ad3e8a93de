"""The subresources with behaviour of their own: ``scale``, ``pods/binding``, ``pods/eviction``.

Each follows upstream's registry code: scale reads and writes the parent's ``spec.replicas``;
binding assigns an unbound pod to a node (pkg/registry/core/pod/storage: assignPod); eviction
deletes a pod only if no PodDisruptionBudget forbids it (pkg/registry/core/pod/storage/eviction).
"""

from __future__ import annotations

from typing import Any

import attrs

from kframe.api import SelectorError, from_dict, selector_from_label_selector
from kframe.api.models import Pod, PodCondition, PodStatus
from kframe.apiserver import _errors as errors
from kframe.apiserver._meta import metadata, now_rfc3339
from kframe.apiserver._storage import ListOptions, ObjectStorage

__all__ = ["bind", "evict", "get_scale", "scale_from", "success", "update_scale"]


def success(code: int = 201) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code}


def _selector_string(obj: dict[str, Any]) -> str:
    selector = (obj.get("spec") or {}).get("selector") or {}
    try:
        return str(
            selector_from_label_selector(
                selector.get("matchLabels"), selector.get("matchExpressions")
            )
        )
    except SelectorError:
        return ""


def scale_from(obj: dict[str, Any]) -> dict[str, Any]:
    """The autoscaling/v1 Scale view of a Deployment, ReplicaSet or StatefulSet."""
    meta = metadata(obj)
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": _selector_string(obj),
        },
    }


async def get_scale(storage: ObjectStorage, namespace: str | None, name: str) -> dict[str, Any]:
    return scale_from(await storage.get(namespace, name))


async def update_scale(
    storage: ObjectStorage, namespace: str | None, name: str, scale: dict[str, Any]
) -> dict[str, Any]:
    """Set the parent's spec.replicas from ``scale`` (a stale resourceVersion is a conflict)."""
    replicas = (scale.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise errors.invalid(
            "Scale",
            "autoscaling",
            name,
            [
                errors.Cause(
                    "spec.replicas",
                    f"Invalid value: {replicas!r}: must be greater than or equal to 0",
                )
            ],
        )
    current = await storage.get(namespace, name)
    wanted_rv = metadata(scale).get("resourceVersion")
    if wanted_rv and wanted_rv != metadata(current).get("resourceVersion"):
        raise errors.conflict(
            storage.resource.plural, storage.resource.group, name, errors.OPTIMISTIC_LOCK_MESSAGE
        )
    current.setdefault("spec", {})["replicas"] = replicas
    return scale_from(await storage.update(current, namespace, name))


async def bind(
    pods: ObjectStorage, namespace: str, binding: dict[str, Any], name: str | None = None
) -> dict[str, Any]:
    """Assign the pod ``binding`` names to ``binding.target`` (a Node)."""
    pod_name = name or metadata(binding).get("name")
    target = binding.get("target") or {}
    node = target.get("name")
    if not pod_name:
        raise errors.invalid(
            "Binding",
            "",
            "",
            [
                errors.Cause(
                    "metadata.name",
                    "Required value: name or generateName is required",
                    "FieldValueRequired",
                )
            ],
        )
    if not node:
        raise errors.invalid(
            "Binding",
            "",
            pod_name,
            [errors.Cause("target.name", "Required value", "FieldValueRequired")],
        )
    if target.get("kind") not in (None, "", "Node"):
        raise errors.invalid(
            "Binding",
            "",
            pod_name,
            [
                errors.Cause(
                    "target.kind", f"Invalid value: \"{target['kind']}\": must be empty or 'Node'"
                )
            ],
        )
    for _attempt in range(5):
        pod = await pods.get(namespace, pod_name)
        meta = metadata(pod)
        if meta.get("deletionTimestamp"):
            raise errors.conflict(
                "pods",
                "",
                pod_name,
                f"pod {pod_name} is being deleted, cannot be assigned to a host",
            )
        spec = pod.setdefault("spec", {})
        if spec.get("nodeName"):
            raise errors.conflict(
                "pods",
                "",
                pod_name,
                f'pod {pod_name} is already assigned to node "{spec["nodeName"]}"',
            )
        spec["nodeName"] = node
        status = pod.setdefault("status", {})
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        conditions.append(
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now_rfc3339()}
        )
        status["conditions"] = conditions
        before = pods.recalled(pod)
        try:
            bound = await pods.system_update(pod, namespace, pod_name)
        except errors.APIError as exc:
            if exc.reason == "Conflict":
                continue
            raise
        if before is not None:
            pods.remember(bound, _bound_model(before, node, conditions[-1], bound))
        return success()
    raise errors.conflict("pods", "", pod_name, errors.OPTIMISTIC_LOCK_MESSAGE)


def _bound_model(before: Pod, node: str, condition: dict[str, Any], bound: dict[str, Any]) -> Pod:
    """What ``bound`` decodes to, from the model of the pod before the binding: the node, the
    PodScheduled condition in place of any earlier one, the new resourceVersion."""
    cond = from_dict(condition, PodCondition)
    status = before.status
    if status is None:
        status = PodStatus(conditions=(cond,))
    else:
        kept = tuple(c for c in status.conditions if c.type != "PodScheduled")
        status = attrs.evolve(status, conditions=(*kept, cond))
    assert before.spec is not None and before.metadata is not None  # recalled from a create
    return attrs.evolve(
        before,
        metadata=attrs.evolve(before.metadata, resource_version=metadata(bound)["resourceVersion"]),
        spec=attrs.evolve(before.spec, node_name=node),
        status=status,
    )


def _can_ignore_budget(pod: dict[str, Any]) -> bool:
    # Upstream: terminal and pending pods, and pods already being deleted, are not protected.
    phase = (pod.get("status") or {}).get("phase")
    return bool(metadata(pod).get("deletionTimestamp")) or phase in (
        "Succeeded",
        "Failed",
        "Pending",
    )


async def evict(
    pods: ObjectStorage, budgets: ObjectStorage, namespace: str, name: str, eviction: dict[str, Any]
) -> dict[str, Any]:
    """Delete the pod unless its PodDisruptionBudget allows no more disruptions (429)."""
    pod = await pods.get(namespace, name)
    if not _can_ignore_budget(pod):
        labels = metadata(pod).get("labels") or {}
        listed = await budgets.list(namespace, ListOptions())
        matching = []
        for pdb in listed["items"]:
            selector = (pdb.get("spec") or {}).get("selector")
            if selector is None:
                continue
            try:
                sel = selector_from_label_selector(
                    selector.get("matchLabels"), selector.get("matchExpressions")
                )
            except SelectorError:
                continue
            if not sel.empty() and sel.matches(labels):
                matching.append(pdb)
        if len(matching) > 1:
            raise errors.internal_error(
                "This pod has more than one PodDisruptionBudget, which "
                "the eviction subresource does not support."
            )
        if matching:
            await _consume_disruption(budgets, namespace, matching[0], name)
    options = eviction.get("deleteOptions") or {}
    await pods.delete(
        namespace,
        name,
        preconditions=options.get("preconditions"),
        propagation=options.get("propagationPolicy"),
    )
    return success()


async def _consume_disruption(
    budgets: ObjectStorage, namespace: str, pdb: dict[str, Any], pod_name: str
) -> None:
    status = pdb.setdefault("status", {})
    allowed = status.get("disruptionsAllowed", 0)
    if (status.get("observedGeneration") or 0) < (metadata(pdb).get("generation") or 0) or (
        allowed <= 0
    ):
        raise errors.APIError(
            429,
            "TooManyRequests",
            "Cannot evict pod as it would violate the pod's disruption budget.",
            causes=[
                errors.Cause(
                    "",
                    f"The disruption budget {metadata(pdb).get('name')} needs "
                    f"{status.get('desiredHealthy', 0)} healthy pods and has "
                    f"{status.get('currentHealthy', 0)} currently",
                    "DisruptionBudget",
                )
            ],
        )
    status["disruptionsAllowed"] = allowed - 1
    disrupted = dict(status.get("disruptedPods") or {})
    disrupted[pod_name] = now_rfc3339()
    status["disruptedPods"] = disrupted
    try:
        await budgets.update(pdb, namespace, metadata(pdb)["name"], subresource="status")
    except errors.APIError as exc:
        if exc.reason == "Conflict":  # another eviction got there first: ask to retry
            raise errors.APIError(
                429, "TooManyRequests", "the disruption budget changed; try again", retry_after=1
            ) from None
        raise
