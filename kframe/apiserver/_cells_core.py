"""Cells of the core and cluster kinds: upstream's printService, printNode, printNamespace,
printEvent, printEndpoints, printEndpointSlice, printSecret, printServiceAccount, printConfigMap,
printPersistentVolume(Claim), printResourceQuota, printLease, printPriorityClass,
printRuntimeClass and print(Cluster)RoleBinding (``pkg/printers/internalversion/printers.go``).

Server-side tables are generated with ``Wide: true``, so wide-only cells (and the unclipped
load-balancer list) are what every request gets.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from kframe.apiserver._cells_common import (
    CellFn,
    Cells,
    fmt_labels,
    go_int,
    go_str,
    m,
    parse,
    ptr_str,
    quantity,
    seq,
    since,
)

__all__ = ["CORE_CELLS"]

_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"
_ROLE_PREFIX = "node-role.kubernetes.io/"
_MAX_LISTED = 3


def _more(items: list[str], count: int, empty: str) -> str:
    """``listWithMoreString``: the first three, then ``+ N more...``."""
    shown = ",".join(items[:_MAX_LISTED])
    if count > _MAX_LISTED:
        return f"{shown} + {count - _MAX_LISTED} more..."
    return shown or empty


# --- services ----------------------------------------------------------------------------------


def _cluster_ip(svc: dict[str, Any], now: _dt.datetime | None) -> str:
    spec = m(svc, "spec")
    ips = seq(spec, "clusterIPs")
    # The registry fills clusterIPs from clusterIP; read the latter for objects written without.
    ip = go_str(ips[0]) if ips else go_str(spec.get("clusterIP"))
    return ip or "<none>"


def _external_ip(svc: dict[str, Any], now: _dt.datetime | None) -> str:
    """``getServiceExternalIP`` (wide: the load-balancer list is not clipped)."""
    spec = m(svc, "spec")
    external = [go_str(ip) for ip in seq(spec, "externalIPs")]
    kind = spec.get("type")
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if kind == "LoadBalancer":
        ingress = seq(m(svc, "status", "loadBalancer"), "ingress")
        lb = sorted(
            {go_str(m(i).get("ip")) or go_str(m(i).get("hostname")) for i in ingress} - {""}
        )
        if external:
            return ",".join(lb + external)
        return ",".join(lb) if lb else "<pending>"
    if kind == "ExternalName":
        return go_str(spec.get("externalName"))
    return "<unknown>"


def _ports(svc: dict[str, Any], now: _dt.datetime | None) -> str:
    """``makePortString``: ``port/protocol`` or ``port:nodePort/protocol``."""
    pieces = []
    for raw in seq(m(svc, "spec"), "ports"):
        port = m(raw)
        number, node_port = go_int(port.get("port")), go_int(port.get("nodePort"))
        protocol = go_str(port.get("protocol"))
        pieces.append(
            f"{number}:{node_port}/{protocol}" if node_port > 0 else f"{number}/{protocol}"
        )
    return ",".join(pieces) or "<none>"


SERVICE: Cells = {
    "Type": lambda o, now: go_str(m(o, "spec").get("type")),
    "Cluster-IP": _cluster_ip,
    "External-IP": _external_ip,
    "Port(s)": _ports,
    "Selector": lambda o, now: fmt_labels(m(o, "spec").get("selector")),
}

# --- nodes -------------------------------------------------------------------------------------


def _node_status(node: dict[str, Any], now: _dt.datetime | None) -> str:
    # A map by type: the last condition of a type wins; only Ready is shown.
    by_type = {m(c).get("type"): m(c) for c in seq(m(node, "status"), "conditions")}
    status = []
    if (ready := by_type.get("Ready")) is not None:
        status.append("Ready" if ready.get("status") == "True" else "NotReady")
    if not status:
        status.append("Unknown")
    if m(node, "spec").get("unschedulable") is True:
        status.append("SchedulingDisabled")
    return ",".join(status)


def _roles(node: dict[str, Any], now: _dt.datetime | None) -> str:
    """``findNodeRoles``: ``node-role.kubernetes.io/<role>`` keys and ``kubernetes.io/role``."""
    roles: set[str] = set()
    for key, value in m(node, "metadata", "labels").items():
        if key.startswith(_ROLE_PREFIX) and key[len(_ROLE_PREFIX) :]:
            roles.add(key[len(_ROLE_PREFIX) :])
        elif key == "kubernetes.io/role" and go_str(value):
            roles.add(go_str(value))
    return ",".join(sorted(roles)) or "<none>"


def _address(kind: str) -> CellFn:
    def cell(node: dict[str, Any], now: _dt.datetime | None) -> str:
        for address in seq(m(node, "status"), "addresses"):
            if m(address).get("type") == kind:
                return go_str(m(address).get("address"))
        return "<none>"

    return cell


def _node_info(key: str, unknown: str = "<unknown>") -> CellFn:
    return lambda o, now: go_str(m(o, "status", "nodeInfo").get(key)) or unknown


NODE: Cells = {
    "Status": _node_status,
    "Roles": _roles,
    "Version": _node_info("kubeletVersion", ""),
    "Internal-IP": _address("InternalIP"),
    "External-IP": _address("ExternalIP"),
    "OS-Image": _node_info("osImage"),
    "Kernel-Version": _node_info("kernelVersion"),
    "Container-Runtime": _node_info("containerRuntimeVersion"),
}

# --- events ------------------------------------------------------------------------------------


def _first_seen(event: dict[str, Any], now: _dt.datetime | None) -> str:
    first = event.get("firstTimestamp")
    return since(event.get("eventTime") if parse(first) is None else first, now)


def _last_seen(event: dict[str, Any], now: _dt.datetime | None) -> str:
    series = event.get("series")
    if isinstance(series, dict):
        return since(series.get("lastObservedTime"), now)
    last = event.get("lastTimestamp")
    return _first_seen(event, now) if parse(last) is None else since(last, now)


def _count(event: dict[str, Any], now: _dt.datetime | None) -> int:
    series = event.get("series")
    if isinstance(series, dict):
        return go_int(series.get("count"))
    return go_int(event.get("count")) or 1  # singleton events of the new API have no count


def _object(event: dict[str, Any], now: _dt.datetime | None) -> str:
    involved = m(event, "involvedObject")
    kind, name = go_str(involved.get("kind")).lower(), go_str(involved.get("name"))
    return f"{kind}/{name}" if name else kind


def _source(event: dict[str, Any], now: _dt.datetime | None) -> str:
    """``formatEventSource``: ``component, host``, from the reporting fields when unset."""
    source = m(event, "source")
    component = go_str(source.get("component")) or go_str(event.get("reportingComponent"))
    host = go_str(source.get("host")) or go_str(event.get("reportingInstance"))
    return f"{component}, {host}" if host else component


EVENT: Cells = {
    "Last Seen": _last_seen,
    "Type": lambda o, now: go_str(o.get("type")),
    "Reason": lambda o, now: go_str(o.get("reason")),
    "Object": _object,
    "Subobject": lambda o, now: go_str(m(o, "involvedObject").get("fieldPath")),
    "Source": _source,
    "Message": lambda o, now: go_str(o.get("message")).strip(),
    "First Seen": _first_seen,
    "Count": _count,
}

# --- endpoints ---------------------------------------------------------------------------------


def _host_port(ip: str, port: int) -> str:
    """``net.JoinHostPort``: IPv6 hosts in brackets."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _endpoints(ep: dict[str, Any], now: _dt.datetime | None) -> str:
    """``formatEndpoints``: up to three ``ip:port``, then ``+ N more...``."""
    subsets = seq(ep, "subsets")
    if not subsets:
        return "<none>"
    listed: list[str] = []
    count = 0
    for subset in subsets:
        ips = [go_str(m(a).get("ip")) for a in seq(subset, "addresses")]
        ports = seq(subset, "ports")
        if not ports:  # headless services may have no ports
            count += len(ips)
            listed.extend(ips[: _MAX_LISTED - len(listed)])
            continue
        for port in ports:
            count += len(ips)
            number = go_int(m(port).get("port"))
            listed.extend(_host_port(ip, number) for ip in ips[: _MAX_LISTED - len(listed)])
    shown = ",".join(listed)
    return f"{shown} + {count - _MAX_LISTED} more..." if count > len(listed) else shown


