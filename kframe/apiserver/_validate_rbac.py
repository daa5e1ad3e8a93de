"""RBAC (``pkg/apis/rbac/validation``) and HorizontalPodAutoscalers
(``pkg/apis/autoscaling/validation``).
"""

from __future__ import annotations

from typing import Any

from kframe.apiserver._errors import Cause
from kframe.apiserver._validate_containers import container_resource_name
from kframe.apiserver._validate_field import (
    Go,
    Obj,
    forbidden,
    go_quote,
    go_strings,
    invalid,
    not_supported,
    quantity,
    required,
)
from kframe.apiserver._validate_formats import (
    as_selector,
    dns_label,
    dns_subdomain,
    label_selector,
    path_segment_name,
)

GROUP = "rbac.authorization.k8s.io"
_SELECT_POLICIES = ("Disabled", "Max", "Min")
_METRIC_TYPES = ("ContainerResource", "External", "Object", "Pods", "Resource")


def name_causes(obj: Obj) -> list[Cause]:
    """RBAC objects are named by ``path.IsValidPathSegmentName`` (``system:...`` is fine)."""
    name = (obj.get("metadata") or {}).get("name") or ""
    return [invalid("metadata.name", name, m) for m in path_segment_name(name)]


def _rule(rule: Obj, namespaced: bool, path: str) -> list[Cause]:
    errs = (
        []
        if rule.get("verbs")
        else [required(f"{path}.verbs", "verbs must contain at least one value")]
    )
    urls = rule.get("nonResourceURLs") or []
    if urls:
        shown = Go(go_strings(urls))
        if namespaced:
            detail = "namespaced rules cannot apply to non-resource URLs"
            errs.append(invalid(f"{path}.nonResourceURLs", shown, detail))
        if rule.get("apiGroups") or rule.get("resources") or rule.get("resourceNames"):
            detail = "rules cannot apply to both regular resources and non-resource URLs"
            errs.append(invalid(f"{path}.nonResourceURLs", shown, detail))
        return errs
    if not rule.get("apiGroups"):
        detail = "resource rules must supply at least one api group"
        errs.append(required(f"{path}.apiGroups", detail))
    if not rule.get("resources"):
        errs.append(
            required(f"{path}.resources", "resource rules must supply at least one resource")
        )
    if rule.get("resourceNames") and len(rule.get("resources") or []) > 1:
        detail = "resource names cannot apply to multiple resources"
        errs.append(required(f"{path}.resourceNames", detail))
    return errs


def validate_role(obj: Obj, old: Obj | None, namespaced: bool = True) -> list[Cause]:
    errs = name_causes(obj) if old is None else []
    for i, rule in enumerate(obj.get("rules") or []):
        errs += _rule(rule, namespaced, f"rules[{i}]")
    aggregation = obj.get("aggregationRule")
    if not namespaced and aggregation is not None:
        selectors = aggregation.get("clusterRoleSelectors") or []
        if not selectors:
            detail = "at least one clusterRoleSelector required if aggregationRule is non-nil"
            errs.append(required("aggregationRule.clusterRoleSelectors", detail))
        for i, sel in enumerate(selectors):
            spath = f"aggregationRule.clusterRoleSelectors[{i}]"
            errs += label_selector(sel, spath)
            if as_selector(sel) is None:
                # upstream shows the (nil) converted selector here
                errs.append(invalid(spath, None, "invalid label selector."))
    return errs


def validate_clusterrole(obj: Obj, old: Obj | None) -> list[Cause]:
    return validate_role(obj, old, namespaced=False)


def _role_ref(ref: Obj, namespaced: bool) -> list[Cause]:
    errs: list[Cause] = []
    if ref.get("apiGroup", "") != GROUP:
        errs.append(not_supported("roleRef.apiGroup", ref.get("apiGroup", ""), (GROUP,)))
    kinds = ("Role", "ClusterRole") if namespaced else ("ClusterRole",)
    if ref.get("kind", "") not in kinds:
        errs.append(not_supported("roleRef.kind", ref.get("kind", ""), kinds))
    name = ref.get("name") or ""
    if not name:
        return [*errs, required("roleRef.name")]
    return errs + [invalid("roleRef.name", name, m) for m in path_segment_name(name)]


