"""What the scheduler tells users: events and the pod's PodScheduled condition.

Upstream schedule_one.go (handleSchedulingFailure, updatePod) and the event recorder: a
``Scheduled`` Normal event on success, a ``FailedScheduling`` Warning with the FitError message,
and ``PodScheduled=False`` (reason ``Unschedulable`` or ``SchedulerError``) with the same message.
Writes are best effort: a failed write is logged and never stops scheduling.

Events go through client-go's EventCorrelator (see _correlator.py): an object's events beyond
a burst are dropped, similar ones combined, and a repeat patches ``count``, ``lastTimestamp``
and ``message`` of the Event already written instead of creating another, so a pod retried
every backoff shows ``FailedScheduling (x12 over 5m)``. An Event gone meanwhile (its TTL) is
created again with the count so far, as upstream's recordToSink does. Writes for one Event are
made in order: a patch waits for the write before it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from kframe.api import format_time, time_now
from kframe.api.models import Event, EventSource, ObjectMeta, ObjectReference, Pod
from kframe.client import Client

from ._correlator import MAX_CACHE, EventCorrelator

__all__ = ["Recorder"]

log = logging.getLogger("kframe.scheduler")


class _Written:
    """The Event written for a correlation key, and the last write, which the next waits for."""

    __slots__ = ("event", "write")

    def __init__(self, event: Event) -> None:
        self.event = event
        self.write: asyncio.Task[None] | None = None


def _not_found(exc: Exception) -> bool:
    return getattr(exc, "code", None) == 404


class Recorder:
    def __init__(
        self, client: Client | None, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._tasks: set[asyncio.Task[None]] = set()
        self._monotonic = monotonic
        self._correlator = EventCorrelator()
        self._written: OrderedDict[tuple[str, ...], _Written] = OrderedDict()

    def _spawn(self, what: str, coro: Awaitable[Any]) -> asyncio.Task[None]:
        async def run() -> None:
            try:
                await coro
            except Exception as exc:  # best effort: the pod's fate does not depend on it
                log.warning("scheduler: %s failed: %s", what, exc)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def event(self, pod: Pod, profile: str, type_: str, reason: str, message: str) -> None:
        if self._client is None:
            return
        meta = pod.metadata
        assert meta is not None
        obj = ("Pod", meta.namespace or "", meta.name or "", meta.uid or "", "v1")
        c = self._correlator.correlate(profile, obj, type_, reason, message, self._monotonic())
        if c is None:
            return  # spam
        what = f"recording event {reason} for pod {meta.namespace}/{meta.name}"
        written = self._written.get(c.key)
        if written is not None and c.count > 1:
            self._written.move_to_end(c.key)
            written.write = self._spawn(
                what, self._bump(written, c.count, c.message, written.write)
            )
            return
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
            message=c.message,
            type=type_,
            source=EventSource(component=profile),
            reporting_component=profile,
            first_timestamp=now,
            last_timestamp=now,
            count=c.count,
        )
        written = self._written[c.key] = _Written(event)
        self._written.move_to_end(c.key)
        while len(self._written) > MAX_CACHE:
            self._written.popitem(last=False)
        written.write = self._spawn(what, self._client.create(event, namespace=meta.namespace))

    async def _bump(
        self, written: _Written, count: int, message: str, before: asyncio.Task[None] | None
    ) -> None:
        """count, lastTimestamp and message on the Event already written (after the write
        before it)."""
        assert self._client is not None
        if before is not None:
            await asyncio.wait([before])
        meta = written.event.metadata
        assert meta is not None
        now = time_now()
        try:
            await self._client.patch(
                Event,
                meta.name or "",
                {"count": count, "lastTimestamp": format_time(now), "message": message},
                namespace=meta.namespace,
                patch_type="strategic",
            )
        except Exception as exc:
            if not _not_found(exc):
                raise
            # Gone (the Events TTL, or the create failed): written anew, with the count so far.
            again = attrs.evolve(written.event, count=count, last_timestamp=now, message=message)
            await self._client.create(again, namespace=meta.namespace)

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