def _slice_ports(es: dict[str, Any], now: _dt.datetime | None) -> str:
    ports = [m(p) for p in seq(es, "ports")]
    shown = [
        str(p["port"]) if isinstance(p.get("port"), int) else ptr_str(p.get("name"), "*")
        for p in ports
    ]
    return _more(shown, len(shown), "<unset>")


def _slice_endpoints(es: dict[str, Any], now: _dt.datetime | None) -> str:
    addresses = [go_str(a) for e in seq(es, "endpoints") for a in seq(e, "addresses")]
    return _more(addresses, len(addresses), "<unset>")


# --- storage -----------------------------------------------------------------------------------

_ACCESS_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)


def _access_modes(modes: list[Any]) -> str:
    """``GetAccessModesAsString``: always in RWO,ROX,RWX,RWOP order."""
    return ",".join(short for mode, short in _ACCESS_MODES if mode in modes)


def _storage_class(obj: dict[str, Any], spec_class: str) -> str:
    annotations = m(obj, "metadata", "annotations")
    if _BETA_STORAGE_CLASS in annotations:
        return go_str(annotations[_BETA_STORAGE_CLASS])
    return spec_class


def _phase(obj: dict[str, Any], now: _dt.datetime | None) -> str:
    if m(obj, "metadata").get("deletionTimestamp"):
        return "Terminating"
    return go_str(m(obj, "status").get("phase"))


def _claim(pv: dict[str, Any], now: _dt.datetime | None) -> str:
    ref = m(pv, "spec").get("claimRef")
    if not isinstance(ref, dict):
        return ""
    return f"{go_str(ref.get('namespace'))}/{go_str(ref.get('name'))}"


