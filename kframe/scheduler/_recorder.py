"""What the scheduler tells users: events and the pod's PodScheduled condition.

Upstream schedule_one.go (handleSchedulingFailure, updatePod) and the event recorder: a
``Scheduled`` Normal event on success, a ``FailedScheduling`` Warning with the FitError message,
and ``PodScheduled=False`` (reason ``Unschedulable`` or ``SchedulerError``) with the same message.
Writes are best effort: a failed write is logged and never stops scheduling.

Events go through :class:`kframe.client.EventRecorder` and client-go's EventCorrelator: an
object's events beyond a burst are dropped, similar ones combined, and a repeat patches
``count``, ``lastTimestamp`` and ``message`` of the Event already written instead of creating
another, so a pod retried every backoff shows ``FailedScheduling (x12 over 5m)``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from kframe.api import format_time, time_now
from kframe.api.models import Pod
from kframe.client import Client, EventRecorder

__all__ = ["Recorder"]

log = logging.getLogger("kframe.scheduler")


class Recorder:
    """The scheduler's Events (a :class:`~kframe.client.EventRecorder` whose source is each
    call's profile) and its PodScheduled condition writes."""

    def __init__(
        self, client: Client | None, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._events = EventRecorder(client, "default-scheduler", monotonic=monotonic, logger=log)

    def event(self, pod: Pod, profile: str, type_: str, reason: str, message: str) -> None:
        self._events.event(pod, type_, reason, message, component=profile)

    def condition(
        self, pod: Pod, reason: str, message: str, nominated_node: str | None = None
    ) -> None:
        """PodScheduled=False with this reason and message (and nominatedNodeName if given)."""
        if self._client is None:
            return
        meta = pod.metadata
        assert meta is not None
        status: dict[str, object] = {
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": reason,
                    "message": message,
                    "lastProbeTime": None,
                    "lastTransitionTime": format_time(time_now()),
                }
            ]
        }
        if nominated_node is not None:
            status["nominatedNodeName"] = nominated_node or None  # null removes it
        self._events.spawn(
            f"updating the status of pod {meta.namespace}/{meta.name}",
            self._client.patch(
                Pod,
                meta.name or "",
                {"status": status},
                namespace=meta.namespace,
                patch_type="strategic",
                subresource="status",
            ),
        )

    async def drain(self) -> None:
        """Wait for the writes under way (tests and shutdown)."""
        await self._events.drain()
