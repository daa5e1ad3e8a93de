"""Container rules of ``pkg/apis/core/validation``: names, images, ports, env, mounts, resources,
probes and lifecycle handlers, security contexts.

Objects arrive defaulted, so a field upstream defaulting always fills (a port's protocol, a
probe's thresholds, an HTTP probe's scheme) is read with its default when it is missing.
"""

from __future__ import annotations

import re

from kframe.api import Quantity, is_qualified_name
from kframe.apiserver._errors import Cause
from kframe.apiserver._validate_field import (
    Obj,
    duplicate,
    forbidden,
    invalid,
    not_found,
    not_supported,
    quantity,
    required,
)
from kframe.apiserver._validate_formats import (
    dns_label,
    dns_subdomain,
    is_config_map_key,
    is_env_var_name,
    is_valid_port_name,
    port_num_or_name,
    qualified_name,
)
from kframe.apiserver._validate_probes import (
    lifecycle,
    local_descending_path,
    probe,
    security_context,
)

PROTOCOLS = ("SCTP", "TCP", "UDP")
_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_ENV_FIELD_PATHS = (
    "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
    "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
)  # fmt: skip
_CONVERTIBLE = (*_ENV_FIELD_PATHS, "metadata.annotations", "metadata.labels",
                "spec.restartPolicy", "spec.schedulerName", "status.phase",
                "spec.host")  # fmt: skip
_RESOURCE_FIELDS = ("limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu",
                    "requests.ephemeral-storage", "requests.memory")  # fmt: skip
_STANDARD_RESOURCES = frozenset({
    "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory",
    "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage",
    "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
    "persistentvolumeclaims", "storage", "requests.storage", "services.nodeports",
    "services.loadbalancers",
})  # fmt: skip
_SUBSCRIPT = re.compile(r"^(.+)\['(.*)'\]$")


def _hugepages(name: str) -> bool:
    return name.startswith(("hugepages-", "requests.hugepages-", "limits.hugepages-"))


def _native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _extended(name: str) -> bool:
    return (
        not _native(name)
        and not name.startswith("requests.")
        and not is_qualified_name("requests." + name)
    )


def container_resource_name(name: str, path: str) -> list[Cause]:
    """``validateContainerResourceName``."""
    errs = [invalid(path, name, m) for m in is_qualified_name(name)]
    if "/" not in name:
        if not errs and name not in _STANDARD_RESOURCES and not _hugepages(name):
            errs.append(invalid(path, name, "must be a standard resource type or fully qualified"))
        if name not in ("cpu", "memory", "ephemeral-storage") and not name.startswith("hugepages-"):
            errs.append(invalid(path, name, "must be a standard resource for containers"))
    elif not _native(name) and not _extended(name):
        errs.append(invalid(path, name, "doesn't follow extended resource name standard"))
    return errs


def quantity_value(name: str, q: Quantity, path: str) -> list[Cause]:
    """``ValidateResourceQuantityValue``."""
    errs = [invalid(path, str(q), "must be greater than or equal to 0")] if q < 0 else []
    if _extended(name) and q.milli_value() % 1000:
        errs.append(invalid(path, str(q), "must be an integer"))
    return errs


def resources(reqs: Obj | None, path: str) -> list[Cause]:
    """``ValidateContainerResourceRequirements``: names, quantities, requests <= limits."""
    reqs = reqs or {}
    limits, requests = reqs.get("limits") or {}, reqs.get("requests") or {}
    errs: list[Cause] = []
    cpu_mem = huge = False
    for kind, values in (("limits", limits), ("requests", requests)):
        for name, raw in values.items():
            kpath = f"{path}.{kind}[{name}]"
            errs += container_resource_name(name, kpath)
            q = quantity(raw)
            if q is None:
                continue
            errs += quantity_value(name, q, kpath)
            cpu_mem = cpu_mem or name in ("cpu", "memory")
            huge = huge or name.startswith("hugepages-")
            if kind == "limits":
                continue
            limit = quantity(limits[name]) if name in limits else None
            overcommit = _native(name) and not name.startswith("hugepages-")
            if limit is not None and q != limit and not overcommit:
                detail = f"must be equal to {name} limit of {limit}"
                errs.append(invalid(f"{path}.requests", str(q), detail))
            elif limit is not None and q > limit:
                detail = f"must be less than or equal to {name} limit of {limit}"
                errs.append(invalid(f"{path}.requests", str(q), detail))
            elif name not in limits and not overcommit:
                detail = "Limit must be set for non overcommitable resources"
                errs.append(required(f"{path}.limits", detail))
    if huge and not cpu_mem:
        errs.append(forbidden(path, "HugePages require cpu or memory"))
    return errs


