"""What ``kframe bench density`` observes: pods reaching Running and Leases renewed, by watch,
and the process's own memory and CPU.

:class:`PodStartupWatch` follows upstream's pod startup SLI (density and clusterloader2's
PodStartupLatency): a pod has started when a watch observes it Running, and its latency runs
from its creation. :class:`LeaseWatch` sees each node's heartbeat as the node lifecycle
controller would, through a watch of ``kube-node-lease``, and keeps the gaps between renewals.
Both read the raw watch objects (phase, nodeName, renewTime) without decoding pods.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import gc
import math
import time
from collections.abc import Mapping
from typing import Any

from kframe.api.models import Lease, Pod
from kframe.client import Client

__all__ = ["GcPauses", "LeaseWatch", "PodStartupWatch", "rss_kib"]


def _parse_time(text: str | None) -> float | None:
    if not text:
        return None
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class PodStartupWatch:
    """Per pod of one namespace: when a watch saw it bound, and Running.

    Times are ``time.perf_counter()``; ``created_wall`` holds each pod's creationTimestamp
    (whole seconds, as the API serves it) and ``seen_wall`` the wall clock of the Running
    observation, for upstream's SLI.
    """

    def __init__(self, client: Client, namespace: str, expected: int) -> None:
        self._client = client
        self._namespace = namespace
        self.expected = expected
        self.bound: dict[str, float] = {}
        self.running: dict[str, float] = {}
        self.created_wall: dict[str, float] = {}
        self.seen_wall: dict[str, float] = {}
        self.done = asyncio.Event()
        self.ready = asyncio.Event()
        if expected == 0:
            self.done.set()

    def _observe(self, obj: Mapping[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        name = meta.get("name")
        if not name or name in self.running:
            return
        now = time.perf_counter()
        if name not in self.bound and (obj.get("spec") or {}).get("nodeName"):
            self.bound[name] = now
        if (obj.get("status") or {}).get("phase") == "Running":
            self.bound.setdefault(name, now)
            self.running[name] = now
            self.seen_wall[name] = time.time()
            created = _parse_time(meta.get("creationTimestamp"))
            if created is not None:
                self.created_wall[name] = created
            if len(self.running) >= self.expected:
                self.done.set()

    async def run(self) -> None:
        """Watch from now until cancelled (set ``ready`` once the watch is open)."""
        page = await self._client.list(Pod, namespace=self._namespace, limit=1)
        events = self._client.watch(
            Pod, namespace=self._namespace, resource_version=page.resource_version
        )
        self.ready.set()
        async for event in events:
            if event.type in ("ADDED", "MODIFIED") and event.raw:
                self._observe(event.raw)


class LeaseWatch:
    """Renewals of every Lease in ``kube-node-lease`` as a watch sees them.

    Between :meth:`open_window` and :meth:`close_window` it counts renewals, those each node
    owed, and the largest gap between two observed renewals of one node (a node not heard of
    since the window opened counts from its last renewal to the close).
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        self.last: dict[str, float] = {}
        self.renew_time: dict[str, float] = {}
        self.window_open: float | None = None
        self.renewals = 0
        self.max_gap = 0.0
        self._before: dict[str, float] = {}
        self._counts: dict[str, int] = {}
        self.due = 0
        self.behind = 0
        self.ready = asyncio.Event()

    def _observe(self, obj: Mapping[str, Any]) -> None:
        name = (obj.get("metadata") or {}).get("name")
        if not name:
            return
        now = time.perf_counter()
        renewed = _parse_time((obj.get("spec") or {}).get("renewTime"))
        if renewed is not None:
            if self.renew_time.get(name) == renewed:
                return  # another change to the Lease (owner references), not a renewal
            self.renew_time[name] = renewed
        previous = self.last.get(name)
        self.last[name] = now
        if self.window_open is None:
            return
        self.renewals += 1
        self._counts[name] = self._counts.get(name, 0) + 1
        if previous is not None:
            self.max_gap = max(self.max_gap, now - previous)

    def open_window(self) -> None:
        self.window_open = time.perf_counter()
        self.renewals = 0
        self.max_gap = 0.0
        self._before = dict(self.last)
        self._counts = {}

    def close_window(self, interval: float) -> None:
        """Close the window; ``due`` is how many renewals the nodes known at its opening owed
        in it at ``interval`` (the longest the kubelet waits), ``behind`` the nodes short."""
        now = time.perf_counter()
        for seen in self.last.values():
            self.max_gap = max(self.max_gap, now - seen)
        self.due = self.behind = 0
        for name, seen in self._before.items():
            owed = math.floor((now - seen) / interval)
            self.due += owed
            if self._counts.get(name, 0) < owed:
                self.behind += 1
        self.window_open = None

    def fresh(self, within: float) -> int:
        """Nodes whose Lease renewTime is at most ``within`` seconds old (by the wall clock)."""
        now = time.time()
        return sum(1 for t in self.renew_time.values() if now - t <= within)

    async def run(self) -> None:
        page = await self._client.list(Lease, namespace="kube-node-lease")
        for lease in page.items:
            meta = lease.metadata
            spec = lease.spec
            if meta and meta.name and spec and spec.renew_time:
                self.last[meta.name] = time.perf_counter()
                self.renew_time[meta.name] = spec.renew_time.timestamp()
        events = self._client.watch(
            Lease, namespace="kube-node-lease", resource_version=page.resource_version
        )
        self.ready.set()
        async for event in events:
            if event.type in ("ADDED", "MODIFIED") and event.raw:
                self._observe(event.raw)


def rss_kib() -> tuple[int, int]:
    """(VmRSS, VmHWM) of this process in KiB, from /proc (zeros where there is none)."""
    found = {"VmRSS": 0, "VmHWM": 0}
    try:
        with open("/proc/self/status") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key in found:
                    found[key] = int(value.split()[0])
    except OSError:
        pass
    return found["VmRSS"], found["VmHWM"]


class GcPauses:
    """The collector's pauses while installed: everything on the event loop stops for them,
    so a long one shows up in every latency measured across it."""

    def __init__(self) -> None:
        self.count = 0
        self.full = 0
        self.total = 0.0
        self.max = 0.0
        self._start = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
            return
        pause = time.perf_counter() - self._start
        self.count += 1
        self.full += info.get("generation") == 2
        self.total += pause
        self.max = max(self.max, pause)

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def summary(self) -> dict[str, float]:
        return {
            "collections": self.count,
            "full": self.full,
            "total_ms": round(self.total * 1000, 1),
            "max_ms": round(self.max * 1000, 1),
        }
