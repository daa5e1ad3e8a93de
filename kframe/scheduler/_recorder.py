"""What the scheduler tells users: events and the pod's PodScheduled condition.

Upstream schedule_one.go (handleSchedulingFailure, updatePod) and the event recorder: a
``Scheduled`` Normal event on success, a ``FailedScheduling`` Warning with the FitError message,
and ``PodScheduled=False`` (reason ``Unschedulable`` or ``SchedulerError``) with the same message.
Writes are best effort: a failed write is logged and never stops scheduling.

Repeats are counted on the first Event, as client-go's EventCorrelator does (tools/record
events_cache.go): the same source, involved object, type, reason and message seen again within
10 minutes patches ``count`` and ``lastTimestamp`` of the Event already written instead of
creating another, so a pod retried every backoff shows ``FailedScheduling (x12 over 5m)``. An
Event gone meanwhile (its TTL) is created again with the count so far. Writes for one Event are
made in order: a patch waits for the create before it.
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

__all__ = ["Recorder"]

log = logging.getLogger("kframe.scheduler")

# Upstream's defaultAggregateIntervalInSeconds and maxLruCacheEntries.
AGGREGATE_INTERVAL = 600.0
MAX_REMEMBERED = 4096

# source, involved object (kind, namespace, name, uid, apiVersion), type, reason, message:
# client-go's getEventKey.
_Key = tuple[str, str, str, str, str, str, str, str, str]


class _Seen:
    """An Event written for a key: its name, the count so far, when it was first and last seen
    (monotonic), and the last write, which the next one waits for."""

    __slots__ = ("count", "event", "last", "write")

    def __init__(self, event: Event, now: float) -> None:
        self.event = event
        self.count = 1
        self.last = now
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
        self._seen: OrderedDict[_Key, _Seen] = OrderedDict()

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
        key: _Key = (
            profile,
            "Pod",
            meta.namespace or "",
            meta.name or "",
            meta.uid or "",
            "v1",
            type_,
            reason,
            message,
        )
        mono = self._monotonic()
        seen = self._seen.get(key)
        what = f"recording event {reason} for pod {meta.namespace}/{meta.name}"
        if seen is not None and mono - seen.last <= AGGREGATE_INTERVAL:
            seen.count += 1
            seen.last = mono
            self._seen.move_to_end(key)
            seen.write = self._spawn(what, self._bump(seen, seen.count, seen.write))
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
            message=message,
            type=type_,
            source=EventSource(component=profile),
            reporting_component=profile,
            first_timestamp=now,
            last_timestamp=now,
            count=1,
        )
        seen = self._seen[key] = _Seen(event, mono)
        self._seen.move_to_end(key)
        while len(self._seen) > MAX_REMEMBERED:
            self._seen.popitem(last=False)
        seen.write = self._spawn(what, self._client.create(event, namespace=meta.namespace))

    async def _bump(self, seen: _Seen, count: int, before: asyncio.Task[None] | None) -> None:
        """count and lastTimestamp on the Event already written (after the write before)."""
        assert self._client is not None
        if before is not None:
            await asyncio.wait([before])
        meta = seen.event.metadata
        assert meta is not None
        now = time_now()
        try:
            await self._client.patch(
                Event,
                meta.name or "",
                {"count": count, "lastTimestamp": format_time(now)},
                namespace=meta.namespace,
                patch_type="strategic",
            )
        except Exception as exc:
            if not _not_found(exc):
                raise
            # Gone (the Events TTL, or the create failed): written anew, with the count so far.
            again = attrs.evolve(seen.event, count=count, last_timestamp=now)
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
