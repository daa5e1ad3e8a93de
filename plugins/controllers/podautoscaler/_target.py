"""The HPA's view of its target's scale: ``spec.replicas``, ``status.replicas`` and the pod
selector of a Deployment, ReplicaSet, StatefulSet (or any modelled kind with those fields), read
from the object itself, as its ``scale`` subresource shows them."""

from __future__ import annotations

from typing import Any

import attrs

from kframe.api import SelectorError, class_for, selector_from_label_selector
from kframe.api.models import HorizontalPodAutoscaler
from kframe.client import Client

__all__ = ["ScaleError", "TargetScale", "get_scale"]


@attrs.frozen
class TargetScale:
    cls: type[Any]
    replicas: int
    status_replicas: int
    selector: str


class ScaleError(Exception):
    """The target cannot be found or has no scale."""


async def get_scale(client: Client, hpa: HorizontalPodAutoscaler) -> TargetScale:
    """The target's scale (FailedGetScale when it raises)."""
    assert hpa.spec is not None and hpa.metadata is not None
    ref = hpa.spec.scale_target_ref
    if ref is None or not ref.kind or not ref.name:
        raise ScaleError("the scale target reference names no kind or name")
    api_version = ref.api_version or "v1"
    cls = class_for(api_version, ref.kind)
    if cls is None:
        group = api_version.rpartition("/")[0]
        raise ScaleError(f'no matches for kind "{ref.kind}" in group "{group}"')
    try:
        target: Any = await client.get(cls, ref.name, namespace=hpa.metadata.namespace)
    except TypeError as exc:
        raise ScaleError(str(exc)) from None
    spec, status = getattr(target, "spec", None), getattr(target, "status", None)
    if spec is None or not hasattr(spec, "replicas"):
        raise ScaleError(f"{ref.kind} {ref.name} has no scale subresource")
    selector = getattr(spec, "selector", None)
    text = ""
    if selector is not None:
        try:
            text = str(
                selector_from_label_selector(selector.match_labels, selector.match_expressions)
            )
        except SelectorError:
            text = ""
    replicas = spec.replicas if spec.replicas is not None else 1
    status_replicas = getattr(status, "replicas", None) or 0
    return TargetScale(cls, replicas, status_replicas, text)
