"""What the scheduler tells users: events and the pod's PodScheduled condition.

Upstream schedule_one.go (handleSchedulingFailure, updatePod) and the event recorder: a
``Scheduled`` Normal event on success, a ``FailedScheduling`` Warning with the FitError message,
and ``PodScheduled=False`` (reason ``Unschedulable`` or ``SchedulerError``) with the same message.
Writes are best effort: a failed write is logged and never stops scheduling.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from kframe.api import format_time, time_now
from kframe.api.models import Event, EventSource, ObjectMeta, ObjectReference, Pod
from kframe.client import Client

__all__ = ["Recorder"]

log = logging.getLogger("kframe.scheduler")


class Recorder:
    def __init__(self, client: Client | None) -> None:
        self._client = client
        self._tasks: set[asyncio.Task[None]] = set()

    def _spawn(self, what: str, coro: object) -> None:
        async def run() -> None:
            try:
                await coro  # type: ignore[misc]
            except Exception as exc:  # best effort: the pod's fate does not depend on it
                log.warning("scheduler: %s failed: %s", what, exc)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def event(self, pod: Pod, profile: str, type_: str, reason: str, message: str) -> None:
        if self._client is None:
            return
        meta = pod.metadata
        assert meta is not None
        now = time_now()
        event = Event(
            # Upstream's event names: the object's name and a unique hexadecimal suffix.
            metadata=ObjectMeta(
                name=f"{meta.name}.{secrets.token_hex(8)}", namespace=meta.namespace
            ),
            involved_object=ObjectReference(
                api_version="v1",
                kind="Pod",
                name=meta.name,
                namespace=meta.namespace,
                uid=meta.uid,
                resource_version=meta.resource_version,
            ),
            reason=reason,
            message=message,
            type=type_,
            source=EventSource(component=profile),
            reporting_component=profile,
            first_timestamp=now,
            last_timestamp=now,
            count=1,
        )
        self._spawn(
            f"recording event {reason} for pod {meta.namespace}/{meta.name}",
            self._client.create(event, namespace=meta.namespace),
        )

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
        self._spawn(
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
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
