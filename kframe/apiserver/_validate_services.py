"""Services and Endpoints: ``ValidateService``, ``ValidateServiceUpdate`` and ``ValidateEndpoints``
of ``pkg/apis/core/validation``.

Cluster IPs, node ports and health-check ports are allocated by the service REST storage, which
also copies them from the stored object when an update leaves them out; these rules therefore
treat a missing ``clusterIP``/``clusterIPs``/``ipFamilies`` on update as unchanged, and do not
require what an allocator would have filled in.
"""

from __future__ import annotations

from typing import Any

from kframe.apiserver._errors import Cause
from kframe.apiserver._validate_containers import PROTOCOLS
from kframe.apiserver._validate_field import (
    Go,
    Obj,
    duplicate,
    forbidden,
    go_int_or_string,
    go_quote,
    go_strings,
    invalid,
    not_supported,
    required,
)
from kframe.apiserver._validate_formats import (
    cidr_causes,
    dns_label,
    dns_subdomain,
    ip_causes,
    labels,
    non_special_ip,
    parse_ip,
    port_num_or_name,
    qualified_name,
)

_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")
_MAX_AFFINITY = 86400


def _cluster_ips(spec: Obj) -> list[str]:
    ips = spec.get("clusterIPs")
    if ips is None and spec.get("clusterIP"):
        return [spec["clusterIP"]]
    return list(ips or [])


def _headless(ips: list[str]) -> bool:
    return ips == ["None"]


def _go_port(port: Obj) -> Go:
    """The ``core.ServicePort{Protocol, Port}`` key upstream reports a repeated port with."""
    return Go(
        f'core.ServicePort{{Name:"", Protocol:{go_quote(port.get("protocol", "TCP"))}, '
        f"AppProtocol:(*string)(nil), Port:{port.get('port', 0)}, "
        f"TargetPort:{go_int_or_string(None)}, NodePort:0}}"
    )


def _service_port(port: Obj, require_name: bool, names: set[str], path: str) -> list[Cause]:
    errs: list[Cause] = []
    name = port.get("name") or ""
    if require_name and not name:
        errs.append(required(f"{path}.name"))
    elif name:
        errs += dns_label(name, f"{path}.name")
        if name in names:
            errs.append(duplicate(f"{path}.name", name))
        names.add(name)
    number = port.get("port", 0)
    if not 1 <= number <= 65535:
        errs.append(invalid(f"{path}.port", number, "must be between 1 and 65535, inclusive"))
    protocol = port.get("protocol", "TCP")
    if not protocol:
        errs.append(required(f"{path}.protocol"))
    elif protocol not in PROTOCOLS:
        errs.append(not_supported(f"{path}.protocol", protocol, PROTOCOLS))
    errs += port_num_or_name(port.get("targetPort", number), f"{path}.targetPort")
    if port.get("appProtocol") is not None:
        errs += qualified_name(port["appProtocol"], f"{path}.appProtocol")
    return errs


