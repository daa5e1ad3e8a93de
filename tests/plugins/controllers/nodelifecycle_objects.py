"""Nodes, leases and pods written straight to the API server for the node lifecycle tests (no
kubelet: a test heartbeats, or stops, by writing the objects itself)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from kframe.api import format_micro_time, format_time, from_dict
from kframe.api.models import Lease, Node, Pod
from kframe.client import Client


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def conditions(ready: str, *, beat: _dt.datetime | None = None) -> list[dict[str, Any]]:
    stamp = format_time(beat or _now())
    reasons = {"True": "KubeletReady", "False": "KubeletNotReady"}
    out = [
        {
            "type": kind,
            "status": "False",
            "reason": f"KubeletHasNo{kind}",
            "lastHeartbeatTime": stamp,
            "lastTransitionTime": stamp,
        }
        for kind in ("MemoryPressure", "DiskPressure", "PIDPressure")
    ]
    out.append(
        {
            "type": "Ready",
            "status": ready,
            "reason": reasons.get(ready, "x"),
            "lastHeartbeatTime": stamp,
            "lastTransitionTime": stamp,
        }
    )
    return out


async def post_status(client: Client, name: str, ready: str, beat: _dt.datetime) -> Node:
    node = await client.get(Node, name)
    body = {"status": {"conditions": conditions(ready, beat=beat)}}
    del node
    return await client.patch(Node, name, body, patch_type="merge", subresource="status")


async def make_node(client: Client, name: str, *, labels: dict[str, str] | None = None) -> Node:
    labels = labels or {}
    await client.create(
        from_dict(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": name, "labels": labels or {}},
            },
            Node,
        )
    )
    return await post_status(client, name, "True", _now())


async def renew_lease(client: Client, name: str, when: _dt.datetime | None = None) -> Lease:
    renew = format_micro_time(when or _now())
    body: dict[str, Any] = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "namespace": "kube-node-lease"},
        "spec": {
            "holderIdentity": name,
            "leaseDurationSeconds": 40,
            "renewTime": renew,
        },
    }
    try:
        return await client.create(from_dict(body, Lease))
    except Exception as exc:
        if getattr(exc, "code", None) != 409:
            raise
    patch = {"spec": {"renewTime": renew}}
    return await client.patch(Lease, name, patch, namespace="kube-node-lease", patch_type="merge")


async def running_pod(
    client: Client,
    name: str,
    node: str,
    *,
    tolerations: list[dict[str, Any]] | None = None,
    ip: str = "10.244.0.10",
) -> Pod:
    spec: dict[str, Any] = {
        "nodeName": node,
        "containers": [{"name": "c", "image": "nginx"}],
    }
    if tolerations is not None:
        spec["tolerations"] = tolerations
    pod = await client.create(
        from_dict(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": "default", "labels": {"app": "x"}},
                "spec": spec,
            },
            Pod,
        )
    )
    stamp = format_time(_now())
    status = {
        "phase": "Running",
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": stamp},
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": stamp},
        ],
    }
    del pod
    return await client.patch(
        Pod, name, {"status": status}, namespace="default", patch_type="merge", subresource="status"
    )
