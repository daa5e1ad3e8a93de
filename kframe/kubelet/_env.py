"""A container's environment, as upstream's ``makeEnvironmentVariables``.

``envFrom`` sources first (ConfigMaps and Secrets, with their prefix), then ``env`` in order:
plain values with ``$(VAR)`` expanded against what is defined so far, ``fieldRef`` (the pod's
name, namespace, uid, labels, annotations, node, service account, IPs), ``resourceFieldRef``
and ``configMapKeyRef``/``secretKeyRef`` read through the API. A missing required ConfigMap,
Secret or key is a :class:`ContainerConfigError` (the container waits with reason
``CreateContainerConfigError`` and that message).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kframe.api import Quantity
from kframe.api.models import ConfigMap, Container, Pod, Secret, Service
from kframe.client import Client

__all__ = [
    "ContainerConfigError",
    "expand",
    "expand_command",
    "field_value",
    "make_env",
    "service_env",
]


class ContainerConfigError(Exception):
    """The container cannot be configured yet (reason ``CreateContainerConfigError``)."""


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion: defined names replaced, ``$$`` an escaped ``$``,
    anything else left as written (k8s.io/kubernetes/third_party/forked/golang/expansion)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "$" and i + 1 < n:
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                end = text.find(")", i + 2)
                if end != -1:
                    name = text[i + 2 : end]
                    out.append(env[name] if name in env else text[i : end + 1])
                    i = end + 1
                    continue
        out.append(ch)
        i += 1
    return "".join(out)


def _format_map(values: Mapping[str, str]) -> str:
    # Upstream's FormatMap: key="value" lines, sorted, as the downward API prints them.
    return "\n".join(f'{k}="{values[k]}"' for k in sorted(values))


def _subscript(path: str, prefix: str) -> str | None:
    if path.startswith(prefix + "[") and path.endswith("]"):
        return path[len(prefix) + 1 : -1].strip("'\"")
    return None


def field_value(pod: Pod, path: str, pod_ip: str, host_ip: str) -> str:
    meta = pod.metadata
    spec = pod.spec
    assert meta is not None and spec is not None
    simple = {
        "metadata.name": meta.name or "",
        "metadata.namespace": meta.namespace or "",
        "metadata.uid": meta.uid or "",
        "spec.nodeName": spec.node_name or "",
        "spec.serviceAccountName": spec.service_account_name or "",
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
    }
    if path in simple:
        return simple[path]
    if path == "metadata.labels":
        return _format_map(meta.labels)
    if path == "metadata.annotations":
        return _format_map(meta.annotations)
    for prefix, values in (
        ("metadata.labels", meta.labels),
        ("metadata.annotations", meta.annotations),
    ):
        key = _subscript(path, prefix)
        if key is not None:
            return values.get(key, "")
    raise ContainerConfigError(f"unsupported fieldPath: {path}")


def _resource_value(
    container: Container, resource: str, divisor: Quantity | None, allocatable: Mapping[str, str]
) -> str:
    which, _, name = resource.partition(".")
    res = container.resources
    values: Mapping[str, Quantity] = {}
    if res is not None:
        values = res.limits if which == "limits" else res.requests
    quantity = values.get(name)
    if quantity is None and which == "limits" and name in allocatable:
        quantity = Quantity.parse(allocatable[name])  # upstream: no limit reads as allocatable
    if quantity is None:
        return "0"
    div = divisor if divisor is not None and not divisor.is_zero() else Quantity.parse(1)
    if name == "cpu":
        return str(max(1, math.ceil(quantity.milli_value() / div.milli_value())))
    return str(math.ceil(quantity.as_decimal() / div.as_decimal()))


class _Objects:
    """ConfigMaps and Secrets read once per container setup."""

    def __init__(self, client: Client, namespace: str) -> None:
        self._client = client
        self._namespace = namespace
        self._cache: dict[tuple[str, str], Any] = {}

    async def data(self, kind: str, name: str, optional: bool) -> dict[str, str] | None:
        key = (kind, name)
        if key not in self._cache:
            cls: type[Any] = ConfigMap if kind == "ConfigMap" else Secret
            try:
                obj = await self._client.get(cls, name, namespace=self._namespace)
            except Exception as exc:
                if getattr(exc, "code", None) != 404:
                    raise
                obj = None
            self._cache[key] = obj
        obj = self._cache[key]
        if obj is None:
            if optional:
                return None
            raise ContainerConfigError(f'{kind.lower()} "{name}" not found')
        if kind == "ConfigMap":
            return {
                **{
                    k: base64.b64decode(v).decode("utf-8", "replace")
                    for k, v in obj.binary_data.items()
                },
                **obj.data,
            }
        return {k: base64.b64decode(v).decode("utf-8", "replace") for k, v in obj.data.items()}


async def make_env(
    client: Client,
    pod: Pod,
    container: Container,
    *,
    pod_ip: str,
    host_ip: str,
    allocatable: Mapping[str, str],
    service_env: Mapping[str, str] | None = None,
) -> list[tuple[str, str]]:
    """The container's variables in order (later ones win for a repeated name), then the
    service variables it did not define; ``$(VAR)`` may name either."""
    meta = pod.metadata
    assert meta is not None
    namespace = meta.namespace or "default"
    objects = _Objects(client, namespace)
    env: dict[str, str] = {}
    for env_from in container.env_from:
        prefix = env_from.prefix or ""
        if env_from.config_map_ref is not None:
            ref = env_from.config_map_ref
            values = await objects.data("ConfigMap", ref.name or "", bool(ref.optional))
        elif env_from.secret_ref is not None:
            sref = env_from.secret_ref
            values = await objects.data("Secret", sref.name or "", bool(sref.optional))
        else:
            continue
        for key, value in (values or {}).items():
            name = prefix + key
            if _valid_env_name(name):  # upstream skips invalid names (with an event)
                env[name] = value
    for var in container.env:
        name = var.name or ""
        source = var.value_from
        if source is None:
            env[name] = expand(var.value or "", {**(service_env or {}), **env})
            continue
        if source.field_ref is not None:
            env[name] = field_value(pod, source.field_ref.field_path or "", pod_ip, host_ip)
        elif source.resource_field_ref is not None:
            field = source.resource_field_ref
            target = container
            spec = pod.spec
            if field.container_name and spec is not None:
                for other in (*spec.containers, *spec.init_containers):
                    if other.name == field.container_name:
                        target = other
            env[name] = _resource_value(target, field.resource or "", field.divisor, allocatable)
        elif source.config_map_key_ref is not None or source.secret_key_ref is not None:
            kind = "ConfigMap" if source.config_map_key_ref is not None else "Secret"
            key_ref: Any = source.config_map_key_ref or source.secret_key_ref
            optional = bool(key_ref.optional)
            values = await objects.data(kind, key_ref.name or "", optional)
            if values is None:
                continue
            if key_ref.key not in values:
                if optional:
                    continue
                raise ContainerConfigError(
                    f"couldn't find key {key_ref.key} in {kind} {namespace}/{key_ref.name}"
                )
            env[name] = values[key_ref.key]
    for name in sorted(service_env or {}):
        env.setdefault(name, (service_env or {})[name])
    return list(env.items())


def _env_name(service: str) -> str:
    return service.upper().replace("-", "_")


def service_env(services: Iterable[Service]) -> dict[str, str]:
    """Docker-link style variables of services (upstream's ``envvars.FromServices``):
    ``WEB_SERVICE_HOST``, ``WEB_SERVICE_PORT[_NAME]``, ``WEB_PORT``, ``WEB_PORT_80_TCP...``."""
    out: dict[str, str] = {}
    for service in services:
        spec, meta = service.spec, service.metadata
        if spec is None or meta is None or spec.cluster_ip in (None, "", "None") or not spec.ports:
            continue
        host = spec.cluster_ip or ""
        prefix = _env_name(meta.name or "")
        out[f"{prefix}_SERVICE_HOST"] = host
        out[f"{prefix}_SERVICE_PORT"] = str(spec.ports[0].port)
        for port in spec.ports:
            if port.name:
                out[f"{prefix}_SERVICE_PORT_{_env_name(port.name)}"] = str(port.port)
        address = f"[{host}]" if ":" in host else host
        for i, port in enumerate(spec.ports):
            protocol = (port.protocol or "TCP").lower()
            url = f"{protocol}://{address}:{port.port}"
            if i == 0:
                out[f"{prefix}_PORT"] = url
            base = f"{prefix}_PORT_{port.port}_{protocol.upper()}"
            out[base] = url
            out[f"{base}_PROTO"] = protocol
            out[f"{base}_PORT"] = str(port.port)
            out[f"{base}_ADDR"] = host
    return out


def _valid_env_name(name: str) -> bool:
    # Upstream's IsEnvVarName: letters, digits, '_', '-', '.', not starting with a digit.
    return bool(name) and not name[0].isdigit() and all(c.isalnum() or c in "_-." for c in name)


def expand_command(args: Sequence[str], env: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(expand(a, env) for a in args)
