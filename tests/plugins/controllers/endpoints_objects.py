"""Services, pods and nodes for the Endpoints and EndpointSlice tests: as plain objects for the
pure planners, and written to an API server (pod status included) for the controllers."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from kframe.api import format_time, from_dict
from kframe.api.models import Node, Pod, Service
from kframe.client import Client

STAMP = "2026-01-01T00:00:00Z"


def service_body(
    name: str = "web",
    *,
    selector: dict[str, str] | None = None,
    ports: list[dict[str, Any]] | None = None,
    cluster_ip: str | None = None,
    publish_not_ready: bool = False,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "ports": ports
        if ports is not None
        else [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
    }
    if selector is not None:
        spec["selector"] = selector
    if cluster_ip is not None:
        spec["clusterIP"] = cluster_ip
    if publish_not_ready:
        spec["publishNotReadyAddresses"] = True
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default", "labels": labels or {}},
        "spec": spec,
    }


def service(name: str = "web", **kw: Any) -> Service:
    body = service_body(name, **kw)
    body["metadata"].update(uid=f"uid-{name}", creationTimestamp=STAMP)
    return from_dict(body, Service)


def pod_body(
    name: str,
    *,
    labels: dict[str, str] | None = None,
    node: str = "n1",
    port: int = 8080,
    port_name: str = "http",
    hostname: str = "",
    subdomain: str = "",
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "nodeName": node,
        "containers": [
            {
                "name": "c",
                "image": "nginx",
                "ports": [{"name": port_name, "containerPort": port, "protocol": "TCP"}],
            }
        ],
    }
    if hostname:
        spec["hostname"] = hostname
    if subdomain:
        spec["subdomain"] = subdomain
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": labels or {"app": "web"}},
        "spec": spec,
    }


def pod_status(ip: str | None, ready: bool, *, phase: str = "Running") -> dict[str, Any]:
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": [
            {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": STAMP}
        ],
    }
    if ip:
        status.update(podIP=ip, podIPs=[{"ip": ip}])
    return status


def pod(
    name: str,
    ip: str | None,
    ready: bool = True,
    *,
    terminating: bool = False,
    phase: str = "Running",
    **kw: Any,
) -> Pod:
    body = pod_body(name, **kw)
    body["metadata"]["uid"] = f"uid-{name}"
    if terminating:
        body["metadata"]["deletionTimestamp"] = STAMP
    body["status"] = pod_status(ip, ready, phase=phase)
    return from_dict(body, Pod)


def node(name: str, zone: str = "") -> Node:
    labels = {"topology.kubernetes.io/zone": zone} if zone else {}
    return from_dict(
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}}, Node
    )


async def create_node(client: Client, name: str, zone: str = "") -> Node:
    return await client.create(node(name, zone))


async def create_pod(
    client: Client, name: str, ip: str | None, ready: bool = True, **kw: Any
) -> Pod:
    await client.create(from_dict(pod_body(name, **kw), Pod))
    return await set_pod_status(client, name, ip, ready)


async def set_pod_status(client: Client, name: str, ip: str | None, ready: bool) -> Pod:
    status = pod_status(ip, ready)
    status["conditions"][0]["lastTransitionTime"] = format_time(_dt.datetime.now(_dt.UTC))
    return await client.patch(
        Pod, name, {"status": status}, namespace="default", patch_type="merge", subresource="status"
    )
