"""Pod facts and pod making that every workload controller shares (upstream controller_utils.go
and podutil)."""

from __future__ import annotations

import asyncio
import datetime as _dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from kframe.api.models import ObjectMeta, Pod, PodTemplateSpec
from kframe.controller._owners import new_controller_ref

__all__ = [
    "SLOW_START_INITIAL_BATCH_SIZE",
    "is_pod_active",
    "is_pod_available",
    "is_pod_ready",
    "pod_from_template",
    "pod_ready_since",
    "slow_start_batch",
]

# upstream controller_utils.go SlowStartInitialBatchSize
SLOW_START_INITIAL_BATCH_SIZE = 1


def is_pod_active(pod: Pod) -> bool:
    """Not finished and not being deleted (controller.IsPodActive)."""
    phase = pod.status.phase if pod.status is not None else None
    return phase not in ("Succeeded", "Failed") and (
        pod.metadata is None or pod.metadata.deletion_timestamp is None
    )


def _ready_condition(pod: Pod) -> Any:
    for cond in (pod.status.conditions if pod.status is not None else None) or ():
        if cond.type == "Ready":
            return cond
    return None


def is_pod_ready(pod: Pod) -> bool:
    cond = _ready_condition(pod)
    return cond is not None and cond.status == "True"


def pod_ready_since(pod: Pod) -> _dt.datetime | None:
    """When the pod's Ready condition last became True, if it is True."""
    cond = _ready_condition(pod)
    if cond is None or cond.status != "True":
        return None
    return cond.last_transition_time  # type: ignore[no-any-return]


def is_pod_available(pod: Pod, min_ready_seconds: int, now: _dt.datetime) -> bool:
    """Ready for at least ``min_ready_seconds`` (podutil.IsPodAvailable)."""
    if not is_pod_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = pod_ready_since(pod)
    return since is not None and since + _dt.timedelta(seconds=min_ready_seconds) <= now


def pod_from_template(
    template: PodTemplateSpec | None,
    owner: Any,
    *,
    generate_name: str = "",
    name: str = "",
    extra_labels: Mapping[str, str] | None = None,
) -> Pod:
    """A pod as ``owner``'s controller makes it (GetPodFromTemplate): the template's labels,
    annotations, finalizers and spec, a controller reference to ``owner``, in its namespace.
    Without ``name``, the name is generated from ``generate_name`` (default ``<owner>-``)."""
    tmeta = template.metadata if template is not None else None
    labels = {**((tmeta.labels if tmeta else None) or {}), **(extra_labels or {})}
    meta = ObjectMeta(
        name=name or None,
        generate_name=None if name else (generate_name or f"{owner.metadata.name}-"),
        namespace=owner.metadata.namespace,
        labels=labels,
        annotations=dict((tmeta.annotations if tmeta else None) or {}),
        finalizers=tuple((tmeta.finalizers if tmeta else None) or ()),
        owner_references=(new_controller_ref(owner),),
    )
    return Pod(metadata=meta, spec=template.spec if template is not None else None)


async def slow_start_batch(
    count: int, create: Callable[[], Awaitable[Any]], initial: int = SLOW_START_INITIAL_BATCH_SIZE
) -> tuple[int, BaseException | None]:
    """Call ``create`` ``count`` times in batches of 1, 2, 4, ... run concurrently, stopping
    after the first batch with a failure (upstream slowStartBatch, so a quota or a bad template
    fails one call, not a thousand). Returns how many succeeded and the first error."""
    done = 0
    batch = min(count, initial)
    while batch > 0:
        results = await asyncio.gather(*(create() for _ in range(batch)), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        done += batch - len(errors)
        if errors:
            return done, errors[0]
        batch = min(2 * batch, count - done)
    return done, None