def ports(items: list[Obj], path: str) -> list[Cause]:
    """``validateContainerPorts``."""
    errs: list[Cause] = []
    names: set[str] = set()
    for i, port in enumerate(items):
        ipath = f"{path}[{i}]"
        name = port.get("name") or ""
        if name:
            if msgs := is_valid_port_name(name):
                errs += [invalid(f"{ipath}.name", name, m) for m in msgs]
            elif name in names:
                errs.append(duplicate(f"{ipath}.name", name))
            else:
                names.add(name)
        cport = port.get("containerPort", 0)
        if not cport:
            errs.append(required(f"{ipath}.containerPort"))
        else:
            errs += port_num_or_name(cport, f"{ipath}.containerPort")
        if port.get("hostPort"):
            errs += port_num_or_name(port["hostPort"], f"{ipath}.hostPort")
        protocol = port.get("protocol", "TCP")
        if not protocol:
            errs.append(required(f"{ipath}.protocol"))
        elif protocol not in PROTOCOLS:
            errs.append(not_supported(f"{ipath}.protocol", protocol, PROTOCOLS))
    return errs


def _key_selector(ref: Obj, path: str) -> list[Cause]:
    errs = dns_subdomain(ref.get("name") or "", f"{path}.name")
    key = ref.get("key") or ""
    if not key:
        return [*errs, required(f"{path}.key")]
    return errs + [invalid(f"{path}.key", key, m) for m in is_config_map_key(key)]


def field_ref(ref: Obj, path: str, expressions: tuple[str, ...] = _ENV_FIELD_PATHS) -> list[Cause]:
    """``validateObjectFieldSelector`` against the paths the downward API offers there."""
    version, fpath = ref.get("apiVersion", "v1"), ref.get("fieldPath") or ""
    if not version:
        return [required(f"{path}.apiVersion")]
    if not fpath:
        return [required(f"{path}.fieldPath")]
    sub = _SUBSCRIPT.match(fpath)
    problem = ""
    if version != "v1":
        problem = f"unsupported pod version: {version}"
    elif sub and sub.group(1) not in ("metadata.annotations", "metadata.labels"):
        problem = f"field label does not support subscript: {fpath}"
    elif not sub and fpath not in _CONVERTIBLE:
        problem = f"field label not supported: {fpath}"
    if problem:
        return [invalid(f"{path}.fieldPath", fpath, f"error converting fieldPath: {problem}")]
    if sub:
        key = sub.group(2).lower() if sub.group(1) == "metadata.annotations" else sub.group(2)
        return qualified_name(key, path)
    fpath = "spec.nodeName" if fpath == "spec.host" else fpath
    if fpath not in expressions:
        return [not_supported(f"{path}.fieldPath", fpath, expressions)]
    return []


def env(items: list[Obj], path: str) -> list[Cause]:
    """``ValidateEnv`` with relaxed names, and each ``valueFrom``."""
    errs: list[Cause] = []
    for i, var in enumerate(items):
        ipath = f"{path}[{i}]"
        name = var.get("name") or ""
        if not name:
            errs.append(required(f"{ipath}.name"))
        errs += [invalid(f"{ipath}.name", name, m) for m in (is_env_var_name(name) if name else [])]
        source = var.get("valueFrom")
        if source is None:
            continue
        vpath = f"{ipath}.valueFrom"
        count = 0
        for key, check in (
            ("fieldRef", field_ref),
            ("resourceFieldRef", _resource_ref),
            ("configMapKeyRef", _key_selector),
            ("secretKeyRef", _key_selector),
        ):
            if source.get(key) is not None:
                count += 1
                errs += check(source[key], f"{vpath}.{key}")
        if count == 0:
            detail = (
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
                "`secretKeyRef`"
            )
            errs.append(invalid(vpath, "", detail))
        elif var.get("value"):
            errs.append(invalid(vpath, "", "may not be specified when `value` is not empty"))
        elif count > 1:
            errs.append(invalid(vpath, "", "may not have more than one field specified at a time"))
    return errs