def _cluster_ip_fields(spec: Obj, ips: list[str]) -> list[Cause]:
    """``ValidateServiceClusterIPsRelatedFields``."""
    errs: list[Cause] = []
    shown = Go(go_strings(ips))
    if spec.get("clusterIP") and spec.get("clusterIPs") and ips[0] != spec["clusterIP"]:
        errs.append(invalid("spec.clusterIPs", shown, "first value must match `clusterIP`"))
    elif not spec.get("clusterIP") and spec.get("clusterIPs"):
        detail = "must be empty when `clusterIP` is not specified"
        errs.append(invalid("spec.clusterIPs", shown, detail))
    families = spec.get("ipFamilies") or []
    for i, family in enumerate(families):
        if family not in ("IPv4", "IPv6"):
            errs.append(not_supported(f"spec.ipFamilies[{i}]", family, ("IPv4", "IPv6")))
        if family in families[:i]:
            errs.append(duplicate(f"spec.ipFamilies[{i}]", family))
    policy = spec.get("ipFamilyPolicy")
    if policy is not None and policy not in _POLICIES:
        errs.append(not_supported("spec.ipFamilyPolicy", policy, _POLICIES))
    bad = False
    for i, ip in enumerate(ips):
        if i == 0 and ip == "None":
            if len(ips) > 1:
                bad = True
                detail = "'None' must be the first and only value"
                errs.append(invalid("spec.clusterIPs", shown, detail))
            continue
        ip_errs = ip_causes(f"spec.clusterIPs[{i}]", ip)
        bad = bad or bool(ip_errs)
        errs += ip_errs
    if len(ips) > 2:
        errs.append(invalid("spec.clusterIPs", shown, "may only hold up to 2 values"))
    if bad:
        return errs
    if len(ips) > 1 and len({parse_ip(ip).version for ip in ips[:2]}) != 2:  # type: ignore[union-attr]
        detail = "may specify no more than one IP for each IP family"
        errs.append(invalid("spec.clusterIPs", shown, detail))
    if not _headless(ips):
        for i, (ip, family) in enumerate(zip(ips, families, strict=False)):
            v6 = ":" in ip
            if (family == "IPv4" and v6) or (family == "IPv6" and not v6):
                detail = f"expected an {family} value as indicated by `ipFamilies[{i}]`"
                errs.append(invalid(f"spec.clusterIPs[{i}]", ip, detail))
    return errs


def _by_type(spec: Obj, kind: str, ips: list[str]) -> list[Cause]:
    errs: list[Cause] = []
    if kind in ("LoadBalancer", "NodePort") and _headless(ips):
        detail = f"may not be set to 'None' for {kind} services"
        errs.append(invalid("spec.clusterIPs[0]", "None", detail))
    elif kind == "ExternalName":
        for key in ("clusterIPs", "ipFamilies"):
            if spec.get(key) or (key == "clusterIPs" and spec.get("clusterIP")):
                errs.append(forbidden(f"spec.{key}", "may not be set for ExternalName services"))
        if spec.get("ipFamilyPolicy") is not None:
            errs.append(
                forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services")
            )
        cname = (spec.get("externalName") or "").removesuffix(".")
        errs += (
            dns_subdomain(cname, "spec.externalName") if cname else [required("spec.externalName")]
        )
    return errs


def validate_service(obj: Obj, old: Obj | None) -> list[Cause]:
    spec = dict(obj.get("spec") or {})
    old_spec = (old or {}).get("spec") or {}
    needs_ip = "ExternalName" not in (spec.get("type"), old_spec.get("type"))
    if old is not None and needs_ip:
        for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            if key not in spec and key in old_spec:
                spec[key] = old_spec[key]  # carried over by the REST storage, as upstream does
    kind, ips = spec.get("type", "ClusterIP"), _cluster_ips(spec)
    errs = _service_update(spec, old_spec, kind, ips) if old is not None else []
    ports = spec.get("ports") or []
    if not ports and not _headless(ips) and kind != "ExternalName":
        errs.append(required("spec.ports"))
    errs += _by_type(spec, kind, ips)
    names: set[str] = set()
    for i, port in enumerate(ports):
        errs += _service_port(port, len(ports) > 1, names, f"spec.ports[{i}]")
    if spec.get("selector") is not None:
        errs += labels(spec["selector"], "spec.selector")
    errs += _affinity(spec)
    if kind != "ExternalName":
        errs += _cluster_ip_fields(spec, ips)
    for i, ip in enumerate(spec.get("externalIPs") or []):
        ip_errs = ip_causes(f"spec.externalIPs[{i}]", ip)
        errs += ip_errs or non_special_ip(ip, f"spec.externalIPs[{i}]")
    if not kind:
        errs.append(required("spec.type"))
    elif kind not in _TYPES:
        errs.append(not_supported("spec.type", kind, _TYPES))
    return errs + _ports_and_traffic(spec, kind, ports)


