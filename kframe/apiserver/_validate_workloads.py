"""Deployments, ReplicaSets, StatefulSets, DaemonSets and ControllerRevisions:
``pkg/apis/apps/validation``, plus the selector immutability the apps strategies add on update.

Defaults upstream always applies are read when a field is missing: a Deployment's strategy is
RollingUpdate with 25% surge and unavailability, a DaemonSet's RollingUpdate with maxUnavailable 1.
"""

from __future__ import annotations

from typing import Any

from kframe.api import Selector, is_dns1123_label, is_dns1123_subdomain
from kframe.apiserver._errors import Cause
from kframe.apiserver._validate_field import (
    PTR,
    Go,
    Obj,
    forbidden,
    go_int_or_string,
    go_label_selector,
    go_map,
    immutable,
    invalid,
    nonnegative,
    not_supported,
    required,
    same,
)
from kframe.apiserver._validate_formats import (
    as_selector,
    check_annotations,
    is_valid_percent,
    label_selector,
    labels,
    percent_or_int,
)
from kframe.apiserver._validate_pods import pod_annotations, pod_template

_MISMATCH = "`selector` does not match template `labels`"


def int_or_percent(value: Any, path: str) -> list[Cause]:
    """``ValidatePositiveIntOrPercent`` and ``IsNotMoreThan100Percent``."""
    shown = Go(go_int_or_string(value))
    if isinstance(value, str):
        errs = [invalid(path, shown, m) for m in is_valid_percent(value)]
        if not errs and int(value[:-1]) > 100:
            errs.append(invalid(path, shown, "must not be greater than 100%"))
        return errs
    return nonnegative(value, path)


def _ptr(value: Any, kind: str) -> str:
    return f"(*{kind})(nil)" if value is None else f"(*{kind})({PTR})"


def _template_labels(spec: Obj) -> dict[str, Any] | None:
    meta: dict[str, Any] = (spec.get("template") or {}).get("metadata") or {}
    return meta.get("labels")


def _selector(spec: Obj, kind: str) -> tuple[list[Cause], Selector | None]:
    """The selector checks Deployments, ReplicaSets and StatefulSets share."""
    sel = spec.get("selector")
    if sel is None:
        return [required("spec.selector")], as_selector(sel)
    errs = label_selector(sel, "spec.selector")
    if not sel.get("matchLabels") and not sel.get("matchExpressions"):
        shown = Go(go_label_selector(sel))
        errs.append(invalid("spec.selector", shown, f"empty selector is invalid for {kind}"))
    return errs, as_selector(sel)


def _matches(selector: Selector, spec: Obj) -> list[Cause]:
    tpl_labels = _template_labels(spec)
    if selector.empty() or selector.matches(tpl_labels or {}):
        return []
    return [invalid("spec.template.metadata.labels", Go(go_map(tpl_labels)), _MISMATCH)]


def _always_restart(spec: Obj, kind: str) -> list[Cause]:
    tpl_spec = (spec.get("template") or {}).get("spec") or {}
    errs = []
    restart = tpl_spec.get("restartPolicy", "Always")
    if restart != "Always":
        errs.append(not_supported("spec.template.spec.restartPolicy", restart, ("Always",)))
    if tpl_spec.get("activeDeadlineSeconds") is not None:
        detail = f"activeDeadlineSeconds in {kind} is not Supported"
        errs.append(forbidden("spec.template.spec.activeDeadlineSeconds", detail))
    return errs


def replica_set_spec(spec: Obj, kind: str = "deployment") -> list[Cause]:
    """``ValidateReplicaSetSpec`` (``kind`` words the empty-selector error as upstream does)."""
    errs = nonnegative(spec.get("replicas"), "spec.replicas")
    if kind != "deployment":
        errs += nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    sel_errs, selector = _selector(spec, "deployment")
    errs += sel_errs
    if selector is None:
        errs.append(
            invalid(
                "spec.selector",
                Go(go_label_selector(spec.get("selector"))),
                "invalid label selector",
            )
        )
        return errs
    errs += _matches(selector, spec)
    errs += pod_template(spec.get("template"), "spec.template")
    return errs + _always_restart(spec, "ReplicaSet")