def _subject(subject: Obj, namespaced: bool, path: str) -> list[Cause]:
    name, kind = subject.get("name") or "", subject.get("kind") or ""
    errs = [] if name else [required(f"{path}.name")]
    if kind == "ServiceAccount":
        if name:
            errs += dns_subdomain(name, f"{path}.name")
        if subject.get("apiGroup"):
            errs.append(not_supported(f"{path}.apiGroup", subject["apiGroup"], ("",)))
        if not namespaced and not subject.get("namespace"):
            errs.append(required(f"{path}.namespace"))
    elif kind in ("User", "Group"):
        if not name:
            detail = f"{kind.lower()} name cannot be empty"
            errs.append(invalid(f"{path}.name", name, detail))
        group = subject.get("apiGroup", GROUP)
        if group != GROUP:
            errs.append(not_supported(f"{path}.apiGroup", group, (GROUP,)))
    else:
        errs.append(not_supported(f"{path}.kind", kind, ("ServiceAccount", "User", "Group")))
    return errs


def validate_binding(obj: Obj, old: Obj | None, namespaced: bool = True) -> list[Cause]:
    ref = obj.get("roleRef") or {}
    errs = name_causes(obj) if old is None else []
    errs += _role_ref(ref, namespaced)
    for i, subject in enumerate(obj.get("subjects") or []):
        errs += _subject(subject, namespaced, f"subjects[{i}]")
    if old is not None and ref != (old.get("roleRef") or {}):
        fields = ", ".join(
            f"{k}:{go_quote(ref.get(j) or '')}"
            for k, j in (("APIGroup", "apiGroup"), ("Kind", "kind"), ("Name", "name"))
        )
        errs.append(invalid("roleRef", Go(f"rbac.RoleRef{{{fields}}}"), "cannot change roleRef"))
    return errs


def validate_clusterrolebinding(obj: Obj, old: Obj | None) -> list[Cause]:
    return validate_binding(obj, old, namespaced=False)


# --- HorizontalPodAutoscaler -----------------------------------------------------------------


def _target(target: Obj, path: str) -> list[Cause]:
    kind = target.get("type") or ""
    errs = [] if kind else [required(f"{path}.type", "must specify a metric target type")]
    if kind not in ("Utilization", "Value", "AverageValue"):
        detail = "must be either Utilization, Value, or AverageValue"
        errs.append(invalid(f"{path}.type", kind, detail))
    for key in ("value", "averageValue"):
        q = quantity(target[key]) if target.get(key) is not None else None
        if q is not None and q <= 0:
            errs.append(invalid(f"{path}.{key}", str(q), "must be positive"))
    utilization = target.get("averageUtilization")
    if utilization is not None and utilization < 1:
        errs.append(invalid(f"{path}.averageUtilization", utilization, "must be greater than 0"))
    return errs


def _metric_name(metric: Obj, path: str) -> list[Cause]:
    name = metric.get("name") or ""
    if not name:
        return [required(f"{path}.name", "must specify a metric name")]
    return [invalid(f"{path}.name", name, m) for m in path_segment_name(name)]


def _ref(ref: Obj, path: str) -> list[Cause]:
    errs: list[Cause] = []
    for key in ("kind", "name"):
        value = ref.get(key) or ""
        if not value:
            errs.append(required(f"{path}.{key}"))
        errs += [invalid(f"{path}.{key}", value, m) for m in path_segment_name(value) if value]
    return errs


def _source(kind: str, src: Obj, path: str) -> list[Cause]:
    target = src.get("target") or {}
    errs: list[Cause] = []
    if kind == "object":
        errs += _ref(src.get("describedObject") or {}, f"{path}.describedObject")
    if kind in ("object", "external", "pods"):
        errs += _metric_name(src.get("metric") or {}, f"{path}.metric")
    elif kind == "containerResource":
        name, container = src.get("name") or "", src.get("container") or ""
        errs += (
            container_resource_name(name, f"{path}.name")
            if name
            else [required(f"{path}.name", "must specify a resource name")]
        )
        errs += (
            dns_label(container, f"{path}.container")
            if container
            else [required(f"{path}.container", "must specify a container")]
        )
    elif not src.get("name"):
        errs.append(required(f"{path}.name", "must specify a resource name"))
    errs += _target(target, f"{path}.target")
    value, average = target.get("value"), target.get("averageValue")
    utilization = target.get("averageUtilization")
    if kind in ("object", "external") and value is None and average is None:
        per = (
            "value or averageValue" if kind == "object" else "value for metric or a per-pod target"
        )
        errs.append(required(f"{path}.target.averageValue", f"must set either a target {per}"))
    if kind == "external" and value is not None and average is not None:
        detail = "may not set both a target value for metric and a per-pod target"
        errs.append(forbidden(f"{path}.target.value", detail))
    if kind == "pods" and average is None:
        detail = "must specify a positive target averageValue"
        errs.append(required(f"{path}.target.averageValue", detail))
    if kind in ("resource", "containerResource"):
        if utilization is None and average is None:
            detail = "must set either a target raw value or a target utilization"
            errs.append(required(f"{path}.target.averageUtilization", detail))
        elif utilization is not None and average is not None:
            detail = "may not set both a target raw value and a target utilization"
            errs.append(forbidden(f"{path}.target.averageValue", detail))
    return errs