def _affinity(spec: Obj) -> list[Cause]:
    affinity = spec.get("sessionAffinity", "None")
    config = spec.get("sessionAffinityConfig")
    if not affinity:
        return [required("spec.sessionAffinity")]
    if affinity not in ("ClientIP", "None"):
        return [not_supported("spec.sessionAffinity", affinity, ("ClientIP", "None"))]
    if affinity == "None" and config is not None:
        detail = "must not be set when session affinity is None"
        return [forbidden("spec.sessionAffinityConfig", detail)]
    timeout = ((config or {}).get("clientIP") or {}).get("timeoutSeconds")
    if affinity == "ClientIP" and timeout is not None and not 0 < timeout <= _MAX_AFFINITY:
        path = "spec.sessionAffinityConfig.clientIP.timeoutSeconds"
        return [invalid(path, timeout, f"must be greater than 0 and less than {_MAX_AFFINITY}")]
    return []


def _ports_and_traffic(spec: Obj, kind: str, ports: list[Obj]) -> list[Cause]:
    errs: list[Cause] = []
    node_ports: set[tuple[str, int]] = set()
    seen: set[tuple[str, int]] = set()
    for i, port in enumerate(ports):
        protocol = port.get("protocol", "TCP")
        if kind == "ClusterIP" and port.get("nodePort"):
            detail = "may not be used when `type` is 'ClusterIP'"
            errs.append(forbidden(f"spec.ports[{i}].nodePort", detail))
        if port.get("nodePort"):
            if (protocol, port["nodePort"]) in node_ports:
                errs.append(duplicate(f"spec.ports[{i}].nodePort", port["nodePort"]))
            node_ports.add((protocol, port["nodePort"]))
        key = (protocol, port.get("port", 0))
        if key in seen:
            errs.append(duplicate(f"spec.ports[{i}]", _go_port(port)))
        seen.add(key)
    lb = kind == "LoadBalancer"
    ranges = spec.get("loadBalancerSourceRanges") or []
    if ranges and not lb:
        detail = "may only be used when `type` is 'LoadBalancer'"
        errs.append(forbidden("spec.LoadBalancerSourceRanges", detail))
    for i, value in enumerate(ranges):
        errs += cidr_causes(f"spec.LoadBalancerSourceRanges[{i}]", value.strip())
    for field in ("allocateLoadBalancerNodePorts", "loadBalancerClass"):
        if spec.get(field) is not None and not lb:
            detail = "may only be used when `type` is 'LoadBalancer'"
            errs.append(forbidden(f"spec.{field}", detail))
    if lb and spec.get("loadBalancerClass") is not None:
        errs += qualified_name(spec["loadBalancerClass"], "spec.loadBalancerClass")
    external = lb or kind == "NodePort" or (kind == "ClusterIP" and bool(spec.get("externalIPs")))
    policy = spec.get("externalTrafficPolicy", "Cluster" if external else "")
    if not external and policy:
        detail = "may only be set for externally-accessible services"
        errs.append(invalid("spec.externalTrafficPolicy", policy, detail))
    elif external and not policy:
        errs.append(required("spec.externalTrafficPolicy"))
    elif external and policy not in ("Cluster", "Local"):
        errs.append(not_supported("spec.externalTrafficPolicy", policy, ("Cluster", "Local")))
    health = spec.get("healthCheckNodePort") or 0
    if health and not (lb and policy == "Local"):
        detail = (
            "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"
        )
        errs.append(invalid("spec.healthCheckNodePort", health, detail))
    elif health:
        errs += port_num_or_name(health, "spec.healthCheckNodePort")
    internal = spec.get("internalTrafficPolicy")
    if internal is not None and internal not in ("Cluster", "Local"):
        errs.append(not_supported("spec.internalTrafficPolicy", internal, ("Cluster", "Local")))
    distribution = spec.get("trafficDistribution")
    if distribution is not None and distribution != "PreferClose":
        errs.append(not_supported("spec.trafficDistribution", distribution, ("PreferClose",)))
    return errs


