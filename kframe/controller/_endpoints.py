"""Pod and service facts the Endpoints and EndpointSlice controllers share (upstream
pkg/controller/util/endpoint and podutil.FindPort).

Which pods belong in a service's endpoints, which port a service port names on a pod, the
hostname a pod publishes, and the ``endpoints.kubernetes.io/last-change-trigger-time`` tracker.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
from collections.abc import Iterable

import attrs

from kframe.api.models import Pod, Service, ServicePort

__all__ = [
    "LAST_CHANGE_TRIGGER_TIME",
    "TriggerTimeTracker",
    "find_port",
    "format_rfc3339_nano",
    "ip_family",
    "is_headless",
    "is_service_ip_set",
    "pod_ips",
    "service_pods_keys",
    "should_pod_be_in_endpoints",
    "should_set_hostname",
]

#: v1.EndpointsLastChangeTriggerTime.
LAST_CHANGE_TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"


def pod_ips(pod: Pod) -> list[str]:
    """``status.podIPs`` (or ``status.podIP`` alone), in order."""
    status = pod.status
    if status is None:
        return []
    ips = [p.ip for p in status.pod_ips or () if p.ip]
    if not ips and status.pod_ip:
        ips = [status.pod_ip]
    return ips


def ip_family(ip: str) -> str:
    """``IPv4`` or ``IPv6`` (an unparsable address counts as IPv4, as utilnet's IsIPv6String
    says no)."""
    try:
        return "IPv6" if ipaddress.ip_address(ip).version == 6 else "IPv4"
    except ValueError:
        return "IPv4"


def is_service_ip_set(service: Service) -> bool:
    """A cluster IP that is neither empty nor ``None`` (helper.IsServiceIPSet)."""
    ip = service.spec.cluster_ip if service.spec is not None else None
    return bool(ip) and ip != "None"


def is_headless(service: Service) -> bool:
    """``clusterIP: None``. Upstream says "not IsServiceIPSet", which also counts an empty
    cluster IP; a real API server never leaves one empty (it allocates), so a service whose
    cluster IP was not allocated is taken as the normal service it would be."""
    return service.spec is not None and service.spec.cluster_ip == "None"


def should_pod_be_in_endpoints(pod: Pod, include_terminating: bool) -> bool:
    """Not terminal, has an IP, and (unless ``include_terminating``) not being deleted
    (endpointutil.ShouldPodBeInEndpoints)."""
    phase = pod.status.phase if pod.status is not None else None
    if phase in ("Succeeded", "Failed"):
        return False
    if not pod_ips(pod):
        return False
    deleting = pod.metadata is not None and pod.metadata.deletion_timestamp is not None
    return include_terminating or not deleting


def should_set_hostname(pod: Pod, service: Service) -> bool:
    """The pod names a hostname and the service as its subdomain, in the service's namespace
    (endpointutil.ShouldSetHostname)."""
    spec = pod.spec
    if spec is None or not spec.hostname or pod.metadata is None or service.metadata is None:
        return False
    return (
        spec.subdomain == service.metadata.name
        and pod.metadata.namespace == service.metadata.namespace
    )


def find_port(pod: Pod, service_port: ServicePort) -> int:
    """The container port ``service_port.targetPort`` names on ``pod`` (podutil.FindPort): a
    number as is, a name looked up (with the service port's protocol) in the containers and
    the restartable init containers. ValueError when the pod has no such port."""
    target: int | str | None = service_port.target_port
    if target is None or target == "" or target == 0:
        target = service_port.port or 0  # the API server defaults targetPort to port
    if isinstance(target, int):
        return target
    if target.isdigit():
        return int(target)  # an IntOrString holding a number given as a string
    protocol = service_port.protocol or "TCP"
    spec = pod.spec
    containers = list(spec.containers if spec is not None else ())
    containers += [
        c
        for c in (spec.init_containers if spec is not None else ())
        if c.restart_policy == "Always"
    ]
    for container in containers:
        for port in container.ports or ():
            if port.name == target and (port.protocol or "TCP") == protocol:
                return int(port.container_port or 0)
    name = pod.metadata.name if pod.metadata is not None else ""
    raise ValueError(f"no suitable port for manifest: {name}")


def service_pods_keys(services: Iterable[Service], pod: Pod) -> list[str]:
    """The keys of the ``services`` (of the pod's namespace) whose selector selects ``pod``
    (GetPodServiceMemberships); services without a selector select nothing."""
    labels = (pod.metadata.labels if pod.metadata is not None else None) or {}
    keys = []
    for service in services:
        selector = service.spec.selector if service.spec is not None else None
        if not selector or service.metadata is None:
            continue
        if all(labels.get(k) == v for k, v in selector.items()):
            keys.append(f"{service.metadata.namespace}/{service.metadata.name}")
    return keys


def format_rfc3339_nano(value: _dt.datetime) -> str:
    """Go's ``time.RFC3339Nano`` in UTC: trailing zeros of the fraction dropped."""
    value = value.astimezone(_dt.UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += ("." + f"{value.microsecond:06d}").rstrip("0")
    return text + "Z"


def _pod_trigger_time(pod: Pod) -> _dt.datetime | None:
    for cond in (pod.status.conditions if pod.status is not None else None) or ():
        if cond.type == "Ready":
            return cond.last_transition_time
    return None


@attrs.define
class _ServiceState:
    pods: dict[str, _dt.datetime] = attrs.field(factory=dict)
    service: _dt.datetime | None = None


class TriggerTimeTracker:
    """When the change that an Endpoints (or EndpointSlice) write reflects happened
    (endpointutil.TriggerTimeTracker): the oldest Ready transition of a selected pod, or the
    service's creation, that changed since the service's last sync; a service's first sync
    gives its creation time. None: nothing changed that carries a time."""

    def __init__(self) -> None:
        self._states: dict[str, _ServiceState] = {}

    def compute(self, key: str, service: Service, pods: Iterable[Pod]) -> _dt.datetime | None:
        state = self._states.get(key)
        known = state is not None
        previous = state if state is not None else _ServiceState()
        oldest: _dt.datetime | None = None
        times: dict[str, _dt.datetime] = {}
        for pod in pods:
            when = _pod_trigger_time(pod)
            if when is None or pod.metadata is None or pod.metadata.name is None:
                continue
            times[pod.metadata.name] = when
            before = previous.pods.get(pod.metadata.name)
            if before is None or when > before:
                oldest = when if oldest is None else min(oldest, when)
        created = service.metadata.creation_timestamp if service.metadata is not None else None
        if created is not None and (previous.service is None or created > previous.service):
            oldest = created if oldest is None else min(oldest, created)
        self._states[key] = _ServiceState(pods=times, service=created)
        if not known:
            return created
        return oldest

    def delete(self, key: str) -> None:
        self._states.pop(key, None)
