"""Kinds of the smaller API groups: scheduling (PriorityClass), coordination (Lease), policy
(PodDisruptionBudget), autoscaling (HorizontalPodAutoscaler), discovery (EndpointSlice) and node
(RuntimeClass), each after its ``pkg/apis/<group>/validation`` package.
"""

from __future__ import annotations

from typing import Any

from kframe.api import is_dns1123_label, is_dns1123_subdomain
from kframe.apiserver._errors import Cause
from kframe.apiserver._validate_containers import PROTOCOLS, resources
from kframe.apiserver._validate_field import (
    PTR,
    Go,
    Obj,
    duplicate,
    forbidden,
    immutable,
    invalid,
    not_supported,
    required,
    too_many,
)
from kframe.apiserver._validate_formats import (
    dns_label,
    dns_subdomain,
    label_selector,
    labels,
    non_special_ip,
    parse_ip,
    qualified_name,
)
from kframe.apiserver._validate_scheduling import tolerations
from kframe.apiserver._validate_workloads import int_or_percent

_SYSTEM_CLASSES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}
_MAX_USER_PRIORITY = 1000000000
_EVICTION_POLICY = "policy.UnhealthyPodEvictionPolicyType"


def validate_priorityclass(obj: Obj, old: Obj | None) -> list[Cause]:
    name = (obj.get("metadata") or {}).get("name") or ""
    # `value: null` is 0, as Go decodes null into the int32 field.
    value, policy = obj.get("value") or 0, obj.get("preemptionPolicy")
    errs: list[Cause] = []
    if old is not None:  # an update is checked against the stored class only
        if value != (old.get("value") or 0):
            errs.append(forbidden("value", "may not be changed in an update."))
        default = "PreemptLowerPriority"
        if (policy or default) != (old.get("preemptionPolicy") or default):
            errs.append(immutable("preemptionPolicy", policy))
        return errs
    if name.startswith("system-"):
        problem = ""
        if name not in _SYSTEM_CLASSES:
            problem = f"{name} is not a known system priority class"
        elif value != _SYSTEM_CLASSES[name]:
            problem = f"value of {name} PriorityClass must be {_SYSTEM_CLASSES[name]}"
        elif obj.get("globalDefault"):
            problem = f"globalDefault of {name} PriorityClass must be false"
        if problem:
            reserved = "priority class names with 'system-' prefix are reserved for system use only"
            errs.append(forbidden("metadata.name", f"{reserved}. error: {problem}"))
    elif value > _MAX_USER_PRIORITY:
        detail = f"maximum allowed value of a user defined priority is {_MAX_USER_PRIORITY}"
        errs.append(forbidden("value", detail))
    if policy is not None and policy not in ("PreemptLowerPriority", "Never"):
        errs.append(not_supported("preemptionPolicy", policy, ("PreemptLowerPriority", "Never")))
    return errs


