"""The kubelet's events (``kubectl describe pod``): Pulling, Pulled, Created, Started, Killing,
BackOff, Failed, and admission rejections, with upstream's reasons and messages.

As client-go's recorder with its correlator: a repeat of the same event for the same object
(same reason, message and field path) bumps ``count`` and ``lastTimestamp`` of the first one
instead of creating another. Writes are best effort and never hold up a pod's sync.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from kframe.api import format_time, from_dict
from kframe.api.models import Event, Pod
from kframe.client import Client, Clock

__all__ = ["EventRecorder"]

log = logging.getLogger("kframe.kubelet")

# Aggregated events remembered per kubelet (upstream's LRU holds 4096).
_CACHE = 4096


class EventRecorder:
    def __init__(self, client: Client, clock: Clock, node_name: str) -> None:
        self._client = client
        self._clock = clock
        self._node = node_name
        self._seen: dict[tuple[str, str, str, str], tuple[str, int]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.enabled = True

    def event(self, pod: Pod, type_: str, reason: str, message: str, container: str = "") -> None:
        if not self.enabled:
            return
        meta, spec = pod.metadata, pod.spec
        assert meta is not None and spec is not None
        field_path = ""
        if container:
            init = any(c.name == container for c in spec.init_containers)
            field_path = f"spec.{'initContainers' if init else 'containers'}{{{container}}}"
        key = (meta.uid or "", reason, message, field_path)
        now = format_time(self._clock.wall())
        seen = self._seen.get(key)
        if seen is not None:
            name, count = seen
            self._seen[key] = (name, count + 1)
            self._spawn(self._bump(meta.namespace or "default", name, count + 1, now))
            return
        if len(self._seen) >= _CACHE:
            self._seen.pop(next(iter(self._seen)))
        name = f"{meta.name}.{secrets.token_hex(8)}"
        self._seen[key] = (name, 1)
        involved: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "name": meta.name,
            "namespace": meta.namespace,
            "uid": meta.uid,
        }
        if field_path:
            involved["fieldPath"] = field_path
        body = {
            "metadata": {"name": name, "namespace": meta.namespace},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "type": type_,
            "source": {"component": "kubelet", "host": self._node},
            "reportingComponent": "kubelet",
            "reportingInstance": self._node,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        self._spawn(self._client.create(from_dict(body, Event), namespace=meta.namespace))

    async def _bump(self, namespace: str, name: str, count: int, now: str) -> None:
        await self._client.patch(
            Event,
            name,
            {"count": count, "lastTimestamp": now},
            namespace=namespace,
            patch_type="merge",
        )

    def forget(self, uid: str) -> None:
        for key in [k for k in self._seen if k[0] == uid]:
            del self._seen[key]

    def _spawn(self, coro: Any) -> None:
        async def run() -> None:
            try:
                await coro
            except Exception as exc:
                log.debug("kubelet %s: recording an event: %s", self._node, exc)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
