"""The subresources with behaviour of their own: ``scale``, ``pods/binding``, ``pods/eviction``.

Each follows upstream's registry code: scale reads and writes the parent's ``spec.replicas``;
binding assigns an unbound pod to a node (pkg/registry/core/pod/storage: assignPod); eviction
deletes a pod only if no PodDisruptionBudget forbids it (pkg/registry/core/pod/storage/eviction).
"""

from __future__ import annotations

from typing import Any

from kframe.api import SelectorError, evolve, from_dict, selector_from_label_selector
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
            # ``pod`` is this attempt's own read, changed with JSON values only.
            bound = await pods.system_update(pod, namespace, pod_name, handed_over=True)
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
        status = evolve(status, conditions=(*kept, cond))
    assert before.spec is not None and before.metadata is not None  # recalled from a create
    return evolve(
        before,
        metadata=evolve(before.metadata, resource_version=metadata(bound)["resourceVersion"]),
        spec=evolve(before.spec, node_name=node),
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


#: Upstream's MaxDisruptedPodSize: evictions the disruption controller has not yet confirmed.
MAX_DISRUPTED_PODS = 2000
_RETRIES = 20  # upstream's EvictionsRetry steps, for conflicts on the pod or the budget
_VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget."


async def evict(
    pods: ObjectStorage,
    budgets: ObjectStorage,
    namespace: str,
    name: str,
    eviction: dict[str, Any],
    *,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Delete the pod unless its PodDisruptionBudget allows no more disruptions (429), after
    marking it with the ``DisruptionTarget`` condition (upstream EvictionREST.Create).

    A dry run (``dry_run``, the request's ``?dryRun=All``, or ``deleteOptions.dryRun``, which
    upstream's propagateDryRun merges) answers the same but changes neither the pod nor the
    budget."""
    options = eviction.get("deleteOptions") or {}
    dry_run = dry_run or "All" in (options.get("dryRun") or ())
    given = dict(options.get("preconditions") or {})
    user_rv = bool(given.get("resourceVersion"))
    propagation = options.get("propagationPolicy")
    for attempt in range(_RETRIES):
        pod = await pods.get(namespace, name)
        if not _can_ignore_budget(pod):
            break
        # A terminal or terminating pod goes at once; a pending one only as read
        # (shouldEnforceResourceVersion: it must not have become ready meanwhile).
        preconditions = dict(given)
        phase = (pod.get("status") or {}).get("phase")
        pending = not metadata(pod).get("deletionTimestamp") and phase not in (
            "Succeeded",
            "Failed",
        )
        if pending and not user_rv:
            preconditions["resourceVersion"] = metadata(pod)["resourceVersion"]
        try:
            await _mark_and_delete(pods, namespace, name, preconditions, propagation, dry_run)
        except errors.APIError as exc:
            if exc.reason == "Conflict" and not user_rv and attempt + 1 < _RETRIES:
                continue  # upstream retries conflicts unless the caller named a version
            raise
        return success()
    preconditions = dict(given)
    # The budget that let an unhealthy pod go without a decrement, if one did.
    pinned_by = await _check_budgets(budgets, namespace, pod, dry_run)
    if pinned_by is not None and not user_rv:
        preconditions["resourceVersion"] = metadata(pod)["resourceVersion"]
    try:
        await _mark_and_delete(pods, namespace, name, preconditions, propagation, dry_run)
    except errors.APIError as exc:
        if exc.reason == "Conflict" and pinned_by is not None and not user_rv:
            # The unhealthy pod changed since the budget was read: ask the client to retry.
            raise _still_processing(pinned_by) from None
        raise
    return success()


def _selects(pdb: dict[str, Any], labels: dict[str, str]) -> bool:
    # policy/v1: a nil selector selects nothing, an empty one ``{}`` every pod in the namespace
    # (policy/v1beta1's empty selector selected none); an invalid one selects nothing.
    selector = (pdb.get("spec") or {}).get("selector")
    if selector is None:
        return False
    try:
        sel = selector_from_label_selector(
            selector.get("matchLabels"), selector.get("matchExpressions")
        )
    except SelectorError:
        return False
    return sel.matches(labels)


def _ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or ()
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


async def _check_budgets(
    budgets: ObjectStorage, namespace: str, pod: dict[str, Any], dry_run: bool = False
) -> str | None:
    """Consume a disruption of the pod's budget, or raise; the budget's name when an unhealthy
    pod may go without consuming one (then only the pod as read may be deleted)."""
    labels = metadata(pod).get("labels") or {}
    listed = await budgets.list(namespace, ListOptions())
    matching = [pdb for pdb in listed["items"] if _selects(pdb, labels)]
    if len(matching) > 1:
        # Upstream returns this Status (code 500, no reason) rather than an error.
        raise errors.APIError(
            500,
            "",
            "This pod has more than one PodDisruptionBudget, which the eviction subresource "
            "does not support.",
        )
    if not matching:
        return None
    pdb = matching[0]
    pdb_name: str = metadata(pdb)["name"]
    if not _ready(pod):  # IsPodReady is upstream's IsHealthy
        spec, status = pdb.get("spec") or {}, pdb.get("status") or {}
        if spec.get("unhealthyPodEvictionPolicy") == "AlwaysAllow":
            return pdb_name
        # IfHealthyBudget (the default): an unhealthy pod may go while the budget is met.
        desired = status.get("desiredHealthy", 0)
        if status.get("currentHealthy", 0) >= desired > 0:
            return pdb_name
    for attempt in range(_RETRIES):
        try:
            await _consume_disruption(budgets, namespace, pdb, metadata(pod)["name"], dry_run)
            return None
        except errors.APIError as exc:
            if exc.reason != "Conflict" or attempt + 1 == _RETRIES:
                raise
            pdb = await budgets.get(namespace, pdb_name)  # RetryOnConflict, refreshed
    return None  # not reached


def _still_processing(name: str) -> errors.APIError:
    """Upstream's createTooManyRequestsError."""
    return errors.APIError(
        429,
        "TooManyRequests",
        _VIOLATION,
        causes=[
            errors.Cause(
                "",
                f"The disruption budget {name} is still being processed by the server.",
                "DisruptionBudget",
            )
        ],
        retry_after=10,
    )


async def _consume_disruption(
    budgets: ObjectStorage,
    namespace: str,
    pdb: dict[str, Any],
    pod_name: str,
    dry_run: bool = False,
) -> None:
    """Upstream's checkAndDecrement: refuse, or take one disruption and record the pod (a dry
    run only checks)."""
    name = metadata(pdb)["name"]
    status = pdb.setdefault("status", {})
    allowed = status.get("disruptionsAllowed", 0)
    if (status.get("observedGeneration") or 0) < (metadata(pdb).get("generation") or 0):
        raise _still_processing(name)
    if allowed < 0:
        raise errors.forbidden(
            "poddisruptionbudget", "policy", name, "pdb disruptions allowed is negative"
        )
    if len(status.get("disruptedPods") or {}) > MAX_DISRUPTED_PODS:
        raise errors.forbidden(
            "poddisruptionbudget",
            "policy",
            name,
            "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
        )
    if allowed == 0:
        raise errors.APIError(
            429,
            "TooManyRequests",
            _VIOLATION,
            causes=[
                errors.Cause(
                    "",
                    f"The disruption budget {name} needs {status.get('desiredHealthy', 0)} "
                    f"healthy pods and has {status.get('currentHealthy', 0)} currently",
                    "DisruptionBudget",
                )
            ],
        )
    if dry_run:
        return
    status["disruptionsAllowed"] = allowed - 1
    if allowed == 1:  # pdbhelper.UpdateDisruptionAllowedCondition
        _set_condition(
            status,
            {
                "type": "DisruptionAllowed",
                "status": "False",
                "reason": "InsufficientPods",
                "message": "",
                "observedGeneration": status.get("observedGeneration") or 0,
            },
        )
    disrupted = dict(status.get("disruptedPods") or {})
    disrupted[pod_name] = now_rfc3339()
    status["disruptedPods"] = disrupted
    await budgets.update(pdb, namespace, name, subresource="status")


def _set_condition(status: dict[str, Any], condition: dict[str, Any]) -> None:
    """apimeta.SetStatusCondition: the transition time moves only when the status changes."""
    conditions = [dict(c) for c in status.get("conditions") or ()]
    for i, old in enumerate(conditions):
        if old.get("type") == condition["type"]:
            changed = old.get("status") != condition["status"]
            when = now_rfc3339() if changed else old.get("lastTransitionTime") or now_rfc3339()
            conditions[i] = {**old, **condition, "lastTransitionTime": when}
            break
    else:
        conditions.append({**condition, "lastTransitionTime": now_rfc3339()})
    status["conditions"] = conditions


async def _mark_and_delete(
    pods: ObjectStorage,
    namespace: str,
    name: str,
    preconditions: dict[str, Any],
    propagation: str | None,
    dry_run: bool = False,
) -> None:
    """Upstream's addConditionAndDeletePod: the latest pod (checked against the preconditions)
    gets ``DisruptionTarget`` (True, EvictionByEvictionAPI), then is deleted. A dry run checks
    the preconditions and the deletion without writing either."""
    for attempt in range(_RETRIES):
        latest = await pods.get(namespace, name)
        meta = metadata(latest)
        uid, rv = preconditions.get("uid"), preconditions.get("resourceVersion")
        if uid and uid != meta.get("uid"):
            raise errors.conflict(
                "Pod",
                "",
                name,
                f"the UID in the precondition ({uid}) does not match the UID in record "
                f"({meta.get('uid')}). The object might have been deleted and then recreated",
            )
        if rv and rv != meta.get("resourceVersion"):
            raise errors.conflict(
                "Pod",
                "",
                name,
                f"the ResourceVersion in the precondition ({rv}) does not match the "
                f"ResourceVersion in record ({meta.get('resourceVersion')}). The object might "
                "have been modified",
            )
        if dry_run:
            break
        status = latest.setdefault("status", {})
        conditions = [dict(c) for c in status.get("conditions") or ()]
        target = {
            "type": "DisruptionTarget",
            "status": "True",
            "reason": "EvictionByEvictionAPI",
            "message": "Eviction API: evicting",
        }
        for i, old in enumerate(conditions):
            if old.get("type") == "DisruptionTarget":
                # UpdatePodCondition: the transition time stays if the status does.
                same = old.get("status") == "True" and old.get("lastTransitionTime")
                when = old["lastTransitionTime"] if same else now_rfc3339()
                conditions[i] = {**target, "lastTransitionTime": when}
                break
        else:
            conditions.append({**target, "lastTransitionTime": now_rfc3339()})
        status["conditions"] = conditions
        try:
            updated = await pods.update(latest, namespace, name, subresource="status")
        except errors.APIError as exc:
            if exc.reason == "Conflict" and attempt + 1 < _RETRIES:
                continue  # GuaranteedUpdate: read the latest pod again
            raise
        if rv:  # we modified the pod: the caller's resourceVersion is now ours
            preconditions = {
                **preconditions,
                "resourceVersion": metadata(updated)["resourceVersion"],
            }
        break
    await pods.delete(
        namespace,
        name,
        preconditions=preconditions or None,
        propagation=propagation,
        dry_run=dry_run,
    )