def _metric(metric: Obj, path: str) -> list[Cause]:
    kind = metric.get("type") or ""
    errs = [] if kind else [required(f"{path}.type", "must specify a metric source type")]
    if kind not in _METRIC_TYPES:
        errs.append(not_supported(f"{path}.type", kind, _METRIC_TYPES))
    sources = ("object", "external", "pods", "resource", "containerResource")
    present = [k for k in sources if metric.get(k) is not None]
    if present:
        errs += _source(present[0], metric[present[0]], f"{path}.{present[0]}")
    expected = kind[:1].lower() + kind[1:]
    if kind in _METRIC_TYPES and metric.get(expected) is None:
        detail = "must populate information for the given metric source"
        errs.append(required(f"{path}.{expected}", detail))
    elif kind not in _METRIC_TYPES:
        errs.append(not_supported(f"{path}.type", kind, _METRIC_TYPES))
    if len(present) != 1:
        for extra in sorted(set(present) - {expected}):
            errs.append(forbidden(f"{path}.{extra}", "must populate the given metric source only"))
    return errs


def _rules(rules: Obj | None, path: str) -> list[Cause]:
    if rules is None:
        return []
    errs: list[Cause] = []
    window = rules.get("stabilizationWindowSeconds")
    wpath = f"{path}.stabilizationWindowSeconds"
    if window is not None and window < 0:
        errs.append(invalid(wpath, window, "must be greater than or equal to zero"))
    if window is not None and window > 3600:
        errs.append(invalid(wpath, window, "must be less than or equal to 3600"))
    select = rules.get("selectPolicy")
    if select is not None and select not in _SELECT_POLICIES:
        errs.append(not_supported(f"{path}.selectPolicy", select, _SELECT_POLICIES))
    for i, policy in enumerate(rules.get("policies") or []):
        ppath = f"{path}.policies[{i}]"
        if policy.get("type") not in ("Pods", "Percent"):
            errs.append(not_supported(f"{ppath}.type", policy.get("type", ""), ("Percent", "Pods")))
        for key in ("value", "periodSeconds"):
            if policy.get(key, 0) <= 0:
                errs.append(
                    invalid(f"{ppath}.{key}", policy.get(key, 0), "must be greater than zero")
                )
        if policy.get("periodSeconds", 0) > 1800:
            detail = "must be less than or equal to 1800"
            errs.append(invalid(f"{ppath}.periodSeconds", policy["periodSeconds"], detail))
    return errs


def validate_hpa(obj: Obj, old: Obj | None) -> list[Cause]:
    spec = obj.get("spec") or {}
    old_min = ((old or {}).get("spec") or {}).get("minReplicas")
    lower = 0 if old_min == 0 else 1
    low, high = spec.get("minReplicas", 1), spec.get("maxReplicas", 0)
    errs: list[Cause] = []
    if low < lower:
        errs.append(invalid("spec.minReplicas", low, f"must be greater than or equal to {lower}"))
    if high < 1:
        errs.append(invalid("spec.maxReplicas", high, "must be greater than 0"))
    if high < low:
        errs.append(
            invalid("spec.maxReplicas", high, "must be greater than or equal to `minReplicas`")
        )
    errs += _ref(spec.get("scaleTargetRef") or {}, "spec.scaleTargetRef")
    metrics: list[Any] = spec.get("metrics") or []
    if (cpu := spec.get("targetCPUUtilizationPercentage")) is not None:  # autoscaling/v1
        target = {"type": "Utilization", "averageUtilization": cpu}
        metrics = [{"type": "Resource", "resource": {"name": "cpu", "target": target}}]
    for i, metric in enumerate(metrics):
        errs += _metric(metric, f"spec.metrics[{i}]")
    behavior = spec.get("behavior") or {}
    for key in ("scaleUp", "scaleDown"):
        errs += _rules(behavior.get(key), f"spec.behavior.{key}")
    return errs