def _spec_ptr(key: str) -> CellFn:
    return lambda o, now: ptr_str(m(o, "spec").get(key), "<unset>")


PERSISTENT_VOLUME: Cells = {
    "Capacity": lambda o, now: quantity(m(o, "spec", "capacity").get("storage")),
    "Access Modes": lambda o, now: _access_modes(seq(m(o, "spec"), "accessModes")),
    "Reclaim Policy": lambda o, now: go_str(m(o, "spec").get("persistentVolumeReclaimPolicy")),
    "Status": _phase,
    "Claim": _claim,
    "StorageClass": lambda o, now: _storage_class(o, go_str(m(o, "spec").get("storageClassName"))),
    "VolumeAttributesClass": _spec_ptr("volumeAttributesClassName"),
    "Reason": lambda o, now: go_str(m(o, "status").get("reason")),
    "VolumeMode": _spec_ptr("volumeMode"),
}


def _bound(pvc: dict[str, Any]) -> bool:
    return bool(go_str(m(pvc, "spec").get("volumeName")))


PERSISTENT_VOLUME_CLAIM: Cells = {
    "Status": _phase,
    "Volume": lambda o, now: go_str(m(o, "spec").get("volumeName")),
    "Capacity": lambda o, now: (
        quantity(m(o, "status", "capacity").get("storage")) if _bound(o) else ""
    ),
    "Access Modes": lambda o, now: (
        _access_modes(seq(m(o, "status"), "accessModes")) if _bound(o) else ""
    ),
    "StorageClass": lambda o, now: _storage_class(
        o, ptr_str(m(o, "spec").get("storageClassName"), "")
    ),
    "VolumeAttributesClass": _spec_ptr("volumeAttributesClassName"),
    "VolumeMode": _spec_ptr("volumeMode"),
}

# --- the rest ----------------------------------------------------------------------------------


def _quota(column: str) -> CellFn:
    """``printResourceQuota``: ``name: used/hard`` of each hard limit, ``limits.*`` apart."""

    def cell(quota: dict[str, Any], now: _dt.datetime | None) -> str:
        hard, used = m(quota, "status", "hard"), m(quota, "status", "used")
        parts = [
            f"{name}: {quantity(used.get(name))}/{quantity(hard[name])}"
            for name in sorted(hard)
            if (name.split(".")[0] == "limits" and "." in name) == (column == "Limit")
        ]
        return ", ".join(parts)

    return cell


def _subjects(kind: str) -> CellFn:
    """``rbac.SubjectsStrings``, joined with ``", "``."""

    def cell(binding: dict[str, Any], now: _dt.datetime | None) -> str:
        shown = []
        for raw in seq(binding, "subjects"):
            subject = m(raw)
            if subject.get("kind") != kind:
                continue
            name = go_str(subject.get("name"))
            if kind == "ServiceAccount":
                name = f"{go_str(subject.get('namespace'))}/{name}"
            shown.append(name)
        return ", ".join(shown)

    return cell


BINDING: Cells = {
    "Role": lambda o, now: (
        f"{go_str(m(o, 'roleRef').get('kind'))}/{go_str(m(o, 'roleRef').get('name'))}"
    ),
    "Users": _subjects("User"),
    "Groups": _subjects("Group"),
    "ServiceAccounts": _subjects("ServiceAccount"),
}

CORE_CELLS: dict[str, Cells] = {
    "services": SERVICE,
    "nodes": NODE,
    "namespaces": {"Status": lambda o, now: go_str(m(o, "status").get("phase"))},
    "events": EVENT,
    "endpoints": {"Endpoints": _endpoints},
    "endpointslices": {
        "AddressType": lambda o, now: go_str(o.get("addressType")),
        "Ports": _slice_ports,
        "Endpoints": _slice_endpoints,
    },
    "secrets": {
        "Type": lambda o, now: go_str(o.get("type")),
        # The v1 -> internal conversion merges stringData into data.
        "Data": lambda o, now: len(m(o, "data").keys() | m(o, "stringData").keys()),
    },
    "serviceaccounts": {"Secrets": lambda o, now: len(seq(o, "secrets"))},
    "configmaps": {"Data": lambda o, now: len(m(o, "data")) + len(m(o, "binaryData"))},
    "persistentvolumes": PERSISTENT_VOLUME,
    "persistentvolumeclaims": PERSISTENT_VOLUME_CLAIM,
    "resourcequotas": {"Request": _quota("Request"), "Limit": _quota("Limit")},
    "leases": {"Holder": lambda o, now: ptr_str(m(o, "spec").get("holderIdentity"), "")},
    "priorityclasses": {
        "Value": lambda o, now: go_int(o.get("value")),
        "Global-Default": lambda o, now: o.get("globalDefault") is True,
        "PreemptionPolicy": lambda o, now: go_str(o.get("preemptionPolicy")),
    },
    "runtimeclasses": {"Handler": lambda o, now: go_str(o.get("handler"))},
    "rolebindings": BINDING,
    "clusterrolebindings": BINDING,
}
