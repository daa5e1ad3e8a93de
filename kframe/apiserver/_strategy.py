"""Per-kind behaviour of the generic REST storage: defaulting, validation, status handling.

:class:`Strategy` is what most kinds need; kinds with their own rules subclass it (as upstream's
per-kind ``strategy.go`` files do) and are listed in ``STRATEGIES``.
"""

from __future__ import annotations

from typing import Any

from kframe.api import (
    DecodeError,
    Quantity,
    QuantityError,
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
)
from kframe.apiserver._errors import Cause
from kframe.apiserver._meta import deadline_rfc3339, metadata, name_causes

__all__ = ["STRATEGIES", "Strategy", "decode_causes"]


def decode_causes(error: DecodeError) -> list[Cause]:
    return [Cause(p, r, _reason(r)) for p, r in error.errors]


def _reason(message: str) -> str:
    if message.startswith("Unsupported value"):
        return "FieldValueNotSupported"
    if message.startswith("Required value"):
        return "FieldValueRequired"
    if message == "unknown field":
        return "FieldValueInvalid"
    return "FieldValueTypeInvalid"


class Strategy:
    """Defaults to the behaviour upstream gives most kinds."""

    #: Validator of metadata.name (most kinds: a DNS-1123 subdomain).
    name_validator: Any = staticmethod(is_dns1123_subdomain)
    #: metadata.generation starts at 1 and grows on every spec change.
    tracks_generation = True

    def __init__(self, has_status: bool) -> None:
        self.has_status = has_status

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        """Clear or set what the server owns before the first write."""
        if self.tracks_generation:
            metadata(obj)["generation"] = 1
        if self.has_status:
            obj.pop("status", None)

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        """Keep what a main-resource update may not change; bump the generation on spec change."""
        if self.has_status:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        if self.tracks_generation:
            generation = metadata(old).get("generation", 1)
            changed = {k: v for k, v in new.items() if k not in ("metadata", "status")} != {
                k: v for k, v in old.items() if k not in ("metadata", "status")
            }
            metadata(new)["generation"] = generation + 1 if changed else generation

    def prepare_for_status_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        """A status update changes status only (and metadata the status writer owns)."""
        status = new.get("status")
        new.clear()
        new.update({k: v for k, v in old.items() if k != "status"})
        if status is not None:
            new["status"] = status

    def grace_period(self, obj: dict[str, Any], requested: int | None) -> int:
        """Seconds a deletion waits for (0: delete now). Most kinds delete at once."""
        return 0

    def prepare_for_finalize(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        """A ``finalize`` subresource write (namespaces only): as a main-resource update."""
        self.prepare_for_update(new, old)

    def finalized(self, obj: dict[str, Any]) -> bool:
        """Whether a marked object whose metadata.finalizers are gone may go (upstream's
        ShouldDeleteDuringUpdate). Namespaces also wait for their spec.finalizers."""
        return True

    def begin_deletion(self, obj: dict[str, Any], propagation: str | None) -> str:
        """A kind's own DELETE: ``"write"`` (``obj`` was marked in place: store it and return
        it), ``"keep"`` (return ``obj`` unchanged), or ``""``: the generic finalizers and grace
        period decide."""
        return ""

    def validate(self, obj: dict[str, Any]) -> list[Cause]:
        """Metadata rules common to every kind (name, labels, annotations)."""
        meta = metadata(obj)
        causes: list[Cause] = []
        name = meta.get("name")
        if name:
            causes += name_causes(name, validator=self.name_validator)
        for key, value in (meta.get("labels") or {}).items():
            causes += [
                Cause("metadata.labels", f'Invalid value: "{key}": {m}')
                for m in is_qualified_name(key)
            ]
            causes += [
                Cause("metadata.labels", f'Invalid value: "{value}": {m}')
                for m in is_valid_label_value(value)
            ]
        for key in meta.get("annotations") or {}:
            causes += [
                Cause("metadata.annotations", f'Invalid value: "{key}": {m}')
                for m in is_qualified_name(key.lower())
            ]
        return causes


class NamespaceStrategy(Strategy):
    name_validator = staticmethod(is_dns1123_label)
    tracks_generation = False

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {"phase": "Active"}
        # Upstream adds the kubernetes finalizer so the namespace controller can empty it.
        spec = obj.setdefault("spec", {})
        finalizers = spec.setdefault("finalizers", [])
        if "kubernetes" not in finalizers:
            finalizers.append("kubernetes")

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        # Upstream: spec.finalizers change only through namespaces/{name}/finalize.
        super().prepare_for_update(new, old)
        finalizers = (old.get("spec") or {}).get("finalizers")
        spec = new.setdefault("spec", {})
        if finalizers:
            spec["finalizers"] = finalizers
        else:
            spec.pop("finalizers", None)

    def prepare_for_finalize(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        # Upstream's namespaceFinalizeStrategy: everything but the status may change.
        if "status" in old:
            new["status"] = old["status"]
        else:
            new.pop("status", None)

    def finalized(self, obj: dict[str, Any]) -> bool:
        # Upstream ShouldDeleteNamespaceDuringUpdate.
        return not (obj.get("spec") or {}).get("finalizers")

    def begin_deletion(self, obj: dict[str, Any], propagation: str | None) -> str:
        # Upstream namespace REST Delete: the first DELETE marks the namespace Terminating
        # (deletionTimestamp now, propagation as metadata.finalizers) for the namespace
        # controller to empty; later ones wait until spec.finalizers are gone.
        meta = metadata(obj)
        if meta.get("deletionTimestamp"):
            return "" if self.finalized(obj) else "keep"
        meta["deletionTimestamp"] = deadline_rfc3339(0)
        obj.setdefault("status", {})["phase"] = "Terminating"
        if propagation:
            finalizers = [
                f for f in meta.get("finalizers") or () if f not in ("orphan", "foregroundDeletion")
            ]
            extra = {"Orphan": "orphan", "Foreground": "foregroundDeletion"}.get(propagation)
            if extra:
                finalizers.append(extra)
            meta["finalizers"] = finalizers
            if not finalizers:
                del meta["finalizers"]
        return "write"


class ServiceStrategy(Strategy):
    name_validator = staticmethod(is_dns1035_label)
    tracks_generation = False


class NoGenerationStrategy(Strategy):
    tracks_generation = False


class NodeStrategy(NoGenerationStrategy):
    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        # Upstream's node strategy: "Nodes allow *all* fields, including status, to be set on
        # create" (a kubelet registers its node with capacity and addresses in one write).
        status = obj.get("status")
        super().prepare_for_create(obj)
        if status is not None:
            obj["status"] = status


class RBACStrategy(NoGenerationStrategy):
    # RBAC names are path segments, not DNS names (system:aggregate-to-view); the kind's own
    # validation reports the few forbidden ones (".", "..", "/", "%").
    name_validator = staticmethod(lambda name: [])


class PodStrategy(NoGenerationStrategy):
    def grace_period(self, obj: dict[str, Any], requested: int | None) -> int:
        # Upstream's CheckGracefulDelete: a pod not on a node, or finished, goes at once;
        # otherwise its kubelet stops it within the grace period and then deletes it.
        spec, phase = obj.get("spec") or {}, (obj.get("status") or {}).get("phase")
        if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            return 0
        if requested is not None:
            return max(requested, 0)
        grace = spec.get("terminationGracePeriodSeconds")
        return 30 if grace is None else max(int(grace), 0)

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        # Upstream's PrepareForCreate: a new pod is Pending, with its QoS class computed.
        super().prepare_for_create(obj)
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(obj.get("spec") or {})}


#: The labels upstream's Job strategy generates (pkg/apis/batch: ControllerUidLabel, JobNameLabel
#: and their unprefixed legacy spellings).
JOB_CONTROLLER_UID_LABELS = ("controller-uid", "batch.kubernetes.io/controller-uid")
JOB_NAME_LABELS = ("job-name", "batch.kubernetes.io/job-name")


class JobStrategy(Strategy):
    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        # Upstream's jobStrategy.PrepareForCreate: generateSelectorIfNeeded, then the status
        # is cleared and the generation set.
        if not (obj.get("spec") or {}).get("manualSelector"):
            generate_job_selector(obj)
        super().prepare_for_create(obj)


def generate_job_selector(obj: dict[str, Any]) -> None:
    """Upstream's generateSelector: the template gets the job-name and controller-uid labels
    (both spellings; a label the user set is kept, and validation rejects a wrong one), and the
    selector gets ``batch.kubernetes.io/controller-uid: <uid>`` unless it has that key."""
    meta = metadata(obj)
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = obj["spec"] = {}
    template = spec.get("template")
    if not isinstance(template, dict):
        template = spec["template"] = {}
    tpl_meta = template.get("metadata")
    if not isinstance(tpl_meta, dict):
        tpl_meta = template["metadata"] = {}
    labels = tpl_meta.get("labels")
    if not isinstance(labels, dict):
        labels = tpl_meta["labels"] = {}
    for key in JOB_NAME_LABELS:
        labels.setdefault(key, meta.get("name") or "")
    for key in JOB_CONTROLLER_UID_LABELS:
        labels.setdefault(key, meta.get("uid") or "")
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        selector = spec["selector"] = {}
    match_labels = selector.get("matchLabels")
    if not isinstance(match_labels, dict):
        match_labels = selector["matchLabels"] = {}
    match_labels.setdefault(JOB_CONTROLLER_UID_LABELS[1], meta.get("uid") or "")


_QOS_RESOURCES = ("cpu", "memory")


def qos_class(spec: dict[str, Any]) -> str:
    """Guaranteed, Burstable or BestEffort, as upstream's GetPodQOS computes it."""
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    requested = limited = False
    guaranteed = True
    for container in containers:
        resources = container.get("resources") or {}
        requests = {
            k: v for k, v in (resources.get("requests") or {}).items() if k in _QOS_RESOURCES
        }
        limits = {k: v for k, v in (resources.get("limits") or {}).items() if k in _QOS_RESOURCES}
        requested = requested or any(_nonzero(v) for v in requests.values())
        limited = limited or any(_nonzero(v) for v in limits.values())
        # Requests default to limits, so only a differing explicit request breaks Guaranteed.
        if set(limits) != set(_QOS_RESOURCES) or any(
            k in requests and Quantity.parse(requests[k]) != Quantity.parse(limits[k])
            for k in limits
        ):
            guaranteed = False
    if not requested and not limited:
        return "BestEffort"
    return "Guaranteed" if guaranteed and containers else "Burstable"


def _nonzero(value: Any) -> bool:
    try:
        return not Quantity.parse(value).is_zero()
    except (QuantityError, TypeError):
        return False


#: plural -> strategy class, for kinds whose rules differ from the default.
STRATEGIES: dict[str, type[Strategy]] = {
    "namespaces": NamespaceStrategy,
    "services": ServiceStrategy,
    "pods": PodStrategy,
    "jobs": JobStrategy,
    "nodes": NodeStrategy,
    "configmaps": NoGenerationStrategy,
    "secrets": NoGenerationStrategy,
    "serviceaccounts": NoGenerationStrategy,
    "events": NoGenerationStrategy,
    "endpoints": NoGenerationStrategy,
    "endpointslices": NoGenerationStrategy,
    "leases": NoGenerationStrategy,
    "persistentvolumes": NoGenerationStrategy,
    "persistentvolumeclaims": NoGenerationStrategy,
    "limitranges": NoGenerationStrategy,
    "resourcequotas": NoGenerationStrategy,
    "controllerrevisions": NoGenerationStrategy,
    "roles": RBACStrategy,
    "clusterroles": RBACStrategy,
    "rolebindings": RBACStrategy,
    "clusterrolebindings": RBACStrategy,
    "priorityclasses": NoGenerationStrategy,
    "runtimeclasses": NoGenerationStrategy,
}