def validate_lease(obj: Obj, old: Obj | None) -> list[Cause]:
    spec = obj.get("spec") or {}
    errs: list[Cause] = []
    duration = spec.get("leaseDurationSeconds")
    if duration is not None and duration <= 0:
        errs.append(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    transitions = spec.get("leaseTransitions")
    if transitions is not None and transitions < 0:
        detail = "must be greater than or equal to 0"
        errs.append(invalid("spec.leaseTransitions", transitions, detail))
    strategy = spec.get("strategy")
    if strategy is not None:
        path = "spec.strategy.strategy"  # upstream names the field twice
        if "/" not in strategy and strategy != "OldestEmulationVersion":
            errs.append(not_supported(path, strategy, ("OldestEmulationVersion",)))
        elif "/" in strategy:
            errs += qualified_name(strategy, path)
    if spec.get("preferredHolder") and not strategy:
        detail = "may only be specified if `strategy` is defined"
        errs.append(forbidden("spec.preferredHolder", detail))
    return errs


def validate_pdb(obj: Obj, old: Obj | None) -> list[Cause]:
    spec = obj.get("spec") or {}
    errs: list[Cause] = []
    low, high = spec.get("minAvailable"), spec.get("maxUnavailable")
    if low is not None and high is not None:

        def ptr(value: Any, kind: str) -> str:
            return f"(*{kind})(nil)" if value is None else f"(*{kind})({PTR})"

        shown = Go(
            f"policy.PodDisruptionBudgetSpec{{MinAvailable:{ptr(low, 'intstr.IntOrString')}, "
            f"Selector:{ptr(spec.get('selector'), 'v1.LabelSelector')}, "
            f"MaxUnavailable:{ptr(high, 'intstr.IntOrString')}, UnhealthyPodEvictionPolicy:"
            f"{ptr(spec.get('unhealthyPodEvictionPolicy'), _EVICTION_POLICY)}}}"
        )
        errs.append(invalid("spec", shown, "minAvailable and maxUnavailable cannot be both set"))
    if low is not None:
        errs += int_or_percent(low, "spec.minAvailable")
    if high is not None:
        errs += int_or_percent(high, "spec.maxUnavailable")
    errs += label_selector(spec.get("selector"), "spec.selector")
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in ("AlwaysAllow", "IfHealthyBudget"):
        supported = ("AlwaysAllow", "IfHealthyBudget")
        errs.append(not_supported("spec.unhealthyPodEvictionPolicy", policy, supported))
    return errs


def _address(kind: str, address: str, path: str) -> list[Cause]:
    if kind in ("IPv4", "IPv6"):
        ip = parse_ip(address)
        errs = []
        if ip is None or (ip.version == 4) != (kind == "IPv4"):
            errs.append(invalid(path, address, f"must be a valid {kind} address"))
        return errs + non_special_ip(address, path)
    if kind != "FQDN":
        return []
    if not address:
        return [required(path)]
    name = address.removesuffix(".")
    if msgs := is_dns1123_subdomain(name):
        return [invalid(path, name, ",".join(msgs))]
    if len(name.split(".")) < 2:
        detail = "should be a domain with at least two segments separated by dots"
        return [invalid(path, name, detail)]
    for label in name.split("."):
        if msgs := is_dns1123_label(label):
            return [invalid(path, label, ",".join(msgs))]
    return []


def validate_endpointslice(obj: Obj, old: Obj | None) -> list[Cause]:
    kind = obj.get("addressType") or ""
    valid = ("FQDN", "IPv4", "IPv6") if old is None else ("FQDN", "IP", "IPv4", "IPv6")
    errs: list[Cause] = []
    if not kind:
        errs.append(required("addressType"))
    elif kind not in valid:
        errs.append(not_supported("addressType", kind, valid))
    endpoints = obj.get("endpoints") or []
    if len(endpoints) > 1000:
        errs.append(too_many("endpoints", len(endpoints), 1000))
        endpoints = []
    for i, endpoint in enumerate(endpoints):
        apath = f"endpoints[{i}].addresses"
        addresses = endpoint.get("addresses") or []
        if not addresses:
            errs.append(required(apath, "must contain at least 1 address"))
        elif len(addresses) > 100:
            errs.append(too_many(apath, len(addresses), 100))
        for j, address in enumerate(addresses):
            errs += _address("IPv4" if kind == "IP" else kind, address, f"{apath}[{j}]")
        topology = endpoint.get("deprecatedTopology") or {}
        tpath = f"endpoints[{i}].deprecatedTopology"
        if len(topology) > 16:
            errs.append(too_many(tpath, len(topology), 16))
        errs += labels(topology, tpath)
        if endpoint.get("hostname") is not None:
            errs += dns_label(endpoint["hostname"], f"endpoints[{i}].hostname")
        if endpoint.get("nodeName") is not None:
            errs += dns_subdomain(endpoint["nodeName"], f"endpoints[{i}].nodeName")
    ports = obj.get("ports") or []
    if len(ports) > 100:
        return [*errs, too_many("ports", len(ports), 100)]
    names: set[str] = set()
    for i, port in enumerate(ports):
        name = port.get("name") or ""
        if name:
            errs += dns_label(name, f"ports[{i}].name")
        if name in names:
            errs.append(duplicate(f"ports[{i}].name", name))
        names.add(name)
        protocol = port.get("protocol", "TCP")
        if protocol not in PROTOCOLS:
            errs.append(not_supported(f"ports[{i}].protocol", protocol, PROTOCOLS))
        if port.get("appProtocol") is not None:
            errs += qualified_name(port["appProtocol"], f"ports[{i}].appProtocol")
    if old is not None and kind != old.get("addressType"):
        errs.append(immutable("addressType", kind))
    return errs


def validate_runtimeclass(obj: Obj, old: Obj | None) -> list[Cause]:
    handler = obj.get("handler") or ""
    if old is not None:
        return [] if handler == old.get("handler") else [immutable("handler", handler)]
    errs = [invalid("handler", handler, m) for m in is_dns1123_label(handler)]
    fixed = (obj.get("overhead") or {}).get("podFixed")
    if fixed is not None:
        errs += resources({"limits": fixed}, "overhead")
    if (scheduling := obj.get("scheduling")) is not None:
        if scheduling.get("nodeSelector") is not None:
            errs += labels(scheduling["nodeSelector"], "scheduling.nodeSelector")
        errs += tolerations(scheduling.get("tolerations") or [], "scheduling.tolerations")
    return errs