def _deployment_strategy(strategy: Obj | None) -> list[Cause]:
    strategy = strategy or {"type": "RollingUpdate"}
    kind, rolling = strategy.get("type", "RollingUpdate"), strategy.get("rollingUpdate")
    if kind == "Recreate":
        if rolling is not None:
            detail = "may not be specified when strategy `type` is 'Recreate'"
            return [forbidden("spec.strategy.rollingUpdate", detail)]
        return []
    if kind != "RollingUpdate":
        shown = Go(
            f'apps.DeploymentStrategy{{Type:"{kind}", '
            f"RollingUpdate:{_ptr(rolling, 'apps.RollingUpdateDeployment')}}}"
        )
        return [not_supported("spec.strategy", shown, ("Recreate", "RollingUpdate"))]
    rolling = rolling or {}
    unavailable, surge = rolling.get("maxUnavailable", "25%"), rolling.get("maxSurge", "25%")
    path = "spec.strategy.rollingUpdate"
    errs = int_or_percent(unavailable, f"{path}.maxUnavailable")
    errs += int_or_percent(surge, f"{path}.maxSurge")
    if percent_or_int(unavailable) == 0 and percent_or_int(surge) == 0:
        shown = Go(go_int_or_string(unavailable))
        errs.append(invalid(f"{path}.maxUnavailable", shown, "may not be 0 when `maxSurge` is 0"))
    return errs


def validate_deployment(obj: Obj, old: Obj | None) -> list[Cause]:
    spec = obj.get("spec") or {}
    errs = replica_set_spec(spec)
    errs += _deployment_strategy(spec.get("strategy"))
    errs += nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    errs += nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
    deadline = spec.get("progressDeadlineSeconds")
    if deadline is not None:
        errs += nonnegative(deadline, "spec.progressDeadlineSeconds")
        if deadline <= spec.get("minReadySeconds", 0):
            detail = "must be greater than minReadySeconds"
            errs.append(invalid("spec.progressDeadlineSeconds", deadline, detail))
    return errs + _selector_immutable(spec, old)


def _selector_immutable(spec: Obj, old: Obj | None) -> list[Cause]:
    """What the apps/v1 strategies add to every update: the selector may not change."""
    if old is None or same(spec.get("selector"), (old.get("spec") or {}).get("selector")):
        return []
    return [immutable("spec.selector", Go(go_label_selector(spec.get("selector"))))]


def validate_replicaset(obj: Obj, old: Obj | None) -> list[Cause]:
    spec = obj.get("spec") or {}
    return replica_set_spec(spec, "replicaset") + _selector_immutable(spec, old)


def _statefulset_spec(spec: Obj) -> list[Cause]:
    errs: list[Cause] = []
    policy = spec.get("podManagementPolicy", "OrderedReady")
    if not policy:
        errs.append(required("spec.podManagementPolicy"))
    elif policy not in ("OrderedReady", "Parallel"):
        errs.append(
            invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'")
        )
    strategy = spec.get("updateStrategy") or {"type": "RollingUpdate"}
    kind, rolling = strategy.get("type", "RollingUpdate"), strategy.get("rollingUpdate")
    spath = "spec.updateStrategy"
    if not kind:
        errs.append(required(spath))
    elif kind == "OnDelete" and rolling is not None:
        shown = Go(
            f"apps.RollingUpdateStatefulSetStrategy{{Partition:{rolling.get('partition', 0)}, "
            f"MaxUnavailable:{_ptr(rolling.get('maxUnavailable'), 'intstr.IntOrString')}}}"
        )
        errs.append(
            invalid(
                f"{spath}.rollingUpdate", shown, "only allowed for updateStrategy 'RollingUpdate'"
            )
        )
    elif kind == "RollingUpdate" and rolling is not None:
        errs += nonnegative(rolling.get("partition"), f"{spath}.rollingUpdate.partition")
        if (unavailable := rolling.get("maxUnavailable")) is not None:
            upath = f"{spath}.rollingUpdate.maxUnavailable"
            errs += int_or_percent(unavailable, upath)
            if percent_or_int(unavailable) == 0:
                errs.append(invalid(upath, Go(go_int_or_string(unavailable)), "cannot be 0"))
    elif kind not in ("OnDelete", "RollingUpdate"):
        shown = Go(
            f'apps.StatefulSetUpdateStrategy{{Type:"{kind}", '
            f"RollingUpdate:{_ptr(rolling, 'apps.RollingUpdateStatefulSetStrategy')}}}"
        )
        errs.append(invalid(spath, shown, "must be 'RollingUpdate' or 'OnDelete'"))
    retention = spec.get("persistentVolumeClaimRetentionPolicy") or {}
    for key in ("whenDeleted", "whenScaled"):
        value = retention.get(key, "Retain")
        if value not in ("Retain", "Delete"):
            rpath = f"spec.persistentVolumeClaimRetentionPolicy.{key}"
            errs.append(not_supported(rpath, value, ("Retain", "Delete")))
    errs += nonnegative(spec.get("replicas"), "spec.replicas")
    errs += nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    errs += nonnegative((spec.get("ordinals") or {}).get("start"), "spec.ordinals.start")
    sel_errs, selector = _selector(spec, "statefulset")
    errs += sel_errs
    if selector is None:
        errs.append(invalid("spec.selector", Go(go_label_selector(spec.get("selector"))), ""))
    else:
        errs += _matches(selector, spec)
        # Upstream validates only the template's metadata here, not its pod spec.
        meta = (spec.get("template") or {}).get("metadata") or {}
        tpl_spec = (spec.get("template") or {}).get("spec") or {}
        errs += labels(meta.get("labels"), "spec.template.labels")
        errs += check_annotations(meta.get("annotations"), "spec.template.annotations")
        errs += pod_annotations(meta.get("annotations"), tpl_spec, "spec.template.annotations")
    return errs + _always_restart(spec, "StatefulSet")


