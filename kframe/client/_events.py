"""Recording Events about objects, as client-go's ``tools/record`` recorder with its correlator.

A component says ``recorder.event(obj, "Normal", "SuccessfulCreate", "Created pod: web-x")``;
the recorder fills in the involved object (kind, apiVersion, name, namespace, uid,
resourceVersion) and the source (``component``, as upstream's ``deployment-controller``,
``default-scheduler``), and writes the Event in the background.

Events go through the :class:`~kframe.client._event_correlator.EventCorrelator`: an object's
events beyond a burst are dropped, similar ones combined, and a repeat patches ``count``,
``lastTimestamp`` and ``message`` of the Event already written instead of creating another, so
``kubectl describe`` shows ``FailedCreate (x12 over 5m)``. An Event gone meanwhile (its TTL) is
created again with the count so far, as upstream's recordToSink does. Writes for one Event are
made in order: a patch waits for the write before it. Writes are best effort: a failure is
logged and never reaches the caller.
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
from kframe.api.models import Event, EventSource, ObjectMeta, ObjectReference
from kframe.client._event_correlator import MAX_CACHE, EventCorrelator
from kframe.client._interface import Client

__all__ = ["EVENT_TYPES", "EventRecorder"]

log = logging.getLogger("kframe.client.events")

#: The types upstream accepts (``util.ValidateEventType``); others are logged and dropped.
EVENT_TYPES = ("Normal", "Warning")


class _Written:
    """The Event written for a correlation key, and the last write, which the next waits for."""

    __slots__ = ("event", "write")

    def __init__(self, event: Event) -> None:
        self.event = event
        self.write: asyncio.Task[None] | None = None


def _not_found(exc: Exception) -> bool:
    return getattr(exc, "code", None) == 404


class EventRecorder:
    """Records Events from one ``component`` (the source every Event names unless a call says
    otherwise). ``client`` None records nothing. ``monotonic`` is the clock of the correlator's
    spam filter and aggregation windows (seconds; a test passes a fake one)."""

    def __init__(
        self,
        client: Client | None,
        component: str,
        *,
        host: str = "",
        monotonic: Callable[[], float] = time.monotonic,
        logger: logging.Logger | None = None,
    ) -> None:
        self._client = client
        self.component = component
        self.host = host
        self._monotonic = monotonic
        self._log = logger or log
        self._tasks: set[asyncio.Task[None]] = set()
        self._correlator = EventCorrelator()
        self._written: OrderedDict[tuple[str, ...], _Written] = OrderedDict()

    def _spawn(self, what: str, coro: Awaitable[Any]) -> asyncio.Task[None]:
        async def run() -> None:
            try:
                await coro
            except Exception as exc:  # best effort: nothing depends on an Event
                self._log.warning("%s: %s failed: %s", self.component, what, exc)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def event(
        self,
        obj: Any,
        type_: str,
        reason: str,
        message: str,
        *,
        component: str = "",
        field_path: str = "",
    ) -> None:
        """Record that ``reason`` happened to ``obj`` (an API object with ``metadata``).

        ``component`` overrides the recorder's source (the scheduler names each profile);
        ``field_path`` points into the object (``spec.containers{web}``)."""
        if self._client is None:
            return
        if type_ not in EVENT_TYPES:
            self._log.error(
                "%s: unsupported event type %r (reason %s)", self.component, type_, reason
            )
            return
        meta = getattr(obj, "metadata", None)
        if meta is None or not meta.name:
            self._log.error("%s: event %s about an object without a name", self.component, reason)
            return
        kind = getattr(obj, "KIND", None) or type(obj).__name__
        api_version = getattr(obj, "API_VERSION", None) or ""
        source = component or self.component
        # Cluster-scoped objects' Events live in "default", as upstream's recorder puts them.
        namespace = meta.namespace or "default"
        key_source = (
            source if not (self.host or field_path) else f"{source}/{self.host}/{field_path}"
        )
        involved = (kind, meta.namespace or "", meta.name or "", meta.uid or "", api_version)
        now_m = self._monotonic()
        c = self._correlator.correlate(key_source, involved, type_, reason, message, now_m)
        if c is None:
            return  # spam
        what = f"recording event {reason} for {kind.lower()} {namespace}/{meta.name}"
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
            metadata=ObjectMeta(name=f"{meta.name}.{secrets.token_hex(8)}", namespace=namespace),
            involved_object=ObjectReference(
                api_version=api_version or None,
                kind=kind,
                name=meta.name,
                namespace=meta.namespace,
                uid=meta.uid,
                resource_version=meta.resource_version,
                field_path=field_path or None,
            ),
            reason=reason,
            message=c.message,
            type=type_,
            source=EventSource(component=source, host=self.host or None),
            reporting_component=source,
            reporting_instance=self.host or None,
            first_timestamp=now,
            last_timestamp=now,
            count=c.count,
        )
        written = self._written[c.key] = _Written(event)
        self._written.move_to_end(c.key)
        while len(self._written) > MAX_CACHE:
            self._written.popitem(last=False)
        written.write = self._spawn(what, self._client.create(event, namespace=namespace))

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

    def spawn(self, what: str, coro: Awaitable[Any]) -> None:
        """Run another best-effort write beside the Events (drained with them)."""
        self._spawn(what, coro)

    async def drain(self) -> None:
        """Wait for the writes under way (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
