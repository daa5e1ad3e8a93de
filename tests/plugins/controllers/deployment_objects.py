"""Deployment and ReplicaSet builders shared by the deployment controller's tests."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from kframe.api import from_dict
from kframe.api.models import Deployment, ReplicaSet

T0 = _dt.datetime(2026, 1, 1, tzinfo=_dt.UTC)


def deployment(
    name: str = "web",
    *,
    replicas: int = 3,
    max_surge: int | str | None = "25%",
    max_unavailable: int | str | None = "25%",
    strategy: str = "RollingUpdate",
    image: str = "nginx:1",
    annotations: dict[str, str] | None = None,
    status: dict[str, Any] | None = None,
    generation: int = 1,
    **spec: Any,
) -> Deployment:
    rolling: dict[str, Any] = {}
    if max_surge is not None:
        rolling["maxSurge"] = max_surge
    if max_unavailable is not None:
        rolling["maxUnavailable"] = max_unavailable
    strat: dict[str, Any] = {"type": strategy}
    if strategy == "RollingUpdate":
        strat["rollingUpdate"] = rolling
    return from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": name,
                "namespace": "default",
                "uid": f"uid-{name}",
                "generation": generation,
                "annotations": annotations or {},
            },
            "spec": {
                # The API server's defaults, unless a test says otherwise.
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "strategy": strat,
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "c", "image": image}]},
                },
                **spec,
            },
            "status": status or {},
        },
        Deployment,
    )


def replica_set(
    name: str,
    *,
    replicas: int,
    available: int | None = None,
    actual: int | None = None,
    age: int = 0,
    annotations: dict[str, str] | None = None,
    image: str = "nginx:0",
    owner: str = "web",
    generation: int = 1,
    observed: int = 1,
) -> ReplicaSet:
    """``age``: seconds after T0 it was created (larger is newer)."""
    return from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": "default",
                "uid": f"uid-{name}",
                "generation": generation,
                "creationTimestamp": (T0 + _dt.timedelta(seconds=age)).isoformat(),
                "annotations": annotations or {},
                "labels": {"app": owner},
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": owner}},
                "template": {
                    "metadata": {"labels": {"app": owner}},
                    "spec": {"containers": [{"name": "c", "image": image}]},
                },
            },
            "status": {
                "replicas": replicas if actual is None else actual,
                "availableReplicas": replicas if available is None else available,
                "readyReplicas": replicas if available is None else available,
                "observedGeneration": observed,
            },
        },
        ReplicaSet,
    )
