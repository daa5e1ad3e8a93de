"""Pods held by Permit plugins until all of them allow (upstream runtime/waiting_pods_map.go).

A Permit plugin that answers ``Wait`` gets the pod into :class:`WaitingPods`; other code (often
the same plugin on a later pod, as in gang scheduling) calls :meth:`WaitingPod.allow` or
:meth:`WaitingPod.reject`. A plugin that neither allows nor rejects in time rejects by timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from kframe.api.models import Pod

from ._status import Code, Status

__all__ = ["WaitingPod", "WaitingPods"]


def _uid(pod: Pod) -> str:
    meta = pod.metadata
    return (meta.uid or f"{meta.namespace}/{meta.name}") if meta else ""


class WaitingPod:
    def __init__(self, pod: Pod, timeouts: dict[str, float]) -> None:
        self.pod = pod
        self._pending = dict(timeouts)
        self._result: Status | None = None
        self._done = False
        self._future: asyncio.Future[Status | None] | None = None
        self._timers: list[asyncio.TimerHandle] = []

    @property
    def uid(self) -> str:
        return _uid(self.pod)

    @property
    def pending_plugins(self) -> list[str]:
        return sorted(self._pending)

    def allow(self, plugin: str) -> None:
        """``plugin`` lets the pod go; when no plugin is still waiting, binding goes on."""
        self._pending.pop(plugin, None)
        if not self._pending:
            self._finish(None)

    def reject(self, plugin: str, message: str) -> None:
        self._finish(Status(Code.UNSCHEDULABLE, message, plugin=plugin))

    def _finish(self, status: Status | None) -> None:
        if self._done:
            return
        self._done = True
        self._result = status
        for timer in self._timers:
            timer.cancel()
        if self._future is not None and not self._future.done():
            self._future.set_result(status)

    async def wait(self) -> Status | None:
        """None once allowed; the rejection (or the timeout's) otherwise."""
        if self._done:
            return self._result
        loop = asyncio.get_running_loop()
        self._future = loop.create_future()
        for plugin, timeout in self._pending.items():
            message = f"rejected due to timeout after waiting {timeout:g}s at plugin {plugin}"
            self._timers.append(loop.call_later(timeout, self.reject, plugin, message))
        return await self._future


class WaitingPods:
    def __init__(self) -> None:
        self._by_uid: dict[str, WaitingPod] = {}

    def add(self, waiting: WaitingPod) -> None:
        self._by_uid[waiting.uid] = waiting

    def remove(self, waiting: WaitingPod) -> None:
        if self._by_uid.get(waiting.uid) is waiting:
            del self._by_uid[waiting.uid]

    def get(self, uid: str) -> WaitingPod | None:
        return self._by_uid.get(uid)

    def get_for(self, pod: Pod) -> WaitingPod | None:
        return self._by_uid.get(_uid(pod))

    def __iter__(self) -> Iterator[WaitingPod]:
        return iter(list(self._by_uid.values()))