def validate_statefulset(obj: Obj, old: Obj | None) -> list[Cause]:
    spec = obj.get("spec") or {}
    errs: list[Cause] = []
    name = (obj.get("metadata") or {}).get("name") or ""
    # StatefulSet names are DNS labels; the generic subdomain check already reports the rest.
    if old is None and name and not is_dns1123_subdomain(name):
        errs += [invalid("metadata.name", name, m) for m in is_dns1123_label(name)]
    errs += _statefulset_spec(spec)
    if old is not None:
        mutable = ("replicas", "ordinals", "template", "updateStrategy",
                   "persistentVolumeClaimRetentionPolicy", "minReadySeconds")  # fmt: skip
        defaults = {"podManagementPolicy": "OrderedReady", "revisionHistoryLimit": 10}
        old_spec = old.get("spec") or {}
        if not same(
            {k: v for k, v in {**defaults, **spec}.items() if k not in mutable},
            {k: v for k, v in {**defaults, **old_spec}.items() if k not in mutable},
        ):
            detail = (
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                "'minReadySeconds' are forbidden"
            )
            errs.append(forbidden("spec", detail))
    return errs


def _daemonset_strategy(strategy: Obj | None) -> list[Cause]:
    strategy = strategy or {"type": "RollingUpdate"}
    kind, rolling = strategy.get("type", "RollingUpdate"), strategy.get("rollingUpdate")
    path = "spec.updateStrategy"
    if kind == "OnDelete":
        return []
    if kind != "RollingUpdate":
        shown = Go(
            f'apps.DaemonSetUpdateStrategy{{Type:"{kind}", '
            f"RollingUpdate:{_ptr(rolling, 'apps.RollingUpdateDaemonSet')}}}"
        )
        return [not_supported(path, shown, ("RollingUpdate", "OnDelete"))]
    rolling = rolling if rolling is not None else {}
    unavailable, surge = rolling.get("maxUnavailable", 1), rolling.get("maxSurge", 0)
    rpath = f"{path}.rollingUpdate"
    errs = int_or_percent(unavailable, f"{rpath}.maxUnavailable")
    errs += int_or_percent(surge, f"{rpath}.maxSurge")
    has_unavailable, has_surge = percent_or_int(unavailable) != 0, percent_or_int(surge) != 0
    if has_unavailable and has_surge:
        detail = "may not be set when maxUnavailable is non-zero"
        errs.append(invalid(f"{rpath}.maxSurge", Go(go_int_or_string(surge)), detail))
    elif not has_unavailable and not has_surge:
        errs.append(required(f"{rpath}.maxUnavailable", "cannot be 0 when maxSurge is 0"))
    return errs


def validate_daemonset(obj: Obj, old: Obj | None) -> list[Cause]:
    spec = obj.get("spec") or {}
    sel = spec.get("selector")
    errs = label_selector(sel, "spec.selector")
    selector = as_selector(sel)
    tpl_labels = _template_labels(spec)
    if selector is not None and not selector.matches(tpl_labels or {}):
        errs.append(invalid("spec.template.metadata.labels", Go(go_map(tpl_labels)), _MISMATCH))
    if sel is not None and not sel.get("matchLabels") and not sel.get("matchExpressions"):
        shown = Go(go_label_selector(sel))
        errs.append(invalid("spec.selector", shown, "empty selector is invalid for daemonset"))
    errs += pod_template(spec.get("template"), "spec.template")
    errs += _always_restart(spec, "DaemonSet")
    errs += nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    errs += _daemonset_strategy(spec.get("updateStrategy"))
    errs += nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
    return errs + _selector_immutable(spec, old)


def validate_controllerrevision(obj: Obj, old: Obj | None) -> list[Cause]:
    errs = [] if obj.get("data") is not None else [required("data", "data is mandatory")]
    errs += nonnegative(obj.get("revision"), "revision")
    if old is not None and not same(obj.get("data"), old.get("data")):
        errs.append(immutable("data", Go("runtime.RawExtension{...}")))
    return errs