def _resource_ref(ref: Obj, path: str) -> list[Cause]:
    res = ref.get("resource") or ""
    if not res:
        return [required(f"{path}.resource")]
    if res not in _RESOURCE_FIELDS and not res.startswith(
        ("requests.hugepages-", "limits.hugepages-")
    ):
        return [not_supported(f"{path}.resource", res, _RESOURCE_FIELDS)]
    return []


def env_from(items: list[Obj], path: str) -> list[Cause]:
    errs: list[Cause] = []
    for i, source in enumerate(items):
        ipath = f"{path}[{i}]"
        prefix = source.get("prefix") or ""
        errs += [
            invalid(f"{ipath}.prefix", prefix, m)
            for m in (is_env_var_name(prefix) if prefix else [])
        ]
        count = 0
        for key in ("configMapRef", "secretRef"):
            if (ref := source.get(key)) is not None:
                count += 1
                name = ref.get("name") or ""
                rpath = f"{ipath}.{key}.name"
                errs += dns_subdomain(name, rpath) if name else [required(rpath)]
        if count == 0:
            errs.append(invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif count > 1:
            errs.append(invalid(path, "", "may not have more than one field specified at a time"))
    return errs


def volume_mounts(mounts: list[Obj], volumes: dict[str, Obj], ctr: Obj, path: str) -> list[Cause]:
    """``ValidateVolumeMounts`` (subPath errors at the list's path, as upstream reports them)."""
    errs: list[Cause] = []
    seen: set[str] = set()
    privileged = bool((ctr.get("securityContext") or {}).get("privileged"))
    for i, mount in enumerate(mounts):
        ipath = f"{path}[{i}]"
        name, mpath = mount.get("name") or "", mount.get("mountPath") or ""
        if not name:
            errs.append(required(f"{ipath}.name"))
        if name not in volumes:
            errs.append(not_found(f"{ipath}.name", name))
        if not mpath:
            errs.append(required(f"{ipath}.mountPath"))
        if mpath in seen:
            errs.append(invalid(f"{ipath}.mountPath", mpath, "must be unique"))
        seen.add(mpath)
        for key in ("subPath", "subPathExpr"):
            if sub := mount.get(key):
                if key == "subPathExpr" and mount.get("subPath"):
                    detail = "subPathExpr and subPath are mutually exclusive"
                    errs.append(invalid(f"{ipath}.subPathExpr", sub, detail))
                errs += local_descending_path(sub, f"{path}.{key}")
        prop = mount.get("mountPropagation")
        if prop is not None:
            supported = ("Bidirectional", "HostToContainer", "None")
            if prop not in supported:
                errs.append(not_supported(f"{path}.mountPropagation", prop, supported))
            elif prop == "Bidirectional" and not privileged:
                detail = (
                    "Bidirectional mount propagation is available only to privileged containers"
                )
                errs.append(forbidden(f"{path}.mountPropagation", detail))
    return errs


def container_common(ctr: Obj, volumes: dict[str, Obj], path: str) -> list[Cause]:
    """``validateContainerCommon``."""
    name = ctr.get("name") or ""
    errs = dns_label(name, f"{path}.name") if name else [required(f"{path}.name")]
    if not ctr.get("image"):
        errs.append(required(f"{path}.image"))
    policy = ctr.get("terminationMessagePolicy", "File")
    supported = ("File", "FallbackToLogsOnError")
    if not policy:
        errs.append(required(f"{path}.terminationMessagePolicy"))
    elif policy not in supported:
        errs.append(not_supported(f"{path}.terminationMessagePolicy", policy, supported))
    errs += ports(ctr.get("ports") or [], f"{path}.ports")
    errs += env(ctr.get("env") or [], f"{path}.env")
    errs += env_from(ctr.get("envFrom") or [], f"{path}.envFrom")
    errs += volume_mounts(ctr.get("volumeMounts") or [], volumes, ctr, f"{path}.volumeMounts")
    pull = ctr.get("imagePullPolicy", "IfNotPresent")
    if not pull:
        errs.append(required(f"{path}.imagePullPolicy"))
    elif pull not in _PULL_POLICIES:
        errs.append(not_supported(f"{path}.imagePullPolicy", pull, _PULL_POLICIES))
    errs += resources(ctr.get("resources"), f"{path}.resources")
    errs += security_context(ctr.get("securityContext"), f"{path}.securityContext")
    return errs


def host_port_conflicts(ctrs: list[Obj], path: str) -> list[Cause]:
    errs: list[Cause] = []
    seen: set[str] = set()
    for ci, ctr in enumerate(ctrs):
        for pi, port in enumerate(ctr.get("ports") or []):
            if not port.get("hostPort"):
                continue
            key = f"{port.get('protocol', 'TCP')}/{port.get('hostIP', '')}/{port['hostPort']}"
            if key in seen:
                errs.append(duplicate(f"{path}[{ci}].ports[{pi}].hostPort", key))
            seen.add(key)
    return errs


def containers(
    ctrs: list[Obj], volumes: dict[str, Obj], grace: int | None, path: str
) -> list[Cause]:
    """``validateContainers``: at least one, unique names, probes and hooks."""
    if not ctrs:
        return [required(path)]
    errs: list[Cause] = []
    names: set[str] = set()
    for i, ctr in enumerate(ctrs):
        cpath = f"{path}[{i}]"
        errs += container_common(ctr, volumes, cpath)
        name = ctr.get("name") or ""
        if name in names:
            errs.append(duplicate(f"{cpath}.name", name))
        names.add(name)
        if ctr.get("lifecycle") is not None:
            errs += lifecycle(ctr["lifecycle"], grace, f"{cpath}.lifecycle")
        for kind in ("liveness", "readiness", "startup"):
            errs += probe(ctr.get(f"{kind}Probe"), grace, f"{cpath}.{kind}Probe", kind)
        if ctr.get("restartPolicy") is not None:
            errs.append(
                forbidden(f"{cpath}.restartPolicy", "may not be set for non-init containers")
            )
    return errs + host_port_conflicts(ctrs, path)


def init_containers(
    ctrs: list[Obj], regular: list[Obj], volumes: dict[str, Obj], grace: int | None, path: str
) -> list[Cause]:
    """``validateInitContainers``: names unique across both lists; sidecars may have probes."""
    errs: list[Cause] = []
    names = {c.get("name") or "" for c in regular}
    for i, ctr in enumerate(ctrs):
        cpath = f"{path}[{i}]"
        errs += container_common(ctr, volumes, cpath)
        restart = ctr.get("restartPolicy")
        if restart is not None and restart != "Always":
            errs.append(not_supported(f"{cpath}.restartPolicy", restart, ("Always",)))
        name = ctr.get("name") or ""
        if name in names:
            errs.append(duplicate(f"{cpath}.name", name))
        elif name:
            names.add(name)
        errs += host_port_conflicts([ctr], path)  # upstream indexes the lone container as [0]
        if restart == "Always":
            if ctr.get("lifecycle") is not None:
                errs += lifecycle(ctr["lifecycle"], grace, f"{cpath}.lifecycle")
            for kind in ("liveness", "readiness", "startup"):
                errs += probe(ctr.get(f"{kind}Probe"), grace, f"{cpath}.{kind}Probe", kind)
            continue
        for key in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
            if ctr.get(key) is not None:
                detail = "may not be set for init containers without restartPolicy=Always"
                errs.append(forbidden(f"{cpath}.{key}", detail))
    return errs