def _service_update(spec: Obj, old: Obj, kind: str, ips: list[str]) -> list[Cause]:
    """``validateUpgradeDowngradeClusterIPs``/``IPFamilies``, load balancer class, health port."""
    old_kind, old_ips = old.get("type", "ClusterIP"), _cluster_ips(old)
    errs: list[Cause] = []
    if "ExternalName" in (kind, old_kind):
        return errs
    shown = Go(go_strings(ips))
    if not (_headless(ips) and _headless(old_ips)):
        if len(ips) == len(old_ips):
            errs += [
                invalid(f"spec.clusterIPs[{i}]", shown, "may not change once set")
                for i, ip in enumerate(old_ips)
                if ip != ips[i]
            ]
        elif len(old_ips) > len(ips):
            if not ips:
                errs.append(
                    invalid("spec.clusterIPs[0]", shown, "primary clusterIP can not be unset")
                )
            elif ips[0] != old_ips[0]:
                errs.append(invalid("spec.clusterIPs[0]", shown, "may not change once set"))
            if len(ips) == 1 and spec.get("ipFamilyPolicy") != "SingleStack":
                detail = "must be set to 'SingleStack' when releasing the secondary clusterIP"
                errs.append(invalid("spec.ipFamilyPolicy", spec.get("ipFamilyPolicy"), detail))
        elif old_ips and ips[0] != old_ips[0]:
            errs.append(invalid("spec.clusterIPs[0]", shown, "may not change once set"))
    families, old_families = spec.get("ipFamilies") or [], old.get("ipFamilies") or []
    if _headless(ips) == _headless(old_ips) and not _headless(ips):
        shown_families = Go(go_strings(families))
        if len(families) == len(old_families) and families != old_families:
            errs.append(invalid("spec.ipFamilies[0]", shown_families, "may not change once set"))
        elif families and old_families and families[0] != old_families[0]:
            errs.append(invalid("spec.ipFamilies[0]", shown, "may not change once set"))
    both_lb = kind == old_kind == "LoadBalancer"
    if both_lb and spec.get("loadBalancerClass") != old.get("loadBalancerClass"):
        value: Any = spec.get("loadBalancerClass")
        errs.append(invalid("spec.loadBalancerClass", value, "may not change once set"))
    needs = (
        both_lb and spec.get("externalTrafficPolicy") == old.get("externalTrafficPolicy") == "Local"
    )
    if needs and spec.get("healthCheckNodePort") != old.get("healthCheckNodePort"):
        errs.append(forbidden("spec.healthCheckNodePort", "field is immutable"))
    return errs


def _endpoint_port(port: Obj, require_name: bool, path: str) -> list[Cause]:
    name = port.get("name") or ""
    errs = [required(f"{path}.name")] if require_name and not name else []
    if name:
        errs += dns_label(name, f"{path}.name")
    errs += port_num_or_name(port.get("port", 0), f"{path}.port")
    protocol = port.get("protocol", "TCP")
    if protocol not in PROTOCOLS:
        errs.append(not_supported(f"{path}.protocol", protocol, PROTOCOLS))
    if port.get("appProtocol") is not None:
        errs += qualified_name(port["appProtocol"], f"{path}.appProtocol")
    return errs


def validate_endpoints(obj: Obj, old: Obj | None) -> list[Cause]:
    errs: list[Cause] = []
    for i, subset in enumerate(obj.get("subsets") or []):
        spath = f"subsets[{i}]"
        if not subset.get("addresses") and not subset.get("notReadyAddresses"):
            errs.append(required(spath, "must specify `addresses` or `notReadyAddresses`"))
        for key in ("addresses", "notReadyAddresses"):
            for j, address in enumerate(subset.get(key) or []):
                apath = f"{spath}.{key}[{j}]"
                ip = address.get("ip") or ""
                errs += ip_causes(f"{apath}.ip", ip)
                if address.get("hostname"):
                    errs += dns_label(address["hostname"], f"{apath}.hostname")
                if address.get("nodeName") is not None:
                    errs += dns_subdomain(address["nodeName"], f"{apath}.nodeName")
                errs += non_special_ip(ip, f"{apath}.ip")
        ports = subset.get("ports") or []
        for j, port in enumerate(ports):
            errs += _endpoint_port(port, len(ports) > 1, f"{spath}.ports[{j}]")
    return errs
